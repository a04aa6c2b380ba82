#include "herald/announce/notify.hpp"
#include "support/temp_dir.hpp"

#include <cstdlib>
#include <doctest/doctest.h>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <utility>
#include <vector>

using namespace herald::announce;
using namespace std::chrono_literals;

namespace {

/// Sets environment variables for the life of the object and restores what was there.
class ScopedEnv {
public:
  void set(const char* name, const std::string& value) {
    save(name);
    ::setenv(name, value.c_str(), 1);
  }
  void unset(const char* name) {
    save(name);
    ::unsetenv(name);
  }
  ~ScopedEnv() {
    for (auto it = m_saved.rbegin(); it != m_saved.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }

private:
  void save(const char* name) {
    const char* old = std::getenv(name);
    m_saved.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> m_saved;
};

/// A unix datagram socket standing in for systemd's notification socket.
class NotifySocket {
public:
  explicit NotifySocket(const std::string& path) : m_path(path) {
    m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(m_fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof(addr.sun_path));
    path.copy(addr.sun_path, path.size());
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~NotifySocket() { ::close(m_fd); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  /// The next datagram, or nullopt when none arrives within `timeout`.
  std::optional<std::string> receive(std::chrono::milliseconds timeout = 1000ms) {
    pollfd pfd{m_fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) {
      return std::nullopt;
    }
    char buffer[4096];
    auto n = ::recv(m_fd, buffer, sizeof(buffer), 0);
    if (n < 0) {
      return std::nullopt;
    }
    return std::string(buffer, static_cast<std::size_t>(n));
  }

private:
  std::string m_path;
  int m_fd = -1;
};

} // namespace

TEST_SUITE_BEGIN("announce");

TEST_CASE("the notifier stays silent without NOTIFY_SOCKET") {
  ScopedEnv env;
  env.unset("NOTIFY_SOCKET");
  env.set("WATCHDOG_USEC", "1000000");
  Notifier notifier;
  CHECK_FALSE(notifier.enabled());
  CHECK_FALSE(notifier.watchdog_interval().has_value());
  notifier.ready("registered"); // does nothing, and must not fail
  notifier.watchdog();
}

TEST_CASE("the notifier sends READY, STATUS changes, WATCHDOG and STOPPING to NOTIFY_SOCKET") {
  herald::test::TempDir dir;
  NotifySocket socket(dir.file("notify"));
  ScopedEnv env;
  env.set("NOTIFY_SOCKET", dir.file("notify"));
  env.unset("WATCHDOG_USEC");
  env.unset("WATCHDOG_PID");
  Notifier notifier;
  REQUIRE(notifier.enabled());
  CHECK_FALSE(notifier.watchdog_interval().has_value());

  notifier.ready("registered web@1");
  CHECK(socket.receive() == std::optional<std::string>("READY=1\nSTATUS=registered web@1"));
  notifier.ready("registered web@1"); // READY is sent once; an unchanged status is not resent
  notifier.status("registry lost");
  CHECK(socket.receive() == std::optional<std::string>("STATUS=registry lost"));
  notifier.status("registry lost");
  notifier.watchdog();
  CHECK(socket.receive() == std::optional<std::string>("WATCHDOG=1"));
  notifier.stopping("stopping");
  CHECK(socket.receive() == std::optional<std::string>("STOPPING=1\nSTATUS=stopping"));
  CHECK_FALSE(socket.receive(50ms).has_value());
}

TEST_CASE("the watchdog period is half of WATCHDOG_USEC when it is meant for this process") {
  herald::test::TempDir dir;
  NotifySocket socket(dir.file("notify"));
  ScopedEnv env;
  env.set("NOTIFY_SOCKET", dir.file("notify"));
  env.set("WATCHDOG_USEC", "200000");
  env.set("WATCHDOG_PID", std::to_string(::getpid()));
  CHECK(Notifier().watchdog_interval() == std::optional<std::chrono::milliseconds>(100ms));
  env.set("WATCHDOG_PID", "1"); // inherited from another process: not ours
  CHECK_FALSE(Notifier().watchdog_interval().has_value());
}

TEST_SUITE_END();
