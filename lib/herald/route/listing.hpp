#pragma once

#include "herald/registry/registry.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace herald::route {

/// What `route ls` shows at one moment: the instances the router sees, and what is odd about them.
struct Listing {
  std::string backend;                       ///< "etcd3", "etcd2", "consul", "memory"
  std::vector<registry::Instance> instances; ///< sorted by app, then instance
  std::vector<std::string> missing_apps;     ///< apps asked for by name that have no instance
  std::size_t malformed = 0;                 ///< instances whose value is not an address
};

/// Reads the instances `query` selects. Without query.include_unhealthy, instances that are
/// warning or critical are left out (only passing and health-less ones are routable); malformed
/// values are kept (shown flagged) and counted.
Listing list_routes(registry::Registry& registry, const registry::InstanceQuery& query);

/// True when two listings show the same routes, ignoring the TTL left (which changes every
/// second and is no reason to reprint a watched table).
bool same_routes(const Listing& a, const Listing& b);

} // namespace herald::route
