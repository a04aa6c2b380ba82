#pragma once

// A deliberately dumb HTTP/1.1 client for the launcher's tests: it sends exactly the bytes it is
// given (NUL, bare CR, oversized headers included), which a real client library refuses to.

#include <arpa/inet.h>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>

namespace herald::test {

/// One answer as received.
struct RawResponse {
  int status = 0;                             ///< 0 when the connection ended without an answer
  std::map<std::string, std::string> headers; ///< names in lower case
  std::string body;
  std::string raw; ///< everything read

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

/// A connected TCP socket to 127.0.0.1:port, closed on destruction.
class RawConnection {
public:
  explicit RawConnection(std::uint16_t port) {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(m_fd);
      m_fd = -1;
    }
  }
  ~RawConnection() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return m_fd >= 0; }

  /// Sends all of `bytes` (false when the server closed first).
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      auto n = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// Reads until the server closes or `timeout` passes; true when it closed.
  bool read_all(std::string& out, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char buffer[16384];
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return false;
      }
      pollfd fds{m_fd, POLLIN, 0};
      if (::poll(&fds, 1, static_cast<int>(left.count())) <= 0) {
        continue;
      }
      auto n = ::recv(m_fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        return true;
      }
      out.append(buffer, static_cast<std::size_t>(n));
    }
  }

private:
  int m_fd = -1;
};

/// The first answer in `raw`.
inline RawResponse parse_response(const std::string& raw) {
  RawResponse r;
  r.raw = raw;
  auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos || raw.size() < 12) {
    return r;
  }
  r.status = std::stoi(raw.substr(9, 3));
  std::size_t pos = raw.find("\r\n") + 2;
  while (pos < head_end) {
    auto end = raw.find("\r\n", pos);
    auto line = raw.substr(pos, end - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
    }
    pos = end + 2;
  }
  r.body = raw.substr(head_end + 4);
  if (auto length = r.header("content-length"); !length.empty()) {
    r.body = r.body.substr(0, std::stoul(length));
  }
  return r;
}

/// Sends `bytes` on a new connection and returns the first answer (read until the server
/// closes: send "Connection: close").
inline RawResponse exchange(std::uint16_t port, std::string_view bytes,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  RawConnection connection(port);
  if (!connection.connected()) {
    return {};
  }
  connection.send(bytes);
  std::string raw;
  connection.read_all(raw, timeout);
  return parse_response(raw);
}

/// A GET of `target` with `accept`, closing the connection after the answer.
inline std::string get_request(std::string_view target, std::string_view accept = "*/*",
                               std::string_view extra_headers = "") {
  std::string r = "GET ";
  r.append(target).append(" HTTP/1.1\r\nHost: launcher\r\nAccept: ");
  r.append(accept).append("\r\n").append(extra_headers).append("Connection: close\r\n\r\n");
  return r;
}

} // namespace herald::test
