#include "herald/cluster/launch.hpp"

#include "herald/cluster/hash.hpp"
#include "herald/cluster/plan.hpp"
#include "herald/core/error.hpp"
#include "herald/core/name.hpp"
#include "herald/core/strings.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace herald::cluster {

namespace {

std::string file_of(const ClusterSpec& cluster) {
  return cluster.source.empty() ? std::string("the cluster file") : cluster.source;
}

} // namespace

LaunchResult launch_app(const ClusterSpec& cluster, const std::string& app,
                        scheduler::Scheduler& scheduler, RouteView& routes,
                        const ApplyOptions& options, bool wait) {
  std::string app_name = app;
  std::string instance;
  if (std::size_t at = app.find('@'); at != std::string::npos) {
    InstanceName name = parse_instance_name(app);
    app_name = name.app;
    instance = name.instance;
  }
  std::optional<AppSpec> spec = cluster.launchable(app_name);
  if (!spec) {
    const AppSpec* declared = cluster.app(app_name);
    throw Error(ErrorKind::usage,
                declared != nullptr
                    ? fmt::format("{} runs app {} with cluster up, not on demand: mark it "
                                  "on_demand: true to launch it",
                                  file_of(cluster), herald::quoted(app_name))
                    : fmt::format("{} has no app {} to launch: add it with on_demand: true, or "
                                  "an app template such as name: \"{{name}}\"",
                                  file_of(cluster), herald::quoted(app_name)));
  }
  LaunchResult result;
  result.app = app_name;
  std::vector<scheduler::Instance> existing = scheduler.list(app_name);
  auto serving = [&](const std::vector<registry::Instance>& now) {
    if (instance.empty()) {
      return !now.empty();
    }
    return std::any_of(existing.begin(), existing.end(), [&](const scheduler::Instance& i) {
      return i.instance == instance && i.state == scheduler::State::running &&
             std::any_of(now.begin(), now.end(),
                         [&](const registry::Instance& r) { return same_instance(r, i); });
    });
  };
  result.routes = routes.routable(app_name);
  if (serving(result.routes)) {
    result.already = true;
    return result;
  }

  ClusterSpec one = cluster;
  spec->on_demand = false; // from here on an app like any other
  one.apps = {*spec};
  one.routers.clear();
  one.units.clear();
  Plan plan;
  if (instance.empty()) {
    PlanOptions only;
    only.apps = {app_name};
    only.prune = false;
    plan = make_plan(one, existing, only);
    // Launching makes what is missing; an outdated instance is `cluster up`'s to replace.
    for (AppPlan& entry : plan.apps) {
      std::erase_if(entry.changes, [](const Change& c) { return c.action == Action::remove; });
    }
  } else {
    AppPlan entry;
    entry.app = app_name;
    entry.spec = *spec;
    entry.desired = spec->instances;
    entry.stamp = instance_stamp(*spec);
    Change change;
    change.name = InstanceName{app_name, instance};
    change.image_after = spec->image;
    auto have = std::find_if(existing.begin(), existing.end(),
                             [&](const scheduler::Instance& i) { return i.instance == instance; });
    if (have == existing.end()) {
      change.action = Action::create;
      change.reason = "launched";
    } else if (stamp_hash(have->spec_hash) == stamp_hash(entry.stamp) &&
               have->state != scheduler::State::failed) {
      change.action = Action::start; // running (waited for) or stopped (started again)
      change.reason = "launched";
      change.image_before = have->image;
      entry.instances.push_back(*have);
    } else {
      // Another spec, or failed: made again under its number (start() replaces it).
      change.action = Action::start;
      change.reason = have->state == scheduler::State::failed ? "failed" : "made from another spec";
      change.image_before = have->image;
      entry.instances.push_back(*have);
    }
    entry.changes.push_back(change);
    plan.apps.push_back(std::move(entry));
  }
  if (!wait) {
    for (const AppPlan& entry : plan.apps) {
      for (const Change& change : entry.changes) {
        if (change.action == Action::create || change.action == Action::start) {
          if (options.progress) {
            options.progress(change.name, "starting " + entry.spec->image);
          }
          scheduler.start(instance_spec(one, *entry.spec, change.name.instance));
          ++result.started;
        }
      }
    }
    result.routes = routes.routable(app_name);
    return result;
  }
  ApplyResult applied = apply(one, plan, scheduler, routes, options);
  result.started = applied.created + applied.started;
  result.routes = routes.routable(app_name);
  return result;
}

int stop_app(const ClusterSpec& cluster, const std::string& app, scheduler::Scheduler& scheduler,
             RouteView& routes, const ApplyOptions& options) {
  AppPlan entry;
  entry.app = app;
  entry.spec = cluster.launchable(app);
  entry.instances = scheduler.list(app);
  if (entry.instances.empty()) {
    return 0;
  }
  for (auto it = entry.instances.rbegin(); it != entry.instances.rend(); ++it) {
    Change change;
    change.action = Action::remove;
    change.name = it->name();
    change.reason = "idle";
    change.image_before = it->image;
    entry.changes.push_back(change);
  }
  Plan plan;
  plan.apps.push_back(std::move(entry));
  return apply(cluster, plan, scheduler, routes, options).removed;
}

} // namespace herald::cluster
