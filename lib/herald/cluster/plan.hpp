#pragma once

// The plan: what `cluster up` would change to make what runs match the cluster file. Computed
// from the file and the scheduler's list() alone (state lives in what runs: each instance's
// stamp says what it was made from), so `cluster plan` on two laptops shows the same plan.

#include "herald/cluster/spec.hpp"
#include "herald/scheduler/scheduler.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::cluster {

/// What happens to one instance.
enum class Action {
  create,  ///< a new instance (scale up, a new app)
  start,   ///< an instance made from the file's spec that does not run: start it again
  replace, ///< made from another spec (or failed): a new one replaces it, rolling
  remove   ///< withdrawn, drained, stopped and removed (scale down, an app not in the file)
};

/// "create", "start", "replace", "remove".
std::string_view to_string(Action action);

/// One line of the plan.
struct Change {
  Action action = Action::create;
  /// create: the instance to make; start, replace, remove: the one that exists.
  InstanceName name;
  /// Why, in words: "scale up 2 -> 3", "image, env changed", "failed: exited (1)", "scale down
  /// 3 -> 2", "not in cluster.yaml", "made from another spec" (a stamp without field digests).
  std::string reason;
  /// replace: the fields that changed (as changed_fields() names them), when the stamp says.
  std::vector<std::string> fields;
  std::string image_before; ///< start, replace, remove: the image it runs
  std::string image_after;  ///< create, start, replace: the image the file names
};

/// What a unit of the cluster is for.
enum class UnitRole {
  extra, ///< an entry of `units:`
  router ///< a router's unit or its render unit
};

/// "unit", "router".
std::string_view to_string(UnitRole role);

/// One change of a unit.
struct UnitChange {
  Action action = Action::create; ///< create, start, replace or remove
  std::string name;
  std::string owner;
  UnitRole role = UnitRole::extra;
  bool global = false;
  /// "router herald-router, global", "unit changed", "stopped", "not in cluster.yaml".
  std::string reason;
  /// A unified diff of the unit file the scheduler has (canonical, "/dev/null" for none) to the
  /// one that would be submitted ("/dev/null" for a removal); "" for start.
  std::string diff;
  std::string text; ///< create, start, replace: the unit file to submit
};

/// The plan of one app.
struct AppPlan {
  std::string app;
  /// The app as the file has it; nullopt for an app that runs but is not in the file.
  std::optional<AppSpec> spec;
  int desired = 0;                            ///< instances the file asks for (0: not in it)
  std::vector<scheduler::Instance> instances; ///< what runs now, as list() said
  std::vector<Change> changes;                ///< in the order `up` applies them
  std::string stamp;                          ///< instance_stamp() of the file's spec

  /// The changes of `action`, in order.
  std::vector<const Change*> of(Action action) const;
};

/// The whole plan: the file's apps in file order, then apps that run but are not in the file;
/// and the changes of the units beside them (routers, extra units: cluster/units.hpp).
struct Plan {
  std::vector<AppPlan> apps;
  std::vector<UnitChange> units;

  /// True when nothing would change.
  bool empty() const;
  /// How many instance changes of `action` there are.
  int count(Action action) const;
  /// How many unit changes of `action` there are.
  int count_units(Action action) const;
  /// "2 to create, 3 to replace, 1 to remove" (only the actions present), then the units' as
  /// "1 unit to create"; "no changes".
  std::string summary() const;
};

/// What make_plan() covers.
struct PlanOptions {
  /// Only these apps (empty = every app of the file, and the apps that run but are not in it).
  /// An app neither in the file nor running is Error(usage) naming it.
  std::vector<std::string> apps;
  /// Remove the instances of apps that are not in the file (herald-made ones only: the
  /// scheduler lists nothing else).
  bool prune = true;
};

/// The changes that make `existing` (scheduler::Scheduler::list()) match `cluster`:
/// - an instance whose stamp hash is the file's and that runs is kept; one that exists but does
///   not run (stopped) is started again; a failed one is replaced;
/// - one made from another spec is replaced, lowest instance numbers first, as many as the app
///   keeps; more than the file asks for are removed, outdated ones first, then those that do
///   not run, then the highest numbers;
/// - missing instances are created with the lowest numbers no instance of the app uses.
Plan make_plan(const ClusterSpec& cluster, const std::vector<scheduler::Instance>& existing,
               const PlanOptions& options = {});

/// `cluster` as it applies to `existing` (ClusterSpec::with_on_demand() of the apps that have
/// instances): what make_plan(), apply() and cluster_status() are given.
ClusterSpec effective_spec(const ClusterSpec& cluster,
                           const std::vector<scheduler::Instance>& existing);

/// The instance spec the scheduler runs for instance `instance` of `app` (image, port, env
/// read from env files, health check, routing, placement, the stamp as spec hash, the
/// registry), as `cluster up` starts it.
scheduler::InstanceSpec instance_spec(const ClusterSpec& cluster, const AppSpec& app,
                                      const std::string& instance);

/// Orders instance names numerically when both are numbers ("2" < "10"), else as text.
bool instance_number_less(std::string_view a, std::string_view b);

} // namespace herald::cluster
