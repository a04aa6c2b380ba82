#include "fleet/replay_server.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace herald::test {

namespace {

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string serialize(const RecordedResponse& response) {
  std::string out = response.status_line + "\r\n";
  bool chunked = false;
  for (const auto& [name, value] : response.headers) {
    out += name + ": " + value + "\r\n";
    chunked = chunked || (lower(name) == "transfer-encoding" && value == "chunked");
  }
  out += "\r\n";
  if (!chunked) {
    return out + response.body;
  }
  // Go writes its 2 KiB buffer as one chunk; several chunks exercise the client's de-chunking.
  constexpr std::size_t k_chunk = 2048;
  for (std::size_t at = 0; at < response.body.size(); at += k_chunk) {
    std::string piece = response.body.substr(at, k_chunk);
    char size[16];
    std::snprintf(size, sizeof(size), "%zx\r\n", piece.size());
    out += size + piece + "\r\n";
  }
  return out + "0\r\n\r\n";
}

} // namespace

std::string ReplayServer::Received::header(const std::string& name) const {
  std::string wanted = lower(name) + ":";
  for (const std::string& line : headers) {
    if (lower(line.substr(0, wanted.size())) == wanted) {
      std::string value = line.substr(wanted.size());
      value.erase(0, value.find_first_not_of(' '));
      return value;
    }
  }
  return {};
}

ReplayServer::ReplayServer() : m_path(m_dir.file("fleet.sock")) {
  m_listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, m_path.c_str(), sizeof(addr.sun_path) - 1);
  if (m_listen_fd < 0 || ::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) ||
      ::listen(m_listen_fd, 16) != 0) {
    throw std::runtime_error("replay server: cannot listen on " + m_path);
  }
  m_thread = std::thread([this] { serve(); });
}

ReplayServer::~ReplayServer() {
  m_stop = true;
  ::shutdown(m_listen_fd, SHUT_RDWR);
  m_thread.join();
  ::close(m_listen_fd);
}

void ReplayServer::answer_with(const std::string& name) {
  RecordedResponse response = recorded_response(name);
  std::lock_guard lock(m_mutex);
  m_answers.push_back(std::move(response));
}

std::vector<ReplayServer::Received> ReplayServer::received() const {
  std::lock_guard lock(m_mutex);
  return m_received;
}

std::size_t ReplayServer::pending() const {
  std::lock_guard lock(m_mutex);
  return m_answers.size();
}

void ReplayServer::serve() {
  while (!m_stop) {
    pollfd p{m_listen_fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      continue;
    }
    int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    serve_connection(fd);
    ::close(fd);
  }
}

void ReplayServer::serve_connection(int fd) {
  std::string buffer;
  while (!m_stop) {
    // One request: the head up to the blank line, then Content-Length bytes of body.
    std::size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) < 0) {
        return;
      }
      if (m_stop) {
        return;
      }
      if ((p.revents & (POLLIN | POLLHUP)) == 0) {
        continue;
      }
      char chunk[4096];
      ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        return;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    Received request;
    std::string head = buffer.substr(0, head_end);
    buffer.erase(0, head_end + 4);
    std::size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    request.method = request_line.substr(0, request_line.find(' '));
    std::size_t target_start = request_line.find(' ') + 1;
    request.target = request_line.substr(target_start, request_line.rfind(' ') - target_start);
    std::size_t length = 0;
    for (std::size_t at = line_end; at != std::string::npos && at < head.size();) {
      std::size_t next = head.find("\r\n", at + 2);
      std::string line =
          head.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
      request.headers.push_back(line);
      if (lower(line).rfind("content-length:", 0) == 0) {
        length = std::stoul(line.substr(15));
      }
      at = next;
    }
    while (buffer.size() < length) {
      char chunk[4096];
      ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        return;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    request.body = buffer.substr(0, length);
    buffer.erase(0, length);

    std::optional<RecordedResponse> answer;
    {
      std::lock_guard lock(m_mutex);
      m_received.push_back(request);
      if (!m_answers.empty()) {
        answer = std::move(m_answers.front());
        m_answers.pop_front();
      }
    }
    if (!answer) {
      write_all(fd, "HTTP/1.1 599 Unexpected\r\nContent-Length: 0\r\n\r\n");
      continue;
    }
    if (answer->status == 0) {
      return; // fleetd's panic: the connection closes without an answer
    }
    if (!write_all(fd, serialize(*answer))) {
      return;
    }
  }
}

} // namespace herald::test
