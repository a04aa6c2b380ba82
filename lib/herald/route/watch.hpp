#pragma once

#include "herald/core/retry.hpp"
#include "herald/core/stop.hpp"
#include "herald/registry/registry.hpp"
#include "herald/route/listing.hpp"

#include <chrono>
#include <functional>

namespace herald::route {

/// How watch_routes() waits.
struct WatchOptions {
  /// Longest single wait on the registry; a stop request ends it earlier.
  std::chrono::milliseconds max_wait{std::chrono::seconds(30)};
  /// Retries after the registry became unreachable; its cap is also how often a backend that
  /// cannot block (no index) is polled.
  RetryPolicy retry;
};

/// Calls `on_change` with the current listing, then again each time the routes change, until
/// `stop` is requested (then it returns normally). Changes that leave the routes as they were
/// (another app's key, a TTL refresh) call nothing. A registry that becomes unreachable is
/// retried with capped, jittered backoff, one log line when lost and one when back; other errors
/// are thrown.
void watch_routes(registry::Registry& registry, const registry::InstanceQuery& query,
                  const StopToken& stop, const std::function<void(const Listing&)>& on_change,
                  const WatchOptions& options = {});

} // namespace herald::route
