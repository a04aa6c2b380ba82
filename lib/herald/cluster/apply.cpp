#include "herald/cluster/apply.hpp"

#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <set>
#include <thread>
#include <utility>

namespace herald::cluster {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// The longest a new instance is watched after it is routable where registration does not wait
/// for its health check (see settle_time()).
constexpr milliseconds k_max_settle{1000};

constexpr const char* k_container_meta = "herald.container"; // announce/registrator.hpp

/// One rollout: the scheduler, the router's view and the options, with the waits they share.
class Rollout {
public:
  Rollout(const ClusterSpec& cluster, scheduler::Scheduler& scheduler, RouteView& routes,
          const ApplyOptions& options)
      : m_cluster(cluster), m_scheduler(scheduler), m_routes(routes), m_options(options) {}

  ApplyResult result;

  void say(const InstanceName& name, const std::string& what) const {
    if (m_options.progress) {
      m_options.progress(name, what);
    }
  }

  void check_stop() const {
    if (m_options.stop != nullptr && m_options.stop->requested()) {
      throw Error(ErrorKind::cancelled, "cluster up stopped: what is done stays done, run it "
                                        "again to finish");
    }
  }

  /// Sleeps `duration` unless the stop token fires.
  void pause(milliseconds duration) const {
    if (duration.count() <= 0) {
      return;
    }
    if (m_options.stop != nullptr) {
      m_options.stop->wait_for(duration);
      check_stop();
    } else {
      std::this_thread::sleep_for(duration);
    }
  }

  void say_unit(const std::string& unit, const std::string& what) const {
    if (m_options.unit_progress) {
      m_options.unit_progress(unit, what);
    }
  }

  /// Submits the units of `changes` and waits until each runs wherever it should.
  void put_units(const std::vector<const UnitChange*>& changes) {
    for (const UnitChange* change : changes) {
      check_stop();
      say_unit(change->name, change->action == Action::replace ? "replacing" : "submitting");
      m_scheduler.put_unit({change->name, change->text});
      result.units_changed++;
    }
    std::set<std::string> pending;
    for (const UnitChange* change : changes) {
      pending.insert(change->name);
    }
    const auto deadline = Clock::now() + m_options.timeout;
    while (!pending.empty()) {
      check_stop();
      for (const scheduler::UnitInfo& unit : m_scheduler.list_units()) {
        if (pending.count(unit.name) == 0) {
          continue;
        }
        if (unit.state == scheduler::State::failed) {
          throw Error(ErrorKind::failed,
                      fmt::format("{} failed ({}): nothing after it was started",
                                  herald::quoted(unit.name), escape_control(unit.detail)));
        }
        if (unit.state == scheduler::State::running) {
          say_unit(unit.name, escape_control(unit.detail));
          pending.erase(unit.name);
        }
      }
      if (pending.empty()) {
        break;
      }
      if (Clock::now() >= deadline) {
        std::string late = *pending.begin();
        std::string where = "it does not exist";
        for (const scheduler::UnitInfo& unit : m_scheduler.list_units()) {
          if (unit.name == late) {
            where = fmt::format("{}: {}", to_string(unit.state), escape_control(unit.detail));
          }
        }
        throw Error(ErrorKind::failed,
                    fmt::format("{} was not running within {} ({}): nothing after it was started",
                                herald::quoted(late), format_duration(m_options.timeout), where));
      }
      pause(m_options.poll);
    }
  }

  /// Removes the units of `changes`.
  void remove_units(const std::vector<const UnitChange*>& changes) {
    for (const UnitChange* change : changes) {
      check_stop();
      if (m_scheduler.remove_unit(change->name)) {
        say_unit(change->name, "removed");
      }
      result.units_removed++;
    }
  }

  /// Starts `instance` of `app` from the file's spec.
  void start(const AppSpec& app, const std::string& instance) {
    check_stop();
    InstanceName name{app.name, instance};
    say(name, "starting " + app.image);
    m_scheduler.start(instance_spec(m_cluster, app, instance));
  }

