#include "herald/docker/errors.hpp"

#include "herald/docker/model.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace herald::docker {

namespace {

ErrorKind kind_for_status(long status) {
  if (status == 401 || status == 403) {
    return ErrorKind::config;
  }
  if (status == 404) {
    return ErrorKind::not_found;
  }
  if (status == 408 || status == 429 || status >= 500) {
    return ErrorKind::temporary;
  }
  return ErrorKind::data;
}

/// Closes a descriptor when it goes out of scope.
class FdCloser {
public:
  explicit FdCloser(int fd) : m_fd(fd) {}
  ~FdCloser() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

private:
  int m_fd;
};

std::string not_running(const std::string& path, std::string_view why) {
  return fmt::format("the Docker daemon is not running: {} {} (start it with 'systemctl start "
                     "docker', or point DOCKER_HOST at a running daemon)",
                     path, why);
}

} // namespace

Error response_error(std::string_view method, std::string_view path, long status,
                     std::string_view body, std::string_view container) {
  std::string message = error_message(body);
  if (status == 404 && message.starts_with("No such container")) {
    std::string name(container);
    if (name.empty()) {
      auto colon = message.find(':');
      name = colon == std::string::npos ? std::string() : message.substr(colon + 2);
    }
    return Error(ErrorKind::not_found, fmt::format("no such container '{}'", name));
  }
  if (status == 404 && message.starts_with("No such image")) {
    return Error(
        ErrorKind::not_found,
        fmt::format("{}: Docker does not pull images on create; pull or build it first", message));
  }
  if (status == 400 && message.starts_with("client version ")) {
    return Error(ErrorKind::config,
                 fmt::format("the Docker daemon refused the API version: {} (unset "
                             "DOCKER_API_VERSION to let herald negotiate)",
                             message));
  }
  if (message.empty()) {
    message = "(no message)";
  }
  return Error(kind_for_status(status),
               fmt::format("docker: {} {}: HTTP {}: {}", method, path, status, message));
}

std::optional<Error> unix_socket_problem(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == EACCES) {
      return Error(ErrorKind::config,
                   fmt::format("permission denied on {}: add the user to the docker group "
                               "(usermod -aG docker USER, then log in again) or run as root",
                               path));
    }
    return Error(ErrorKind::unavailable, not_running(path, "does not exist"));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Error(ErrorKind::config,
                 fmt::format("{} is not a socket: set DOCKER_HOST to the Docker daemon's socket "
                             "(unix:///var/run/docker.sock)",
                             path));
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return Error(ErrorKind::config,
                 fmt::format("the socket path {} is too long for a unix socket", path));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return std::nullopt;
  }
  FdCloser closer(fd);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
    return std::nullopt;
  }
  int err = errno;
  if (err == EACCES || err == EPERM) {
    return Error(ErrorKind::config,
                 fmt::format("permission denied on {}: add the user to the docker group "
                             "(usermod -aG docker USER, then log in again) or run as root",
                             path));
  }
  if (err == ECONNREFUSED || err == ENOENT) {
    return Error(ErrorKind::unavailable, not_running(path, "refuses connections"));
  }
  return Error(ErrorKind::unavailable, fmt::format("cannot connect to the Docker daemon at {}: {}",
                                                   path, std::strerror(err)));
}

} // namespace herald::docker
