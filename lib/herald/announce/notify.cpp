#include "herald/announce/notify.hpp"

#include <cstdlib>
#include <dlfcn.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <type_traits>

namespace herald::announce {

namespace {

constexpr const char* k_library = "libsystemd.so.0";

// The header from libsystemd-dev types the symbols we look up, so a signature change in a future
// libsystemd breaks the build rather than the call.
using SdNotify = decltype(&::sd_notify);
using SdWatchdogEnabled = decltype(&::sd_watchdog_enabled);
static_assert(std::is_same_v<SdNotify, int (*)(int, const char*)>);

} // namespace

Notifier::Notifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  if (socket == nullptr || *socket == '\0') {
    return;
  }
  m_library = ::dlopen(k_library, RTLD_NOW | RTLD_LOCAL);
  if (m_library == nullptr) {
    const char* why = ::dlerror();
    spdlog::warn("NOTIFY_SOCKET is set but {} cannot be loaded ({}); not notifying systemd",
                 k_library, why != nullptr ? why : "unknown error");
    return;
  }
  m_notify = reinterpret_cast<SdNotify>(::dlsym(m_library, "sd_notify"));
  auto watchdog_enabled =
      reinterpret_cast<SdWatchdogEnabled>(::dlsym(m_library, "sd_watchdog_enabled"));
  if (m_notify == nullptr) {
    spdlog::warn("{} has no sd_notify; not notifying systemd", k_library);
    return;
  }
  std::uint64_t usec = 0;
  // sd_watchdog_enabled checks WATCHDOG_PID too, so a variable inherited from a parent unit is
  // not mistaken for ours.
  if (watchdog_enabled != nullptr && watchdog_enabled(0, &usec) > 0 && usec > 0) {
    m_watchdog = std::max(
        std::chrono::milliseconds(1),
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::microseconds(usec / 2)));
  }
}

Notifier::~Notifier() {
  if (m_library != nullptr) {
    ::dlclose(m_library);
  }
}

void Notifier::ready(std::string_view status) {
  if (m_ready) {
    this->status(status);
    return;
  }
  m_ready = true;
  m_status = std::string(status);
  send(fmt::format("READY=1\nSTATUS={}", status));
}

void Notifier::status(std::string_view status) {
  if (status == m_status) {
    return;
  }
  m_status = std::string(status);
  send(fmt::format("STATUS={}", status));
}

void Notifier::watchdog() {
  send("WATCHDOG=1");
}

void Notifier::stopping(std::string_view status) {
  m_status = std::string(status);
  send(fmt::format("STOPPING=1\nSTATUS={}", status));
}

void Notifier::send(const std::string& state) {
  if (m_notify == nullptr) {
    return;
  }
  // A failure to notify must never stop the sidekick: systemd sees it through its own timeouts.
  int rc = m_notify(0, state.c_str());
  if (rc < 0) {
    spdlog::debug("sd_notify failed: {}", rc);
  }
}

} // namespace herald::announce
