#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace herald::announce {

/// Tells systemd how a Type=notify sidekick is doing: READY=1, STATUS=..., WATCHDOG=1,
/// STOPPING=1. It does nothing unless NOTIFY_SOCKET is set, and only then loads libsystemd
/// (dlopen of libsystemd.so.0): linking it would add seven shared libraries, and their start-up
/// cost, to every one-shot herald command.
class Notifier {
public:
  /// Reads NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID from the environment.
  Notifier();
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  /// True when messages go to systemd.
  bool enabled() const { return m_notify != nullptr; }

  /// How often watchdog() must be called (half of WATCHDOG_USEC), when systemd asked for it.
  std::optional<std::chrono::milliseconds> watchdog_interval() const { return m_watchdog; }

  /// READY=1 with a STATUS= line; later calls only update the status.
  void ready(std::string_view status);
  /// STATUS=... when it differs from the last one sent.
  void status(std::string_view status);
  /// WATCHDOG=1.
  void watchdog();
  /// STOPPING=1 with a STATUS= line.
  void stopping(std::string_view status);

private:
  using NotifyFn = int (*)(int, const char*);
  void send(const std::string& state);

  void* m_library = nullptr;
  NotifyFn m_notify = nullptr;
  std::optional<std::chrono::milliseconds> m_watchdog;
  bool m_ready = false;
  std::string m_status;
};

} // namespace herald::announce
