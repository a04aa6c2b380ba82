#include "herald/cluster/apply.hpp"
#include "herald/cluster/launch.hpp"
#include "herald/cluster/load.hpp"
#include "herald/cluster/plan.hpp"
#include "herald/cluster/units.hpp"
#include "herald/core/error.hpp"
#include "herald/fleet/client.hpp"
#include "herald/fleet/connection.hpp"
#include "herald/registry/memory/memory_registry.hpp"
#include "herald/scheduler/scheduler.hpp"
#include "support/fleet_double.hpp"
#include "support/fleet_sidekicks.hpp"

#include <algorithm>
#include <chrono>
#include <doctest/doctest.h>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

using namespace herald;
using namespace herald::cluster;
using namespace herald::test;
using namespace std::chrono_literals;
using herald::scheduler::State;

// The planner's cases (tests/cluster/apply_test.cpp, on the memory scheduler) on the fleet
// scheduler against the fleet double: units placed by its engine, states walked by its agents,
// and registrations written by FleetSidekicks as the units' sidekicks would, so that apply waits
// for a real registry to route each instance.

TEST_SUITE_BEGIN("fleet");

namespace {

/// `n` machines with role=web, 10.0.0.1 ...
FleetDoubleOptions web_machines(int n) {
  FleetDoubleOptions options;
  for (int i = 1; i <= n; ++i) {
    options.machines.push_back(std::string(32, static_cast<char>('0' + i)) + ",10.0.0." +
                               std::to_string(i) + ",role=web");
  }
  return options;
}

/// A RouteView over the registry that records how many instances of an app were routable at
/// each look apply took.
class CountingRoutes final : public RouteView {
public:
  explicit CountingRoutes(registry::Registry& registry) : m_routes(registry, "") {}
  std::vector<registry::Instance> registered(std::string_view app) override {
    auto out = m_routes.registered(app);
    seen.push_back(static_cast<std::size_t>(
        std::count_if(out.begin(), out.end(), [](const auto& r) { return cluster::routable(r); })));
    return out;
  }
  std::vector<std::size_t> seen; ///< routable count at each look

private:
  RegistryRoutes m_routes;
};

/// A fleet double, a registry its "sidekicks" write, and the scheduler and routes apply uses.
struct FleetCluster {
  explicit FleetCluster(int machines)
      : fleet(web_machines(machines)), sidekicks(fleet, registry), routes(registry) {
    scheduler::Options options;
    options.backend = "fleet";
    options.fleet.endpoint = fleet.endpoint();
    options.fleet.endpoint_source = "test";
    options.herald_path = "/usr/bin/herald";
    scheduler = scheduler::open(options);
  }

  /// A cluster file with one app, web, spread over the machines.
  /// `more` is YAML appended at the top level (routers:, units:).
  ClusterSpec file(const std::string& image, int instances, const std::string& update,
                   const std::string& more = "") const {
    std::string text = "scheduler: {kind: fleet, endpoint: \"" + fleet.endpoint() +
                       "\"}\napps:\n  - name: web\n    image: " + image +
                       "\n    port: 80\n    instances: " + std::to_string(instances) +
                       "\n    placement: {spread: true, metadata: [role=web]}" + "\n    update: {" +
                       update + "}\n" + more;
    return parse_cluster(text, "cluster.yaml");
  }

  /// The plan of `spec` with its units, as `cluster plan` makes it.
  Plan plan(const ClusterSpec& spec) {
    Plan out = make_plan(spec, scheduler->list());
    units::HostPaths paths = units::HostPaths::installed();
    paths.herald = "/usr/bin/herald";
    out.units = plan_units(spec, cluster_units(spec, units::UnitTemplates(), paths),
                           scheduler->list_units(), true);
    return out;
  }

  ApplyOptions options() {
    ApplyOptions out;
    out.timeout = 20s;
    out.poll = 20ms;
    out.unit_progress = [this](const std::string& unit, const std::string& what) {
      said.push_back(unit + ": " + what);
    };
    out.progress = [this](const InstanceName& name, const std::string& what) {
      said.push_back(name.str() + ": " + what);
      most = std::max(most, scheduler->list("web").size());
      if (on_progress) {
        on_progress(name, what);
      }
    };
    return out;
  }

