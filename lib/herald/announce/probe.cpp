#include "herald/announce/probe.hpp"

#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"
#include "herald/http/client.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace herald::announce {

namespace {

using Clock = std::chrono::steady_clock;

/// Owns a socket descriptor.
class UniqueFd {
public:
  explicit UniqueFd(int fd) : m_fd(fd) {}
  ~UniqueFd() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return m_fd; }

private:
  int m_fd;
};

/// Owns a getaddrinfo() result.
struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { ::freeaddrinfo(ai); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

class HttpProbe final : public Probe {
public:
  HttpProbe(std::string url, http::Endpoint endpoint, std::string path,
            std::chrono::milliseconds timeout, const StopToken* stop)
      : m_url(std::move(url)), m_path(std::move(path)),
        m_client({std::move(endpoint)}, client_options(timeout, stop)) {}

  ProbeResult check() override {
    http::Request request;
    request.path = m_path;
    // Only the status matters: a health endpoint that streams (or is a 500 MB download) must
    // not be read to its end, nor into memory.
    request.max_body = k_probe_body_limit;
    try {
      http::Response response = m_client.send(request);
      if (response.status >= 200 && response.status < 400) {
        return {true, {}};
      }
      return {false, fmt::format("HTTP {} from {}", response.status, m_url)};
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::cancelled) {
        throw;
      }
      return {false, e.what()};
    }
  }

  std::string describe() const override { return m_url; }

private:
  static http::ClientOptions client_options(std::chrono::milliseconds timeout,
                                            const StopToken* stop) {
    http::ClientOptions options;
    options.name = "health check";
    options.connect_timeout = timeout;
    options.request_timeout = timeout;
    options.stop = stop;
    return options;
  }

  std::string m_url;
  std::string m_path;
  http::Client m_client;
};

class TcpProbe final : public Probe {
public:
  TcpProbe(HostPort target, std::chrono::milliseconds timeout, const StopToken* stop)
      : m_target(std::move(target)), m_timeout(timeout), m_stop(stop) {}

  ProbeResult check() override {
    auto deadline = Clock::now() + m_timeout;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    std::string port = std::to_string(m_target.port);
    int rc = ::getaddrinfo(m_target.host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0) {
      return {false, fmt::format("{}: cannot resolve '{}': {}", describe(), m_target.host,
                                 ::gai_strerror(rc))};
    }
    AddrInfoPtr addresses(found);
    std::string failure = "no address";
    for (const addrinfo* ai = addresses.get(); ai != nullptr; ai = ai->ai_next) {
      if (attempt(*ai, deadline, failure)) {
        return {true, {}};
      }
      if (Clock::now() >= deadline) {
        break;
      }
    }
    return {false, fmt::format("{}: {}", describe(), failure)};
  }

  std::string describe() const override { return "tcp " + m_target.str(); }

private:
  /// One non-blocking connect, waiting on the socket and the stop token until `deadline`.
  bool attempt(const addrinfo& ai, Clock::time_point deadline, std::string& failure) const {
    UniqueFd fd(
        ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol));
    if (fd.get() < 0) {
      failure = fmt::format("socket: {}", std::strerror(errno));
      return false;
    }
    if (::connect(fd.get(), ai.ai_addr, ai.ai_addrlen) == 0) {
      return true;
    }
    if (errno != EINPROGRESS) {
      failure = std::strerror(errno);
      return false;
    }
    while (true) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        failure = fmt::format("no answer within {}", format_duration(m_timeout));
        return false;
      }
      pollfd fds[2] = {{fd.get(), POLLOUT, 0}, {m_stop ? m_stop->fd() : -1, POLLIN, 0}};
      int n = ::poll(fds, m_stop ? 2 : 1, static_cast<int>(left.count()));
      if (n < 0 && errno != EINTR) {
        failure = fmt::format("poll: {}", std::strerror(errno));
        return false;
      }
      if (m_stop != nullptr && m_stop->requested()) {
        throw Error(ErrorKind::cancelled, describe() + ": stopped");
      }
      if (n > 0 && fds[0].revents != 0) {
        int error = 0;
        socklen_t len = sizeof(error);
        if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0) {
          error = errno;
        }
        if (error == 0) {
          return true;
        }
        failure = std::strerror(error);
        return false;
      }
    }
  }

  HostPort m_target;
  std::chrono::milliseconds m_timeout;
  const StopToken* m_stop;
};

