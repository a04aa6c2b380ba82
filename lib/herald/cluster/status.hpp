#pragma once

// `cluster status`: per app, what the file wants against what runs and what the router sees.

#include "herald/cluster/apply.hpp"
#include "herald/cluster/spec.hpp"
#include "herald/scheduler/scheduler.hpp"

#include <optional>
#include <string>
#include <vector>

namespace herald::cluster {

/// One instance as the scheduler and the registry see it.
struct InstanceStatus {
  scheduler::Instance instance;
  bool current = false;            ///< made from the file's spec (its stamp hash matches)
  bool registered = false;         ///< the registry has it
  bool healthy = false;            ///< ... passing, with a valid address: routable
  std::optional<HostPort> address; ///< where the router sends it (registry), else nullopt
};

/// One app.
struct AppStatus {
  std::string app;
  bool in_file = false;
  int desired = 0; ///< instances the file asks for (0 when not in it)
  int running = 0;
  int current = 0;
  int registered = 0;
  int healthy = 0;
  std::vector<InstanceStatus> instances; ///< sorted by instance number

  /// True when the app is as the file says: desired instances, all current and healthy.
  bool settled() const;
};

/// The status of the file's apps (in file order, each even when nothing runs) and of the apps
/// that run but are not in the file; `cluster` may be null (no file: what runs). `apps`
/// narrows it (empty = all). `routes` is asked once per app.
std::vector<AppStatus> cluster_status(const ClusterSpec* cluster,
                                      const std::vector<scheduler::Instance>& existing,
                                      RouteView& routes, const std::vector<std::string>& apps = {});

} // namespace herald::cluster