  /// How long a routable new instance of `app` must stay up before it counts: 0 where its
  /// registration waits for its health check to pass (fleet's sidekicks); elsewhere (docker's
  /// registrator announces a container as it starts) the time its check would take to rise
  /// (interval x rise), at most k_max_settle. A container that starts, is registered and exits a
  /// moment later (a bad config) then fails the rollout instead of having an old instance retired
  /// for it. The bound keeps a rollout step (new one in, old one withdrawn) inside the 2 s a
  /// generated render unit gathers into one reload; the check itself is the registrator's to run.
  milliseconds settle_time(const std::string& app) const {
    const AppSpec* spec = m_cluster.app(app);
    if (spec == nullptr || m_scheduler.health_gates_registration()) {
      return milliseconds(0);
    }
    const HealthCheck& health = spec->health;
    if (health.path.empty()) {
      return k_max_settle;
    }
    return std::min<milliseconds>(health.interval * std::max(health.rise, 1), k_max_settle);
  }

  /// Waits until every instance of `names` runs, is routable and, where its registration does not
  /// wait for its health check, has stayed up for settle_time(); Error(failed) for the first that
  /// fails, restarts meanwhile or outlasts the timeout.
  void wait_routable(const std::vector<InstanceName>& names) {
    std::set<std::string> pending;
    for (const InstanceName& name : names) {
      pending.insert(name.str());
    }
    std::set<std::string> running;
    struct Routable {
      Clock::time_point since;
      int restarts = 0;
    };
    std::map<std::string, Routable> routable; // routable, settling
    const auto deadline = Clock::now() + m_options.timeout;
    while (!pending.empty()) {
      check_stop();
      for (const InstanceName& name : names) {
        if (pending.count(name.str()) == 0) {
          continue;
        }
        std::optional<scheduler::Instance> seen = m_scheduler.find(name);
        if (!seen) {
          fail(name, "disappeared from " + m_scheduler.describe(), std::nullopt);
        }
        if (seen->state == scheduler::State::failed) {
          fail(name, "failed", seen);
        }
        auto settling = routable.find(name.str());
        if (settling != routable.end() && (seen->state != scheduler::State::running ||
                                           seen->restarts != settling->second.restarts)) {
          fail(name, "did not stay up after it was routable", seen);
        }
        if (seen->state != scheduler::State::running) {
          continue;
        }
        if (running.insert(name.str()).second) {
          say(name, "running" + (seen->machine.empty() ? "" : " on " + seen->machine));
        }
        if (settling != routable.end()) {
          milliseconds settle = settle_time(name.app);
          if (Clock::now() - settling->second.since >= settle) {
            say(name, "ready (up " + format_duration(settle) + " since it was routable)");
            pending.erase(name.str());
          }
          continue;
        }
        for (const registry::Instance& route : m_routes.routable(name.app)) {
          if (same_instance(route, *seen)) {
            say(name, "routable at " + route.address->str());
            if (settle_time(name.app).count() > 0) {
              routable[name.str()] = {Clock::now(), seen->restarts};
            } else {
              pending.erase(name.str());
            }
            break;
          }
        }
      }
      if (pending.empty()) {
        break;
      }
      if (Clock::now() >= deadline) {
        InstanceName late = parse_instance_name(*pending.begin());
        std::optional<scheduler::Instance> seen = m_scheduler.find(late);
        bool runs = seen && seen->state == scheduler::State::running;
        fail(late,
             fmt::format("was not {} within {}", runs ? "routable" : "running",
                         format_duration(m_options.timeout)) +
                 (runs ? " (running, but the registry has no passing registration: is its "
                         "sidekick or the node's registrator running, and its health check "
                         "passing?)"
                       : ""),
             seen);
      }
      pause(m_options.poll);
    }
  }

  /// Takes `names` out of the router's view, waits until the registry no longer routes them,
  /// then waits the drain time once.
  void withdraw(const std::vector<scheduler::Instance>& instances, milliseconds drain) {
    std::vector<const scheduler::Instance*> visible;
    for (const scheduler::Instance& instance : instances) {
      check_stop();
      if (m_scheduler.withdraw(instance.name())) {
        say(instance.name(), "withdrawn");
        visible.push_back(&instance);
      }
    }
    const auto deadline = Clock::now() + m_options.timeout;
    while (!visible.empty()) {
      std::erase_if(visible, [&](const scheduler::Instance* instance) {
        auto routes = m_routes.routable(instance->app);
        return std::none_of(routes.begin(), routes.end(), [&](const registry::Instance& r) {
          return same_instance(r, *instance);
        });
      });
      if (visible.empty()) {
        break;
      }
      if (Clock::now() >= deadline) {
        throw Error(ErrorKind::failed,
                    fmt::format("{} was withdrawn but the registry still routes it after {}: "
                                "nothing stopped, run cluster up again",
                                visible.front()->name().str(), format_duration(m_options.timeout)));
      }
      pause(m_options.poll);
    }
    if (!instances.empty() && drain.count() > 0) {
      for (const scheduler::Instance& instance : instances) {
        say(instance.name(), "draining " + format_duration(drain));
      }
      pause(drain);
    }
  }

