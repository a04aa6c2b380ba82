#pragma once

#include <atomic>
#include <chrono>

namespace herald {

/// A one-way "please stop" flag that loops can sleep on. request() is async-signal-safe, so a
/// SIGTERM/SIGINT handler can set it; wait_for() wakes at once when it is set. Cheap to poll
/// from a libcurl progress callback.
class StopToken {
public:
  StopToken();
  ~StopToken();
  StopToken(const StopToken&) = delete;
  StopToken& operator=(const StopToken&) = delete;

  /// Asks every waiter to stop; `signal` records why (0 when not from a signal).
  void request(int signal = 0) noexcept;

  /// True once request() was called.
  bool requested() const noexcept { return m_requested.load(std::memory_order_acquire); }

  /// The signal that asked to stop, or 0.
  int signal() const noexcept { return m_signal.load(std::memory_order_acquire); }

  /// Sleeps up to `timeout`; returns true (early) when a stop was requested.
  bool wait_for(std::chrono::milliseconds timeout) const;

  /// A descriptor that becomes readable once a stop is requested, for poll().
  int fd() const noexcept { return m_pipe[0]; }

private:
  std::atomic<bool> m_requested{false};
  std::atomic<int> m_signal{0};
  int m_pipe[2] = {-1, -1};
};

/// Routes SIGTERM, SIGINT and SIGHUP to `token` (and ignores SIGPIPE) for the life of the process.
/// Installing again re-targets the handlers.
void install_stop_signals(StopToken& token);

} // namespace herald
