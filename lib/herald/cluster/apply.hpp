#pragma once

// Applying a plan: `cluster up`. Capacity first, a rolling replacement that withdraws before
// it stops, removals last. An instance counts as up when the scheduler runs it **and** the
// router can see it (registered, passing its health check: what `route ls` shows); one that
// does not get there stops the rollout, naming it with its last log lines, and the old
// instances keep serving.

#include "herald/cluster/plan.hpp"
#include "herald/core/stop.hpp"
#include "herald/registry/registry.hpp"
#include "herald/scheduler/scheduler.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::cluster {

/// What the router sees of an app.
class RouteView {
public:
  virtual ~RouteView() = default;
  /// Every registration of `app`, passing or not.
  virtual std::vector<registry::Instance> registered(std::string_view app) = 0;
  /// The registrations of `app` the router would route to: passing, with a valid address.
  std::vector<registry::Instance> routable(std::string_view app);
};

/// A RouteView over a registry and a key prefix (registry::Registry::instances()).
class RegistryRoutes final : public RouteView {
public:
  /// `registry` must outlive this object; `prefix` "" is the default layout root.
  RegistryRoutes(registry::Registry& registry, std::string prefix);
  std::vector<registry::Instance> registered(std::string_view app) override;

private:
  registry::Registry& m_registry;
  std::string m_prefix;
};

/// True when `route` is routable: passing, with an address.
bool routable(const registry::Instance& route);

/// True when `route` is how the router sees scheduler instance `instance`: the same APP@N (a
/// sidekick's key), or a registrator's registration of its container (meta herald.container).
bool same_instance(const registry::Instance& route, const scheduler::Instance& instance);

/// How apply() proceeds.
struct ApplyOptions {
  /// How long one instance may take to run and become routable, and a withdrawn one to leave
  /// the router's view.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  /// How often the scheduler and the registry are looked at while waiting.
  std::chrono::milliseconds poll{std::chrono::milliseconds(500)};
  /// Log lines quoted when an instance fails.
  std::size_t log_lines = 10;
  /// SIGTERM -> SIGKILL grace when an instance is stopped.
  std::chrono::seconds stop_grace{10};
  /// Each step, as it happens: (instance, what): "starting web:v2", "running", "routable at
  /// 127.0.0.1:32768", "withdrawn", "draining 5s", "stopped", "removed".
  std::function<void(const InstanceName&, const std::string&)> progress;
  /// The same for the units beside the instances (unit name, what): "submitting",
  /// "running on 3 machine(s)", "removed".
  std::function<void(const std::string&, const std::string&)> unit_progress;
  /// Stops the rollout between steps (Error(cancelled)); what is done stays done.
  const StopToken* stop = nullptr;
};

/// What apply() did.
struct ApplyResult {
  int created = 0;
  int started = 0;
  int replaced = 0;
  int removed = 0;
  int units_changed = 0; ///< units created, started or replaced
  int units_removed = 0;
};

/// Applies `plan` (from make_plan() of `cluster`) through `scheduler`, watching `routes`:
/// 0. the units beside the instances (plan.units): extra units first (an image registry the
///    instances pull from), then the routers (a router without instances is harmless and routes
///    the new instances as soon as they register); each submitted, then waited for until it
///    runs wherever it should;
/// 1. starts and creates: all at once, then waits until each is routable;
/// 2. replaces, per app in steps of max_surge + max_unavailable old instances: the
///    max_unavailable part is withdrawn, drained, stopped and made again under its number; the
///    max_surge part gets new instances under free numbers; when the step's new instances are
///    routable (and stayed so for min_ready), the old ones left are withdrawn, drained (the
///    app's drain time, once per step), stopped and removed;
/// 3. removes: withdrawn, drained, stopped, removed; then the units the file no longer has
///    (routers before extra units).
/// A new instance that fails or is not routable within the timeout is Error(failed) naming it,
/// its state and its last log lines, withdrawn and stopped (not removed: its logs stay); the
/// instances it would have replaced still serve.
ApplyResult apply(const ClusterSpec& cluster, const Plan& plan, scheduler::Scheduler& scheduler,
                  RouteView& routes, const ApplyOptions& options = {});

} // namespace herald::cluster