  ApplyResult up(const ClusterSpec& spec) {
    return apply(spec, make_plan(spec, scheduler->list()), *scheduler, routes, options());
  }

  std::vector<scheduler::Instance> web() { return scheduler->list("web"); }

  /// The instances the registry routes to: "web@1 10.0.0.2:30001".
  std::set<std::string> routed() {
    std::set<std::string> out;
    for (const auto& r : routes.routable("web")) {
      out.insert(r.app + "@" + r.instance + " " + r.address->str());
    }
    return out;
  }

  FleetDouble fleet;
  registry::memory::MemoryRegistry registry;
  FleetSidekicks sidekicks;
  CountingRoutes routes;
  std::unique_ptr<scheduler::Scheduler> scheduler;
  std::vector<std::string> said;
  std::size_t most = 0; ///< most web instances that existed at once, seen at each step
  std::function<void(const InstanceName&, const std::string&)> on_progress;
};

std::vector<std::string> names_and_images(const std::vector<scheduler::Instance>& instances) {
  std::vector<std::string> out;
  for (const auto& i : instances) {
    out.push_back(i.name().str() + " " + i.image);
  }
  return out;
}

std::set<std::string> machines_of(const std::vector<scheduler::Instance>& instances) {
  std::set<std::string> out;
  for (const auto& i : instances) {
    out.insert(i.machine);
  }
  return out;
}

int puts_so_far(const FleetDouble& fleet) {
  auto by = nlohmann::json::parse(fleet.get("/_double/requests").body)["by"];
  int n = 0;
  for (const auto& [key, count] : by.items()) {
    n += key.rfind("PUT ", 0) == 0 || key.rfind("DELETE ", 0) == 0 ? count.get<int>() : 0;
  }
  return n;
}

} // namespace

TEST_CASE("cluster up on fleet: creates, waits until the sidekicks registered every instance, "
          "and a second up does nothing") {
  FleetCluster c(4);
  ClusterSpec spec = c.file("web:v1", 3, "drain: 0s");
  ApplyResult result = c.up(spec);
  CHECK(result.created == 3);
  auto web = c.web();
  CHECK(names_and_images(web) ==
        std::vector<std::string>{"web@1 web:v1", "web@2 web:v1", "web@3 web:v1"});
  CHECK(machines_of(web).size() == 3); // spread
  for (const auto& instance : web) {
    CHECK(instance.state == State::running);
    CHECK(c.routed().count(instance.name().str() + " " + instance.machine_ip + ":3000" +
                           instance.instance) == 1);
  }
  CHECK(std::count_if(c.said.begin(), c.said.end(), [](const std::string& s) {
          return s.find(": routable at 10.0.0.") != std::string::npos;
        }) == 3);

  Plan again = make_plan(spec, c.scheduler->list());
  CHECK(again.empty());
  CHECK(again.summary() == "no changes");
  int before = puts_so_far(c.fleet);
  ApplyResult nothing = apply(spec, again, *c.scheduler, c.routes, c.options());
  CHECK(nothing.created + nothing.started + nothing.replaced + nothing.removed == 0);
  CHECK(puts_so_far(c.fleet) == before);
  CHECK(c.sidekicks.errors().empty());
}

TEST_CASE("cluster up on fleet: scale up, then down withdrawing before it stops") {
  FleetCluster c(5);
  c.up(c.file("web:v1", 2, "drain: 0s"));
  ApplyResult more = c.up(c.file("web:v1", 4, "drain: 0s"));
  CHECK(more.created == 2);
  CHECK(c.web().size() == 4);
  CHECK(machines_of(c.web()).size() == 4);
  CHECK(c.routed().size() == 4);

  ApplyResult fewer = c.up(c.file("web:v1", 1, "drain: 0s"));
  CHECK(fewer.removed == 3);
  CHECK(names_and_images(c.web()) == std::vector<std::string>{"web@1 web:v1"});
  CHECK(c.routed().size() == 1);
  for (const char* gone : {"web%402.service", "web-discovery%402.service", "web%404.service"}) {
    CHECK_MESSAGE(c.fleet.get(std::string("/fleet/v1/units/") + gone).status == 404, gone);
  }
  // Each removed instance was withdrawn (its sidekick stopped and deregistered it) before its
  // unit was stopped.
  for (const char* name : {"web@2", "web@3", "web@4"}) {
    auto withdrawn = std::find(c.said.begin(), c.said.end(), std::string(name) + ": withdrawn");
    auto stopped = std::find(c.said.begin(), c.said.end(), std::string(name) + ": stopped");
    CHECK_MESSAGE(withdrawn < stopped, name);
    CHECK_MESSAGE(stopped != c.said.end(), name);
  }
  CHECK(make_plan(c.file("web:v1", 1, "drain: 0s"), c.scheduler->list()).empty());
  CHECK(c.sidekicks.errors().empty());
}

