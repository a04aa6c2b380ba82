#pragma once

#include "herald/core/name.hpp"
#include "herald/core/stop.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace herald::announce {

/// The outcome of one health check.
struct ProbeResult {
  bool passed = false;
  std::string detail; ///< why it failed ("HTTP 503 from http://...", "connection refused")
};

/// A health check of the announced service, run once per --check-interval.
class Probe {
public:
  virtual ~Probe() = default;
  /// Runs one check within its timeout. Never throws for a failing service; throws
  /// Error(cancelled) only when the stop token fires mid-check.
  virtual ProbeResult check() = 0;
  /// What is checked, for logs: "http://127.0.0.1:3000/health", "tcp 127.0.0.1:3000".
  virtual std::string describe() const = 0;
};

/// --check-interval, --check-timeout, --rise and --fall. The defaults are haproxy's (inter 2s,
/// rise 2, fall 3) with a 1s timeout so a check always ends well before the next one is due.
struct ProbeSettings {
  std::chrono::milliseconds interval{2000};
  std::chrono::milliseconds timeout{1000};
  int rise = 2; ///< consecutive passes that bring a withdrawn instance back
  int fall = 3; ///< consecutive failures that withdraw it
};

/// Validates the probe flags as typed: durations greater than zero, a timeout no longer than the
/// interval, rise and fall at least 1. Error(usage) names the flag.
ProbeSettings parse_probe_settings(std::string_view interval, std::string_view timeout, int rise,
                                   int fall);

/// How much of a health endpoint's body an HTTP probe reads before it ends the transfer: only the
/// status counts.
inline constexpr std::size_t k_probe_body_limit = 4096;

/// The URL --check-http means for an instance announced at `address`: `check` itself when it is
/// a URL, or http://ADDRESS`check` when it is a path ("/health"), so that a sidekick whose port
/// is only known at run time (Docker publishes it) checks what it announces.
std::string check_url_for(std::string_view check, const HostPort& address);

/// An HTTP(S) GET of `url` through its own herald::http::Client; 2xx and 3xx pass (redirects are
/// not followed), and the body is read up to k_probe_body_limit only. Any scheme but http/https,
/// or a malformed URL, is Error(usage) naming it.
std::unique_ptr<Probe> make_http_probe(std::string_view url, std::chrono::milliseconds timeout,
                                       const StopToken* stop = nullptr);

/// A TCP connect to `target` ("HOST:PORT") with a non-blocking connect bounded by `timeout`.
/// A malformed target is Error(usage).
std::unique_ptr<Probe> make_tcp_probe(std::string_view target, std::chrono::milliseconds timeout,
                                      const StopToken* stop = nullptr);

/// Turns single results into a verdict the way haproxy's rise/fall counters do: the first result
/// decides at once (so a healthy service is announced without waiting), after that it takes
/// `fall` consecutive failures to go down and `rise` consecutive passes to come back.
class HealthGate {
public:
  HealthGate(int rise, int fall);

  /// Feeds one result; returns the new verdict when it changed (including the first one).
  std::optional<bool> record(bool passed);

  /// The current verdict; nullopt before the first result.
  std::optional<bool> healthy() const { return m_healthy; }

private:
  int m_rise;
  int m_fall;
  int m_streak = 0; ///< consecutive results that disagree with the verdict
  std::optional<bool> m_healthy;
};

} // namespace herald::announce
