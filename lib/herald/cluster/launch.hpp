#pragma once

// Starting one app of the cluster file on demand: `herald launch APP[@N]` and the launcher's
// start function. The app comes from the file (an app marked on_demand, or a template such as
// `{name}`), runs through the same scheduler and the same rollout as `cluster up`, and counts as
// launched once the router can see it (registered and passing, what `route ls` shows).

#include "herald/cluster/apply.hpp"
#include "herald/cluster/spec.hpp"
#include "herald/registry/registry.hpp"
#include "herald/scheduler/scheduler.hpp"

#include <optional>
#include <string>
#include <vector>

namespace herald::cluster {

/// What launch_app() found or did.
struct LaunchResult {
  std::string app;
  bool already = false;                   ///< it was routable before: nothing was started
  int started = 0;                        ///< instances created or started
  std::vector<registry::Instance> routes; ///< its routable registrations, after
};

/// Launches `app` (an APP, or APP@INSTANCE for that one instance) from `cluster`:
/// - Error(usage) naming the file when the file cannot launch it (neither an on_demand app nor
///   a name a template fits; an app `cluster up` runs is not launched on demand);
/// - already routable (for APP@N: that instance): returns at once with `already`;
/// - otherwise makes what is missing (APP: the app's `instances`, keeping those that exist;
///   APP@N: that instance, made again when it runs another spec or failed) and waits as
///   `cluster up` does (options.timeout, options.progress): Error(failed) naming the instance
///   and its last log lines when it does not get there.
/// The launch policy (`launch:` of the file, --allow) is the caller's to ask first.
/// With `wait` false the missing instances are only handed to the scheduler (`launch --no-wait`):
/// nothing is waited for, and nothing is stopped when it does not come up.
LaunchResult launch_app(const ClusterSpec& cluster, const std::string& app,
                        scheduler::Scheduler& scheduler, RouteView& routes,
                        const ApplyOptions& options = {}, bool wait = true);

/// Takes every instance of `app` away as `cluster down APP` does (withdrawn, drained for the
/// app's drain time, stopped, removed): the launcher's idle expiry. Returns how many went.
int stop_app(const ClusterSpec& cluster, const std::string& app, scheduler::Scheduler& scheduler,
             RouteView& routes, const ApplyOptions& options = {});

} // namespace herald::cluster