TEST_CASE("cluster up on fleet: an image change rolls within max_surge, never below the "
          "desired count routable") {
  FleetCluster c(4);
  c.up(c.file("web:v1", 3, "drain: 0s"));
  c.routes.seen.clear();
  c.most = 0;
  ClusterSpec next = c.file("web:v2", 3, "max_surge: 1, max_unavailable: 0, drain: 0s");
  Plan plan = make_plan(next, c.scheduler->list());
  CHECK(plan.count(Action::replace) == 3);
  CHECK(plan.apps[0].changes[0].reason == "image changed");
  ApplyResult result = apply(next, plan, *c.scheduler, c.routes, c.options());
  CHECK(result.replaced == 3);
  CHECK(names_and_images(c.web()) ==
        std::vector<std::string>{"web@4 web:v2", "web@5 web:v2", "web@6 web:v2"});
  CHECK(machines_of(c.web()).size() == 3);
  CHECK(c.most <= 4); // desired + max_surge
  REQUIRE_FALSE(c.routes.seen.empty());
  CHECK(*std::min_element(c.routes.seen.begin(), c.routes.seen.end()) >= 3);
  std::set<std::string> routed = c.routed();
  CHECK(routed.size() == 3);
  for (const auto& r : routed) {
    CHECK_MESSAGE(r.rfind("web@", 0) == 0, r);
    CHECK_MESSAGE(r.find("web@1 ") == std::string::npos, r);
  }
  CHECK(make_plan(next, c.scheduler->list()).empty());
  CHECK(c.sidekicks.errors().empty());
}

TEST_CASE("cluster up on fleet: max_unavailable without surge replaces in place, one at a "
          "time") {
  FleetCluster c(3);
  c.up(c.file("web:v1", 3, "drain: 0s"));
  c.routes.seen.clear();
  c.most = 0;
  ClusterSpec next = c.file("web:v2", 3, "max_surge: 0, max_unavailable: 1, drain: 0s");
  CHECK(c.up(next).replaced == 3);
  CHECK(names_and_images(c.web()) ==
        std::vector<std::string>{"web@1 web:v2", "web@2 web:v2", "web@3 web:v2"});
  CHECK(c.most <= 3);
  CHECK(*std::min_element(c.routes.seen.begin(), c.routes.seen.end()) >= 2);
  CHECK(c.routed().size() == 3);
  CHECK(make_plan(next, c.scheduler->list()).empty());
}

TEST_CASE("cluster up on fleet: an instance that never registers stops the rollout, named, and "
          "the old ones still serve") {
  FleetCluster c(4);
  c.up(c.file("web:v1", 3, "drain: 0s"));
  std::set<std::string> before = c.routed();
  REQUIRE(before.size() == 3);
  c.sidekicks.never("web@4");
  ClusterSpec next = c.file("web:v2", 3, "max_surge: 1, drain: 0s");
  ApplyOptions options = c.options();
  options.timeout = 2s;
  std::string message;
  try {
    apply(next, make_plan(next, c.scheduler->list()), *c.scheduler, c.routes, options);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::failed);
    message = e.what();
  }
  CHECK_MESSAGE(message.rfind("web@4 was not routable within 2s (running, but", 0) == 0, message);
  CHECK(message.find("the instances it was to replace still serve") != std::string::npos);
  CHECK(c.routed() == before);
  auto web = c.web();
  REQUIRE(web.size() == 4);
  CHECK(names_and_images(web) ==
        std::vector<std::string>{"web@1 web:v1", "web@2 web:v1", "web@3 web:v1", "web@4 web:v2"});
  // The old ones run on; the failed one is stopped, kept for its logs.
  for (const auto& instance : web) {
    CHECK(instance.state == (instance.instance == "4" ? State::stopped : State::running));
  }
  CHECK(message.find("it is stopped and kept for its logs") != std::string::npos);
}