  /// Withdraws, drains, stops and removes `instances`.
  void retire(const std::vector<scheduler::Instance>& instances, milliseconds drain) {
    withdraw(instances, drain);
    for (const scheduler::Instance& instance : instances) {
      check_stop();
      m_scheduler.stop(instance.name(), m_options.stop_grace);
      say(instance.name(), "stopped");
      m_scheduler.remove(instance.name());
      say(instance.name(), "removed");
    }
  }

  [[noreturn]] void fail(const InstanceName& name, const std::string& why,
                         const std::optional<scheduler::Instance>& seen) {
    std::string text = fmt::format("{} {}", name.str(), why);
    if (seen && !seen->detail.empty() && seen->detail != to_string(seen->state)) {
      text += fmt::format(" ({}: {})", to_string(seen->state), escape_control(seen->detail));
    }
    std::vector<std::string> lines;
    try {
      lines = m_scheduler.logs(name, m_options.log_lines);
    } catch (const Error&) {
      // No logs is no reason to hide the failure.
    }
    if (!lines.empty()) {
      text += "; its last lines: ";
      for (std::size_t i = 0; i < lines.size(); ++i) {
        text += (i == 0 ? "" : " | ") + escape_control(lines[i]);
      }
    }
    say(name, "failed");
    // A new instance that failed must not flap into the router (a crash loop under a restart
    // policy is registered at every start): withdrawn and stopped, kept for its logs.
    try {
      m_scheduler.withdraw(name);
      m_scheduler.stop(name, m_options.stop_grace);
      say(name, "stopped, kept for its logs");
      text += "; it is stopped and kept for its logs";
    } catch (const Error& e) {
      text += fmt::format("; stopping it failed too: {}", e.what());
    }
    if (m_replacing) {
      text += "; the instances it was to replace still serve";
    }
    throw Error(ErrorKind::failed, text);
  }

  /// The lowest instance numbers of `app` that neither exist nor were handed out.
  std::string fresh_number(const std::string& app) {
    std::set<std::string>& used = m_used[app];
    if (used.empty()) {
      for (const scheduler::Instance& instance : m_scheduler.list(app)) {
        used.insert(instance.instance);
      }
    }
    for (unsigned n = 1;; ++n) {
      std::string number = std::to_string(n);
      if (used.insert(number).second) {
        return number;
      }
    }
  }

  void replace(const AppPlan& plan) {
    const AppSpec& app = *plan.spec;
    std::vector<scheduler::Instance> old;
    for (const Change* change : plan.of(Action::replace)) {
      for (const scheduler::Instance& instance : plan.instances) {
        if (instance.name() == change->name) {
          old.push_back(instance);
        }
      }
    }
    int surge = app.update.max_surge.resolve(plan.desired, true);
    int unavailable = app.update.max_unavailable.resolve(plan.desired, false);
    if (surge <= 0 && unavailable <= 0) {
      surge = 1; // the parser refuses both at 0; a plan made in code still progresses
    }
    m_replacing = true;
    std::size_t next = 0;
    while (next < old.size()) {
      std::size_t step =
          std::min<std::size_t>(static_cast<std::size_t>(surge + unavailable), old.size() - next);
      std::size_t fresh = std::min<std::size_t>(static_cast<std::size_t>(std::max(surge, 0)), step);
      std::vector<scheduler::Instance> surged(old.begin() + static_cast<long>(next),
                                              old.begin() + static_cast<long>(next + fresh));
      std::vector<scheduler::Instance> in_place(old.begin() + static_cast<long>(next + fresh),
                                                old.begin() + static_cast<long>(next + step));
      next += step;

      // The unavailable part goes first, its numbers are made again.
      std::vector<InstanceName> made;
      if (!in_place.empty()) {
        retire(in_place, app.update.drain);
        for (const scheduler::Instance& instance : in_place) {
          start(app, instance.instance);
          made.push_back(instance.name());
        }
      }
      for (std::size_t i = 0; i < surged.size(); ++i) {
        std::string number = fresh_number(app.name);
        start(app, number);
        made.push_back({app.name, number});
      }
      wait_routable(made);
      if (app.update.min_ready.count() > 0) {
        pause(app.update.min_ready);
        wait_routable(made); // still up after min_ready
      }
      retire(surged, app.update.drain);
      result.replaced += static_cast<int>(step);
    }
    m_replacing = false;
  }

private:
  const ClusterSpec& m_cluster;
  scheduler::Scheduler& m_scheduler;
  RouteView& m_routes;
  const ApplyOptions& m_options;
  std::map<std::string, std::set<std::string>> m_used;
  bool m_replacing = false; ///< within a rolling replacement: old instances still serve
};

} // namespace

