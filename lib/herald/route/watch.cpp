#include "herald/route/watch.hpp"

#include "herald/core/error.hpp"

#include <algorithm>
#include <optional>
#include <spdlog/spdlog.h>

namespace herald::route {

void watch_routes(registry::Registry& registry, const registry::InstanceQuery& query,
                  const StopToken& stop, const std::function<void(const Listing&)>& on_change,
                  const WatchOptions& options) {
  std::optional<Listing> shown;
  std::int64_t index = 0;
  std::chrono::milliseconds retry = options.retry_min;
  bool lost = false;
  while (!stop.requested()) {
    try {
      std::int64_t next = registry.wait_instances(query, index, options.max_wait);
      if (lost) {
        spdlog::info("registry {} is back", registry.describe());
        lost = false;
        retry = options.retry_min;
      }
      // index 0 after a loss forces a fresh read: changes made while away are not replayed.
      if (shown && next == index) {
        if (index == 0 && stop.wait_for(options.retry_max)) {
          return; // a backend without an index cannot block; poll it instead of spinning
        }
        continue;
      }
      index = next;
      Listing listing = list_routes(registry, query);
      if (!shown || !same_routes(*shown, listing)) {
        on_change(listing);
        shown = std::move(listing);
      }
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::cancelled || stop.requested()) {
        return;
      }
      if (!e.retryable()) {
        throw;
      }
      if (!lost) {
        spdlog::warn("lost the registry: {}; retrying", e.what());
        lost = true;
      }
      index = 0;
      if (stop.wait_for(retry)) {
        return;
      }
      retry = std::min(retry * 2, options.retry_max);
    }
  }
}

} // namespace herald::route
