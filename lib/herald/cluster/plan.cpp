#include "herald/cluster/plan.hpp"

#include "herald/cluster/hash.hpp"
#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fmt/format.h>
#include <map>
#include <set>
#include <string>
#include <utility>

namespace herald::cluster {

namespace {

std::optional<std::uint64_t> as_number(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

bool runs(const scheduler::Instance& instance) {
  return instance.state == scheduler::State::running ||
         instance.state == scheduler::State::starting;
}

std::string file_name(const ClusterSpec& cluster) {
  std::string_view source = cluster.source;
  std::size_t slash = source.rfind('/');
  std::string name(slash == std::string_view::npos ? source : source.substr(slash + 1));
  return name.empty() ? "the cluster file" : name;
}

Change change(Action action, const scheduler::Instance& instance, std::string reason) {
  Change out;
  out.action = action;
  out.name = instance.name();
  out.reason = std::move(reason);
  out.image_before = instance.image;
  return out;
}

/// Plans one app of the file against its instances (sorted by instance number).
void plan_app(AppPlan& plan) {
  const AppSpec& app = *plan.spec;
  const std::string hash(stamp_hash(plan.stamp));
  std::vector<const scheduler::Instance*> current;  // made from the file's spec
  std::vector<const scheduler::Instance*> outdated; // made from another, or failed
  for (const scheduler::Instance& instance : plan.instances) {
    bool same = stamp_hash(instance.spec_hash) == hash;
    (same && instance.state != scheduler::State::failed ? current : outdated).push_back(&instance);
  }
  const int desired = app.instances;
  const int existing = static_cast<int>(plan.instances.size());
  auto scale_down = fmt::format("scale down {} -> {}", existing, desired);

  // Too many of the current ones: remove those that do not run, then the highest numbers.
  if (static_cast<int>(current.size()) > desired) {
    std::stable_sort(current.begin(), current.end(),
                     [](const auto* a, const auto* b) { return runs(*a) && !runs(*b); });
    while (static_cast<int>(current.size()) > desired) {
      plan.changes.push_back(change(Action::remove, *current.back(), scale_down));
      current.pop_back();
    }
  }
  // Kept ones that do not run start again.
  std::vector<Change> starts;
  for (const scheduler::Instance* instance : current) {
    if (!runs(*instance)) {
      Change c = change(Action::start, *instance,
                        instance->detail.empty() ? std::string(to_string(instance->state))
                                                 : instance->detail);
      c.image_after = app.image;
      starts.push_back(std::move(c));
    }
  }
  // Outdated ones: replaced while the app needs them (lowest numbers first), removed beyond.
  int room = desired - static_cast<int>(current.size());
  std::vector<Change> replaces;
  std::vector<Change> removes;
  for (const scheduler::Instance* instance : outdated) {
    if (room <= 0) {
      removes.push_back(change(Action::remove, *instance, scale_down));
      continue;
    }
    --room;
    Change c = change(Action::replace, *instance, "");
    c.image_after = app.image;
    if (instance->state == scheduler::State::failed) {
      c.reason = "failed" + (instance->detail.empty() ? "" : ": " + instance->detail);
    } else if (auto fields = changed_fields(instance->spec_hash, app); fields && !fields->empty()) {
      c.fields = *fields;
      c.reason = fmt::format("{} changed", fmt::join(*fields, ", "));
    } else {
      c.reason =
          instance->spec_hash.empty() ? "made without a spec stamp" : "made from another spec";
    }
    replaces.push_back(std::move(c));
  }
  // Missing ones: the lowest numbers nobody uses.
  std::set<std::string> used;
  for (const scheduler::Instance& instance : plan.instances) {
    used.insert(instance.instance);
  }
  std::vector<Change> creates;
  for (std::uint64_t n = 1; room > 0; ++n) {
    std::string number = std::to_string(n);
    if (used.count(number) != 0) {
      continue;
    }
    Change c;
    c.action = Action::create;
    c.name = {app.name, number};
    c.reason = existing == 0 ? fmt::format("new, {} wanted", desired)
                             : fmt::format("scale up {} -> {}", existing, desired);
    c.image_after = app.image;
    creates.push_back(std::move(c));
    --room;
  }
  // The order `up` applies them in: starts and creates first (more capacity), then the rolling
  // replacement, then removals (capacity goes last).
  std::vector<Change> ordered;
  for (auto* group : {&starts, &creates, &replaces, &removes, &plan.changes}) {
    for (Change& c : *group) {
      ordered.push_back(std::move(c));
    }
  }
  plan.changes = std::move(ordered);
}

} // namespace

std::string_view to_string(Action action) {
  switch (action) {
  case Action::create:
    return "create";
  case Action::start:
    return "start";
  case Action::replace:
    return "replace";
  case Action::remove:
    return "remove";
  }
  return "unknown";
}

std::vector<const Change*> AppPlan::of(Action action) const {
  std::vector<const Change*> out;
  for (const Change& c : changes) {
    if (c.action == action) {
      out.push_back(&c);
    }
  }
  return out;
}

bool Plan::empty() const {
  return units.empty() && std::all_of(apps.begin(), apps.end(),
                                      [](const AppPlan& app) { return app.changes.empty(); });
}

int Plan::count_units(Action action) const {
  return static_cast<int>(std::count_if(units.begin(), units.end(),
                                        [&](const UnitChange& c) { return c.action == action; }));
}

int Plan::count(Action action) const {
  int n = 0;
  for (const AppPlan& app : apps) {
    n += static_cast<int>(app.of(action).size());
  }
  return n;
}

std::string Plan::summary() const {
  std::vector<std::string> parts;
  for (Action action : {Action::create, Action::start, Action::replace, Action::remove}) {
    if (int n = count(action); n > 0) {
      parts.push_back(fmt::format("{} to {}", n, to_string(action)));
    }
  }
  for (Action action : {Action::create, Action::start, Action::replace, Action::remove}) {
    if (int n = count_units(action); n > 0) {
      parts.push_back(fmt::format("{} unit{} to {}", n, n == 1 ? "" : "s", to_string(action)));
    }
  }
  return parts.empty() ? "no changes" : fmt::format("{}", fmt::join(parts, ", "));
}

bool instance_number_less(std::string_view a, std::string_view b) {
  auto na = as_number(a);
  auto nb = as_number(b);
  if (na && nb && *na != *nb) {
    return *na < *nb;
  }
  if (na.has_value() != nb.has_value()) {
    return na.has_value(); // numbers before names
  }
  return a < b;
}

Plan make_plan(const ClusterSpec& cluster, const std::vector<scheduler::Instance>& existing,
               const PlanOptions& options) {
  std::map<std::string, std::vector<scheduler::Instance>> running;
  for (const scheduler::Instance& instance : existing) {
    running[instance.app].push_back(instance);
  }
  for (auto& [app, instances] : running) {
    std::sort(instances.begin(), instances.end(), [](const auto& a, const auto& b) {
      return instance_number_less(a.instance, b.instance);
    });
  }
  for (const std::string& name : options.apps) {
    if (cluster.app(name) == nullptr && running.count(name) == 0) {
      throw Error(ErrorKind::usage, fmt::format("no app {} in {} and none runs",
                                                herald::quoted(name), file_name(cluster)));
    }
  }
  auto wanted = [&](const std::string& name) {
    return options.apps.empty() ||
           std::find(options.apps.begin(), options.apps.end(), name) != options.apps.end();
  };

  Plan plan;
  for (const AppSpec& app : cluster.apps) {
    if (!wanted(app.name)) {
      continue;
    }
    AppPlan entry;
    entry.app = app.name;
    entry.spec = app;
    entry.desired = app.instances;
    entry.stamp = instance_stamp(app);
    if (auto it = running.find(app.name); it != running.end()) {
      entry.instances = std::move(it->second);
      running.erase(it);
    }
    plan_app(entry);
    plan.apps.push_back(std::move(entry));
  }
  for (auto& [name, instances] : running) {
    if (!wanted(name) || (!options.prune && options.apps.empty())) {
      continue;
    }
    AppPlan entry;
    entry.app = name;
    entry.instances = std::move(instances);
    std::string reason = fmt::format("not in {}", file_name(cluster));
    for (auto it = entry.instances.rbegin(); it != entry.instances.rend(); ++it) {
      entry.changes.push_back(change(Action::remove, *it, reason));
    }
    plan.apps.push_back(std::move(entry));
  }
  return plan;
}

ClusterSpec effective_spec(const ClusterSpec& cluster,
                           const std::vector<scheduler::Instance>& existing) {
  std::vector<std::string> names;
  for (const scheduler::Instance& instance : existing) {
    names.push_back(instance.app);
  }
  return cluster.with_on_demand(names);
}

scheduler::InstanceSpec instance_spec(const ClusterSpec& cluster, const AppSpec& app,
                                      const std::string& instance) {
  scheduler::InstanceSpec spec;
  spec.app = app.name;
  spec.instance = instance;
  spec.image = app.image;
  spec.container_port = app.port;
  if (cluster.scheduler.kind == SchedulerKind::docker) {
    spec.host_ip = cluster.scheduler.docker.host_ip;
  }
  spec.env = app.environment();
  if (!app.health.path.empty()) {
    scheduler::HealthCheck check;
    check.http_path = app.health.path;
    check.interval = app.health.interval;
    check.timeout = app.health.timeout;
    check.rise = app.health.rise;
    check.fall = app.health.fall;
    spec.health = check;
  }
  if (app.routing == Routing::host) {
    for (const RouterSpec& router : cluster.routers) {
      if (!router.domain.empty()) {
        spec.routing.domain = router.domain;
        break;
      }
    }
  } else if (app.routing == Routing::path) {
    spec.routing.path = app.route_path();
  }
  for (const std::string& alias : app.aliases) {
    spec.routing.tags.push_back("server_alias=" + alias);
  }
  spec.placement.spread = app.placement.spread;
  spec.placement.metadata = app.placement.metadata;
  spec.spec_hash = instance_stamp(app);
  spec.registry_url = cluster.registry.url;
  spec.registry_prefix = cluster.registry.prefix;
  return spec;
}

} // namespace herald::cluster
