#include "herald/route/listing.hpp"

#include <algorithm>

namespace herald::route {

namespace {

bool routable(const registry::Instance& instance) {
  return instance.health == registry::Instance::Health::passing ||
         instance.health == registry::Instance::Health::unknown;
}

bool same_instance(const registry::Instance& a, const registry::Instance& b) {
  return a.app == b.app && a.instance == b.instance && a.key == b.key && a.value == b.value &&
         a.address == b.address && a.health == b.health && a.tags == b.tags && a.meta == b.meta &&
         a.node == b.node;
}

} // namespace

Listing list_routes(registry::Registry& registry, const registry::InstanceQuery& query) {
  Listing listing;
  listing.backend = std::string(registry.backend());
  listing.instances = registry.instances(query);
  if (!query.include_unhealthy) {
    // Backends that know health already filter; this keeps the rule true for every backend.
    std::erase_if(listing.instances, [](const registry::Instance& i) { return !routable(i); });
  }
  for (const auto& instance : listing.instances) {
    if (!instance.address) {
      ++listing.malformed;
    }
  }
  for (const auto& app : query.apps) {
    bool found = std::any_of(listing.instances.begin(), listing.instances.end(),
                             [&](const registry::Instance& i) { return i.app == app; });
    bool listed_already = std::find(listing.missing_apps.begin(), listing.missing_apps.end(),
                                    app) != listing.missing_apps.end();
    if (!found && !listed_already) {
      listing.missing_apps.push_back(app);
    }
  }
  return listing;
}

bool same_routes(const Listing& a, const Listing& b) {
  return a.backend == b.backend &&
         std::equal(a.instances.begin(), a.instances.end(), b.instances.begin(), b.instances.end(),
                    same_instance);
}

} // namespace herald::route
