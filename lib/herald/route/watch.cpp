#include "herald/route/watch.hpp"

#include "herald/core/error.hpp"

#include <optional>

namespace herald::route {

void watch_routes(registry::Registry& registry, const registry::InstanceQuery& query,
                  const StopToken& stop, const std::function<void(const Listing&)>& on_change,
                  const WatchOptions& options) {
  std::optional<Listing> shown;
  std::int64_t index = 0;
  Retry retry(options.retry, OutageLog("registry"));
  while (!stop.requested()) {
    try {
      std::int64_t next = registry.wait_instances(query, index, options.max_wait);
      retry.succeeded();
      // index 0 after a loss forces a fresh read: changes made while away are not replayed.
      if (shown && next == index) {
        if (index == 0 && stop.wait_for(retry.policy().cap)) {
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
      index = 0;
      if (!retry.wait_to_retry(e, stop)) {
        return;
      }
    }
  }
}

} // namespace herald::route
