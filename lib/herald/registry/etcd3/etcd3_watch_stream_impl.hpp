#pragma once

// The etcd3 backend's kept-open watch stream; private to registry/etcd3/.

#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/http/client.hpp"
#include "herald/registry/registry.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace herald::registry::etcd3 {

/// A kept-open watch stream is renewed after this long, as the one-request watches were after
/// the loop's watch_timeout: a connection that died without a FIN or RST is noticed, and a client
/// of several endpoints returns to the one the other requests use.
inline constexpr std::chrono::milliseconds k_stream_lifetime{60000};

/// An eventfd the stream thread signals and the waiting caller polls beside its stop token.
class WakeFd {
public:
  WakeFd();
  ~WakeFd();
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;

  int fd() const { return m_fd; }
  void signal() const;
  void drain() const;

private:
  int m_fd;
};

/// How a watch stream ended, for Etcd3Registry::watch() to judge in the caller's thread.
struct StreamEnd {
  http::Response response;           ///< the gateway's answer (a non-2xx status has a body)
  std::optional<std::string> ended;  ///< why the server ended the watch without events
  std::optional<Error> malformed;    ///< a line that was not a watch message
  std::optional<Error> failure;      ///< what http::Client::stream() threw
  std::int64_t compact_revision = 0; ///< > 0: the start revision was compacted (resync)
};

/// One POST /v3/watch kept open on a connection and a thread of its own across
/// Etcd3Registry::watch() calls, so that changes made while the caller renders are already
/// queued when it asks again. A watch created per call cost a new connection and gateway stream
/// each time and, when a change landed before the new watch existed, up to 100 ms more: etcd
/// serves a watch that starts in the past from a catch-up loop that runs every 100 ms.
class WatchStream {
public:
  /// Starts `request` (the watch creation) on `endpoints`; events under `prefix` (read as a
  /// directory) are queued for take().
  WatchStream(std::vector<http::Endpoint> endpoints, http::ClientOptions options,
              std::string prefix, http::Request request, std::int64_t after_index);
  ~WatchStream();
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  const std::string& prefix() const { return m_prefix; }
  /// The index of the last event handed out (the after_index a continuing caller passes).
  std::int64_t delivered() const { return m_delivered; }
  std::chrono::steady_clock::time_point started() const { return m_started; }

  /// Waits until events are queued or the stream ended (true), or until `deadline` passes
  /// (false). Throws Error(cancelled) when `stop` fires.
  bool wait(std::chrono::steady_clock::time_point deadline, const StopToken* stop);

  /// Hands out the queued events (in order); the batch index is the newest of them.
  WatchBatch take(std::int64_t after_index);

  /// How the stream ended, once it did and every event before the end was handed out.
  std::optional<StreamEnd> end();

private:
  void run(const http::Request& request);

  const std::string m_prefix;
  std::int64_t m_delivered; ///< caller's thread only
  std::chrono::steady_clock::time_point m_started;
  StopToken m_cancel; ///< ends the stream when this is destroyed
  WakeFd m_wake;
  std::unique_ptr<http::Client> m_client; ///< used by the stream thread only
  std::mutex m_mutex;                     ///< guards m_events and m_end
  std::vector<Event> m_events;
  std::optional<StreamEnd> m_end;
  std::thread m_thread; ///< declared last: started once all else exists
};

} // namespace herald::registry::etcd3