[[noreturn]] void bad_url(std::string_view url, std::string_view why) {
  throw Error(
      ErrorKind::usage,
      fmt::format("invalid --check-http URL '{}': {}; write http://HOST[:PORT]/PATH", url, why));
}

} // namespace

ProbeSettings parse_probe_settings(std::string_view interval, std::string_view timeout, int rise,
                                   int fall) {
  ProbeSettings settings;
  settings.interval = parse_duration(interval, "--check-interval");
  settings.timeout = parse_duration(timeout, "--check-timeout");
  if (settings.interval.count() <= 0) {
    throw Error(ErrorKind::usage, "--check-interval must be greater than zero (such as 2s)");
  }
  if (settings.timeout.count() <= 0) {
    throw Error(ErrorKind::usage, "--check-timeout must be greater than zero (such as 1s)");
  }
  if (settings.timeout > settings.interval) {
    throw Error(ErrorKind::usage,
                fmt::format("--check-timeout {} is longer than --check-interval {}: a check must "
                            "end before the next one is due",
                            timeout, interval));
  }
  if (rise < 1) {
    throw Error(ErrorKind::usage, fmt::format("--rise {} must be at least 1", rise));
  }
  if (fall < 1) {
    throw Error(ErrorKind::usage, fmt::format("--fall {} must be at least 1", fall));
  }
  settings.rise = rise;
  settings.fall = fall;
  return settings;
}

std::string check_url_for(std::string_view check, const HostPort& address) {
  if (check.starts_with('/')) {
    return "http://" + address.str() + std::string(check);
  }
  return std::string(check);
}

std::unique_ptr<Probe> make_http_probe(std::string_view url, std::chrono::milliseconds timeout,
                                       const StopToken* stop) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos) {
    bad_url(url, "it has no scheme");
  }
  std::string scheme = lower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https") {
    throw Error(ErrorKind::usage,
                fmt::format("--check-http '{}': the {}:// scheme cannot be checked; use an "
                            "http:// or https:// URL, or --check-tcp HOST:PORT",
                            url, scheme));
  }
  std::string_view rest = url.substr(sep + 3);
  auto path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  std::string path =
      path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (!path.empty() && path.front() == '?') {
    path.insert(0, "/");
  }
  if (authority.empty()) {
    bad_url(url, "it has no host");
  }
  if (authority.find('@') != std::string_view::npos) {
    // The text before '@' would be a password; never echo it.
    throw Error(ErrorKind::usage, "--check-http: credentials in the URL are not supported");
  }
  HostPort address;
  bool has_port = authority.front() == '[' ? authority.find("]:") != std::string_view::npos
                                           : authority.find(':') != std::string_view::npos;
  std::string hostport(authority);
  if (!has_port) {
    hostport += scheme == "https" ? ":443" : ":80";
  }
  if (!try_parse_host_port(hostport, address)) {
    bad_url(url, "the host or port is malformed");
  }
  http::Endpoint endpoint;
  endpoint.scheme = scheme;
  endpoint.host = address.host;
  endpoint.port = address.port;
  return std::make_unique<HttpProbe>(std::string(url), std::move(endpoint), std::move(path),
                                     timeout, stop);
}

std::unique_ptr<Probe> make_tcp_probe(std::string_view target, std::chrono::milliseconds timeout,
                                      const StopToken* stop) {
  return std::make_unique<TcpProbe>(parse_host_port(target, "--check-tcp"), timeout, stop);
}

HealthGate::HealthGate(int rise, int fall) : m_rise(std::max(rise, 1)), m_fall(std::max(fall, 1)) {}

std::optional<bool> HealthGate::record(bool passed) {
  if (!m_healthy) {
    m_healthy = passed;
    return m_healthy;
  }
  if (passed == *m_healthy) {
    m_streak = 0;
    return std::nullopt;
  }
  ++m_streak;
  if (m_streak >= (passed ? m_rise : m_fall)) {
    m_healthy = passed;
    m_streak = 0;
    return m_healthy;
  }
  return std::nullopt;
}

} // namespace herald::announce
