#include "herald/docker/events.hpp"

#include "herald/core/error.hpp"

#include <exception>

namespace herald::docker {

namespace {

std::string event_key(const Event& event) {
  return event.type + '\n' + event.actor_id + '\n' + event.action;
}

} // namespace

bool EventCursor::advance(const Event& event) {
  if (event.time_nano < m_last) {
    return false;
  }
  if (event.time_nano > m_last) {
    m_last = event.time_nano;
    m_at_last.clear();
  }
  return m_at_last.insert(event_key(event)).second;
}

std::optional<std::int64_t> EventCursor::since() const {
  if (m_last == 0) {
    return std::nullopt;
  }
  return m_last;
}

EventFollower::EventFollower(Client& client, EventQuery query, FollowOptions options)
    : m_client(client), m_query(std::move(query)), m_options(options) {}

void EventFollower::run(const StopToken& stop, const EventHandler& on_event,
                        const std::function<void()>& on_reconnect) {
  const std::string daemon = m_client.connection().str();
  Retry retry(m_options.retry, OutageLog("docker events", "reconnecting"));

  // The handler's own failures go to our caller as they are, never mistaken for a lost
  // connection (and retried) below.
  std::exception_ptr handler_failure;
  while (!stop.requested()) {
    try {
      if (retry.down()) {
        // Ping first (a pinned version would skip negotiation), and negotiate again: the daemon
        // may have been upgraded while it was away.
        m_client.ping();
        m_client.reset_api_version();
        m_client.api_version();
        if (on_reconnect) {
          on_reconnect();
        }
        retry.succeeded();
      }
      EventQuery query = m_query;
      if (auto since = m_cursor.since()) {
        query.since_nano = since;
      }
      bool ended_by_handler = false;
      m_client.events(
          query,
          [&](const Event& event) {
            if (!m_cursor.advance(event)) {
              return true;
            }
            try {
              ended_by_handler = !on_event(event);
            } catch (...) {
              handler_failure = std::current_exception();
              ended_by_handler = true;
            }
            return !ended_by_handler;
          },
          &stop);
      if (handler_failure) {
        std::rethrow_exception(handler_failure);
      }
      if (ended_by_handler || m_query.until_nano || stop.requested()) {
        return;
      }
      // A clean end without `until`: the daemon is shutting down (or restarting).
      if (!retry.wait_to_retry(daemon + " closed the stream", stop)) {
        return;
      }
    } catch (const Error& e) {
      if (handler_failure) {
        throw;
      }
      if (!retry.wait_to_retry(e, stop)) {
        return;
      }
    }
  }
}

} // namespace herald::docker
