#pragma once

#include "herald/core/retry.hpp"
#include "herald/core/stop.hpp"
#include "herald/docker/client.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>

namespace herald::docker {

/// Remembers the newest event delivered, so that a reconnect can resume with `since=` and drop
/// what the daemon replays twice (its `since` is inclusive, and several events share a
/// nanosecond only in theory, but replays of the last one are certain).
class EventCursor {
public:
  /// True, and remembered, when `event` is newer than everything seen so far; false for an event
  /// already delivered or older than the newest (a replay).
  bool advance(const Event& event);

  /// The `since` for the next request: the newest event's time (ns); nullopt before any event.
  std::optional<std::int64_t> since() const;

private:
  std::int64_t m_last = 0;
  std::set<std::string> m_at_last; ///< events already delivered at exactly m_last
};

/// How EventFollower waits between reconnection attempts.
struct FollowOptions {
  /// Sooner and shorter than a registry's: a restarting daemon is back within seconds.
  RetryPolicy retry{std::chrono::milliseconds(100), std::chrono::seconds(5)};
};

/// Follows the `/events` stream across daemon restarts: when the stream ends or the daemon stops
/// answering it retries with capped, jittered backoff, renegotiates the API version, tells the
/// caller (`on_reconnect`, the moment to resync by listing containers, since events during the
/// outage are gone) and resumes with `since=` the last event's time, delivering each event once.
/// One log line when the stream is lost and one when it is back (OutageLog).
class EventFollower {
public:
  /// Follows `query` (its `since_nano`, if any, applies to the first request) through `client`.
  EventFollower(Client& client, EventQuery query, FollowOptions options = {});

  /// Delivers events until `stop` is requested (then returns normally, also from an idle
  /// stream), `on_event` returns false, or the query's `until` passes. Errors that retrying
  /// cannot fix (bad filters, permission denied, API too old) are thrown; `on_reconnect`'s
  /// retryable errors are retried like a lost connection.
  void run(const StopToken& stop, const EventHandler& on_event,
           const std::function<void()>& on_reconnect = {});

  /// Where a later run() resumes.
  const EventCursor& cursor() const { return m_cursor; }

private:
  Client& m_client;
  EventQuery m_query;
  FollowOptions m_options;
  EventCursor m_cursor;
};

} // namespace herald::docker
