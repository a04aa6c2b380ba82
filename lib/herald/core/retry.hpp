#pragma once

#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace herald {

/// How to space the attempts at something that fails for a while (a registry, the Docker daemon,
/// the fleet API): capped exponential backoff with jitter, so that a fleet of sidekicks that lost
/// the same server does not come back at it in lockstep.
struct RetryPolicy {
  std::chrono::milliseconds initial{500}; ///< the first delay (a cap below it wins)
  std::chrono::milliseconds cap{10000};   ///< the longest delay
  double multiplier = 2.0;                ///< growth of the delay per failed attempt (>= 1)
  /// The random part of each delay: it is drawn from [d * (1 - jitter), d]; 0 for none, 0.5 for
  /// [d/2, d].
  double jitter = 0.5;
  /// Failed attempts after which Retry gives up and throws the last error; 0 retries for ever
  /// (the loops of sidekicks and watchers); a one-shot command sets a few.
  int max_attempts = 0;

  /// This policy with its cap lowered to `most` (a refresh period a retry must not outlast).
  RetryPolicy capped_at(std::chrono::milliseconds most) const;
};

/// A number in [0, 1] for each call; the jitter of a delay. Tests inject fixed values.
using RandomFraction = std::function<double()>;
/// The current time for measuring an outage. Tests inject a clock they move.
using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;

/// The sequence of delays of a RetryPolicy: next() is the delay before the next attempt, reset()
/// starts again after a success. For loops that schedule deadlines themselves; loops that just
/// sleep use Retry.
class Backoff {
public:
  /// `random` defaults to a generator seeded from std::random_device.
  explicit Backoff(RetryPolicy policy, RandomFraction random = {});

  /// The delay before the next attempt; each call grows the following one up to the cap.
  std::chrono::milliseconds next();

  /// Sleeps next() on `stop`; true when a stop was requested (at once, not after the delay).
  bool wait(const StopToken& stop);

  /// Starts again from the initial delay (after a success).
  void reset();

  /// The normalised policy in use (initial within [1ms, cap], multiplier >= 1, jitter in [0, 1]).
  const RetryPolicy& policy() const { return m_policy; }

private:
  RetryPolicy m_policy;
  RandomFraction m_random;
  double m_current_ms; ///< the ceiling of the next delay, before jitter
};

/// Logs an outage of one thing as two lines, however many attempts it takes: a warning at the
/// first failure ("registry lost: <error>; retrying") and a line at the first success after it
/// ("registry back after 12s"). The attempts in between log at debug level only. Error text is
/// escaped (escape_control), since it may quote what a server or a registry key holds.
class OutageLog {
public:
  /// `subject` names what is lost ("registry", "docker events"); `meanwhile` says what happens
  /// during the outage ("retrying", "every dest stays as it is until it is back").
  explicit OutageLog(std::string subject, std::string meanwhile = "retrying", SteadyNow now = {});

  /// Records a failed attempt because of `error`; true when it began an outage (and was logged).
  bool failed(std::string_view error);

  /// Records a successful attempt; the outage's length when it ended one (and was logged),
  /// nullopt when all was well already.
  std::optional<std::chrono::milliseconds> recovered();

  /// True between failed() and recovered().
  bool down() const { return m_since.has_value(); }

  /// Failed attempts in the current outage (0 when not down).
  int failures() const { return m_failures; }

  /// What is lost, as given.
  const std::string& subject() const { return m_subject; }

private:
  std::string m_subject;
  std::string m_meanwhile;
  SteadyNow m_now;
  std::optional<std::chrono::steady_clock::time_point> m_since;
  int m_failures = 0;
};

/// Retrying one thing in a loop that sleeps between attempts (a watch, a stream, an HTTP call):
/// a Backoff for the delays and an OutageLog for the two lines. The loop calls succeeded() after
/// each attempt that worked and wait_to_retry() from its catch block:
///
///     Retry retry(policy, OutageLog("registry"));
///     while (!stop.requested()) {
///       try { watch(...); retry.succeeded(); }
///       catch (const Error& e) { if (!retry.wait_to_retry(e, stop)) { return; } }
///     }
class Retry {
public:
  Retry(RetryPolicy policy, OutageLog outage, RandomFraction random = {});

  /// An attempt worked: logs the end of an outage (once) and restarts the backoff.
  void succeeded();

  /// An attempt failed with `error`; call it from the catch block. Returns false when the caller
  /// should stop instead (a cancelled request, a stop requested before or during the wait);
  /// rethrows what retrying cannot fix and, once policy().max_attempts attempts failed, the last
  /// error (the exception being handled, so a subclass keeps its type); otherwise logs the
  /// outage's first failure, sleeps the next delay and returns true.
  bool wait_to_retry(const Error& error, const StopToken& stop);

  /// The same for a failure that is no exception (a stream the server closed); `reason` is
  /// logged as the error. False when a stop was requested or the attempts are used up.
  bool wait_to_retry(std::string_view reason, const StopToken& stop);

  /// Calls `attempt` until it returns, retrying its retryable errors; returns what it returned.
  /// Throws the errors retrying cannot fix as they are, the last error once policy().max_attempts
  /// attempts failed, and Error(cancelled) when a stop is requested while it waits.
  template <typename Attempt>
  std::invoke_result_t<Attempt&> call(const StopToken& stop, Attempt&& attempt);

  /// True while an outage lasts.
  bool down() const { return m_outage.down(); }

  /// The outage's state (failures so far, the subject).
  const OutageLog& outage() const { return m_outage; }
  /// The normalised policy in use.
  const RetryPolicy& policy() const { return m_backoff.policy(); }

private:
  /// What call() throws when wait_to_retry() says stop: `error` itself unless it is retryable,
  /// else Error(cancelled).
  [[noreturn]] static void throw_stopped(const Error& error);
  /// True when one more failure uses up policy().max_attempts.
  bool gives_up_now() const;

  Backoff m_backoff;
  OutageLog m_outage;
};

template <typename Attempt>
std::invoke_result_t<Attempt&> Retry::call(const StopToken& stop, Attempt&& attempt) {
  for (;;) {
    try {
      if constexpr (std::is_void_v<std::invoke_result_t<Attempt&>>) {
        attempt();
        succeeded();
        return;
      } else {
        auto result = attempt();
        succeeded();
        return result;
      }
    } catch (const Error& e) {
      if (!wait_to_retry(e, stop)) {
        throw_stopped(e);
      }
    }
  }
}

} // namespace herald