TEST_CASE("cluster up on fleet: a machine lost mid-rollout, the new instance's and an old one's, "
          "and the rollout still ends as the file says") {
  FleetCluster c(6);
  c.up(c.file("web:v1", 3, "drain: 0s"));
  std::set<std::string> triggered; // the instances whose "running" made a machine die
  std::set<std::string> lost;      // the machines
  c.on_progress = [&](const InstanceName& name, const std::string& what) {
    // web@4, the first new instance, has just been seen running: its machine dies before (or
    // just after) its sidekick could register it. Then, as web@5 runs, the machine of web@3,
    // an old instance still to be replaced, dies too.
    auto machine_of = [&](const std::string& number) {
      auto found = c.scheduler->find({"web", number});
      return found ? found->machine : std::string();
    };
    if (what.rfind("running on ", 0) == 0 && (name.instance == "4" || name.instance == "5")) {
      std::string machine = machine_of(name.instance == "4" ? "4" : "3");
      if (!machine.empty() && triggered.insert(name.instance).second) {
        c.sidekicks.lose_machine(machine, 0.5);
        lost.insert(machine);
      }
    }
  };
  ClusterSpec next = c.file("web:v2", 3, "max_surge: 1, max_unavailable: 0, drain: 0s");
  ApplyResult result = c.up(next);
  CHECK(result.replaced == 3);
  REQUIRE(lost.size() == 2);
  c.on_progress = nullptr;

  // What moved settles on the machines left: three current instances, spread, each routed at
  // the machine it runs on now.
  bool settled = eventually(
      [&] {
        auto web = c.web();
        if (web.size() != 3 || machines_of(web).size() != 3) {
          return false;
        }
        for (const auto& i : web) {
          if (i.state != State::running || lost.count(i.machine) != 0 ||
              c.routed().count(i.name().str() + " " + i.machine_ip + ":3000" + i.instance) == 0) {
            return false;
          }
        }
        return c.routed().size() == 3;
      },
      20s);
  CHECK_MESSAGE(settled, "instances: " << nlohmann::json(names_and_images(c.web())).dump()
                                       << " routed: " << nlohmann::json(c.routed()).dump());
  CHECK(names_and_images(c.web()) ==
        std::vector<std::string>{"web@4 web:v2", "web@5 web:v2", "web@6 web:v2"});
  CHECK(eventually([&] { return c.scheduler->machines().size() == 4; }, 10s));
  CHECK(make_plan(next, c.scheduler->list()).empty());
  CHECK(c.sidekicks.errors().empty());
}

TEST_CASE("cluster down on fleet: every instance withdrawn, stopped and removed") {
  FleetCluster c(3);
  ClusterSpec spec = c.file("web:v1", 2, "drain: 0s");
  c.up(spec);
  ClusterSpec none;
  none.source = "cluster.yaml";
  Plan plan = make_plan(none, c.scheduler->list());
  for (auto& app : plan.apps) {
    app.spec = *spec.app(app.app);
  }
  CHECK(plan.count(Action::remove) == 2);
  ApplyResult result = apply(none, plan, *c.scheduler, c.routes, c.options());
  CHECK(result.removed == 2);
  CHECK(c.web().empty());
  CHECK(c.routed().empty());
  CHECK(c.fleet.get("/fleet/v1/units/web%401.service").status == 404);
  CHECK(c.fleet.get("/fleet/v1/units/web-discovery%402.service").status == 404);
  CHECK(c.fleet.get("/fleet/v1/units/web%40.service").status == 200); // templates stay
}