RegistryRoutes::RegistryRoutes(registry::Registry& registry, std::string prefix)
    : m_registry(registry), m_prefix(std::move(prefix)) {}

std::vector<registry::Instance> RegistryRoutes::registered(std::string_view app) {
  registry::InstanceQuery query;
  if (!m_prefix.empty()) {
    query.prefix = m_prefix;
  }
  query.apps = {std::string(app)};
  query.include_unhealthy = true;
  return m_registry.instances(query);
}

std::vector<registry::Instance> RouteView::routable(std::string_view app) {
  std::vector<registry::Instance> out = registered(app);
  std::erase_if(out, [](const registry::Instance& i) { return !cluster::routable(i); });
  return out;
}

bool routable(const registry::Instance& route) {
  return route.address.has_value() && route.health == registry::Instance::Health::passing;
}

bool same_instance(const registry::Instance& route, const scheduler::Instance& instance) {
  if (route.app != instance.app) {
    return false;
  }
  if (route.instance == instance.instance) {
    return true;
  }
  // Docker ids appear whole or cut to 12 characters.
  auto same_id = [&](const std::string& id) {
    const std::string& full = instance.id;
    return !id.empty() && !full.empty() && id.size() <= full.size() &&
           full.compare(0, id.size(), id) == 0;
  };
  if (auto it = route.meta.find(k_container_meta); it != route.meta.end() && same_id(it->second)) {
    return true;
  }
  // A registrator's instance: NODE:CONTAINER:PORT, CONTAINER a name or an id.
  std::string_view id = route.instance;
  std::size_t first = id.find(':');
  std::size_t last = id.rfind(':');
  if (first == std::string_view::npos || last <= first) {
    return false;
  }
  std::string container(id.substr(first + 1, last - first - 1));
  return (!instance.container.empty() && container == instance.container) || same_id(container);
}

ApplyResult apply(const ClusterSpec& cluster, const Plan& plan, scheduler::Scheduler& scheduler,
                  RouteView& routes, const ApplyOptions& options) {
  Rollout rollout(cluster, scheduler, routes, options);

  // 0. The units beside the instances: extra units, then routers.
  auto units_of = [&](UnitRole role, bool removals) {
    std::vector<const UnitChange*> out;
    for (const UnitChange& change : plan.units) {
      if (change.role == role && (change.action == Action::remove) == removals) {
        out.push_back(&change);
      }
    }
    return out;
  };
  rollout.put_units(units_of(UnitRole::extra, false));
  rollout.put_units(units_of(UnitRole::router, false));

  // 1. Capacity: what is missing or stopped, all at once.
  std::vector<InstanceName> made;
  for (const AppPlan& app : plan.apps) {
    for (const Change& change : app.changes) {
      if (change.action == Action::create || change.action == Action::start) {
        rollout.start(*app.spec, change.name.instance);
        made.push_back(change.name);
        (change.action == Action::create ? rollout.result.created : rollout.result.started)++;
      }
    }
  }
  rollout.wait_routable(made);

  // 2. Rolling replacement, app by app.
  for (const AppPlan& app : plan.apps) {
    if (!app.of(Action::replace).empty()) {
      rollout.replace(app);
    }
  }

  // 3. What goes: withdrawn together, drained once per app, then stopped.
  for (const AppPlan& app : plan.apps) {
    std::vector<scheduler::Instance> gone;
    for (const Change* change : app.of(Action::remove)) {
      for (const scheduler::Instance& instance : app.instances) {
        if (instance.name() == change->name) {
          gone.push_back(instance);
        }
      }
    }
    if (!gone.empty()) {
      rollout.retire(gone, app.spec ? app.spec->update.drain : UpdatePolicy{}.drain);
      rollout.result.removed += static_cast<int>(gone.size());
    }
  }

  // 4. The units the file no longer has: routers, then extra units.
  rollout.remove_units(units_of(UnitRole::router, true));
  rollout.remove_units(units_of(UnitRole::extra, true));
  return rollout.result;
}

} // namespace herald::cluster