namespace {

const std::string k_units = R"(routers:
  - {kind: nginx-host, domain: example.com}
units:
  - name: image-registry.service
    global: true
    text: |
      [Unit]
      Description=image registry
      [Service]
      ExecStart=/usr/bin/docker run --rm -p 5000:5000 registry:2
)";

std::vector<std::string> unit_names(scheduler::Scheduler& scheduler) {
  std::vector<std::string> out;
  for (const auto& unit : scheduler.list_units()) {
    out.push_back(unit.name + " " + std::string(scheduler::to_string(unit.state)) + " " +
                  std::to_string(unit.placements.size()));
  }
  return out;
}

std::size_t position(const std::vector<std::string>& said, const std::string& line) {
  return static_cast<std::size_t>(std::find(said.begin(), said.end(), line) - said.begin());
}

} // namespace

TEST_CASE("cluster up on fleet: extra units, then routers, then apps; global ones on every "
          "machine; a second up does nothing") {
  FleetCluster c(3);
  ClusterSpec spec = c.file("web:v1", 2, "drain: 0s", k_units);
  Plan plan = c.plan(spec);
  CHECK(plan.summary() == "2 to create, 3 units to create");
  REQUIRE(plan.units.size() == 3);
  CHECK(plan.units[0].name == "image-registry.service");
  CHECK(plan.units[0].diff.find("+ExecStart=/usr/bin/docker run --rm -p 5000:5000 registry:2") !=
        std::string::npos);
  ApplyResult result = apply(spec, plan, *c.scheduler, c.routes, c.options());
  CHECK(result.created == 2);
  CHECK(result.units_changed == 3);
  CHECK(unit_names(*c.scheduler) ==
        std::vector<std::string>{"herald-router-render.service running 3",
                                 "herald-router.service running 3",
                                 "image-registry.service running 3"});
  // The order an operator expects: the registry the instances pull from, the routers, the apps.
  std::size_t registry = position(c.said, "image-registry.service: running on 3 machine(s)");
  std::size_t router = position(c.said, "herald-router.service: submitting");
  std::size_t router_up = position(c.said, "herald-router.service: running on 3 machine(s)");
  std::size_t app = position(c.said, "web@1: starting web:v1");
  CHECK(registry < router);
  CHECK(router_up < app);
  CHECK(app < c.said.size());

  Plan again = c.plan(spec);
  CHECK(again.empty());
  int before = puts_so_far(c.fleet);
  ApplyResult nothing = apply(spec, again, *c.scheduler, c.routes, c.options());
  CHECK(nothing.units_changed + nothing.units_removed + nothing.created == 0);
  CHECK(puts_so_far(c.fleet) == before);
}

TEST_CASE("cluster up on fleet: a changed router is replaced with its diff, a router the file "
          "lost is removed, and units herald did not make are left alone") {
  FleetCluster c(2);
  ClusterSpec spec = c.file("web:v1", 1, "drain: 0s", k_units);
  apply(spec, c.plan(spec), *c.scheduler, c.routes, c.options());
  // A unit of the same name that herald did not make is never overwritten or removed.
  CHECK(c.fleet.get("/fleet/v1/units/image-registry.service").status == 200);

  std::string changed = k_units;
  changed.replace(changed.find("example.com"), 11, "example.org");
  changed.replace(changed.find("  - {kind"), 0, "  - {name: edge, kind: haproxy, global: false}\n");
  ClusterSpec next = c.file("web:v1", 1, "drain: 0s", changed);
  Plan plan = c.plan(next);
  std::vector<std::string> what;
  for (const auto& u : plan.units) {
    what.push_back(std::string(to_string(u.action)) + " " + u.name);
  }
  CHECK(what == std::vector<std::string>{"create edge-1-render.service", "create edge-1.service",
                                         "replace herald-router-render.service"});
  CHECK(plan.units[2].diff.find("+Environment=HERALD_DOMAIN=example.org") != std::string::npos);
  ApplyResult result = apply(next, plan, *c.scheduler, c.routes, c.options());
  CHECK(result.units_changed == 3);
  CHECK(c.plan(next).empty());
  auto units = c.scheduler->list_units();
  REQUIRE(units.size() == 5);
  CHECK(units[0].name == "edge-1-render.service");
  CHECK(units[0].placements.size() == 1);
  CHECK(units[1].placements.at(0).machine == units[0].placements.at(0).machine); // MachineOf

  // The file loses the nginx router: both its units go, the rest stays.
  std::string fewer = k_units;
  fewer.replace(fewer.find("  - {kind: nginx-host, domain: example.com}"),
                std::string("  - {kind: nginx-host, domain: example.com}").size(),
                "  - {name: edge, kind: haproxy, global: false}");
  ClusterSpec last = c.file("web:v1", 1, "drain: 0s", fewer);
  Plan removal = c.plan(last);
  REQUIRE(removal.units.size() == 2);
  CHECK(removal.units[0].action == Action::remove);
  CHECK(removal.units[0].reason == "not in cluster.yaml");
  CHECK(apply(last, removal, *c.scheduler, c.routes, c.options()).units_removed == 2);
  CHECK(c.fleet.get("/fleet/v1/units/herald-router.service").status == 404);
  CHECK(c.scheduler->list_units().size() == 3);

  // A unit of the file's name that is not herald's: refused, named, left as it is.
  REQUIRE(c.scheduler->remove_unit("image-registry.service"));
  herald::fleet::ConnectionSettings settings;
  settings.endpoint = c.fleet.endpoint();
  herald::fleet::Connection connection(settings, nullptr);
  connection.client().put_unit(
      "image-registry.service",
      {std::vector<herald::fleet::UnitOption>{{"Service", "ExecStart", "/bin/mine"}},
       herald::fleet::DesiredState::launched});
  Plan clash = c.plan(last);
  REQUIRE(clash.units.size() == 1);
  CHECK(clash.units[0].action == Action::create); // herald does not see it as its own
  std::string message;
  try {
    apply(last, clash, *c.scheduler, c.routes, c.options());
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::failed);
    message = e.what();
  }
  CHECK_MESSAGE(message.find("\"image-registry.service\" on fleet at ") == 0, message);
  CHECK(message.find("was not made by herald") != std::string::npos);
  CHECK(herald::fleet::option_values(
            connection.client().get_unit("image-registry.service")->options, "Service",
            "ExecStart") == std::vector<std::string>{"/bin/mine"});
  CHECK_FALSE(c.scheduler->remove_unit("edge-9.service"));
}

TEST_SUITE_END();

TEST_CASE("launch on fleet: an app made from a template is submitted, placed and waited for "
          "until its sidekicks registered it; a second launch starts nothing") {
  FleetCluster c(3);
  ClusterSpec spec = parse_cluster(
      "scheduler: {kind: fleet, endpoint: \"" + c.fleet.endpoint() +
          "\"}\napps:\n  - name: web\n    image: web:1\n    port: 80\n"
          "  - name: \"pr-{name}\"\n    image: \"app:{name}\"\n    port: 80\n    instances: 2\n"
          "    placement: {spread: true, metadata: [role=web]}\n"
          "launch: {allow: [\"pr-*\"]}\n",
      "cluster.yaml");
  LaunchResult launched = launch_app(spec, "pr-9", *c.scheduler, c.routes, c.options());
  CHECK_FALSE(launched.already);
  CHECK(launched.started == 2);
  CHECK(launched.routes.size() == 2);
  auto instances = c.scheduler->list("pr-9");
  REQUIRE(instances.size() == 2);
  CHECK(instances[0].image == "app:9");
  CHECK(instances[0].machine != instances[1].machine); // spread, as the template says
  CHECK(c.scheduler->list("web").empty());             // launching one app starts no other

  CHECK(launch_app(spec, "pr-9", *c.scheduler, c.routes, c.options()).already);
  CHECK(c.scheduler->list("pr-9").size() == 2);

  // An instance that never registers: named, stopped and kept for its logs.
  c.sidekicks.never("pr-10@1");
  ApplyOptions options = c.options();
  options.timeout = 2s;
  std::string message;
  try {
    launch_app(spec, "pr-10@1", *c.scheduler, c.routes, options);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::failed);
    message = e.what();
  }
  CHECK_MESSAGE(message.rfind("pr-10@1 was not routable within 2s", 0) == 0, message);
}
