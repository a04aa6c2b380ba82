#include "herald/core/error.hpp"
#include "herald/fleet/client.hpp"
#include "herald/fleet/connection.hpp"
#include "herald/scheduler/fleet/fleet_scheduler.hpp"
#include "herald/scheduler/scheduler.hpp"
#include "support/error_kind.hpp"
#include "support/fleet_double.hpp"

#include <algorithm>
#include <chrono>
#include <doctest/doctest.h>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

using namespace herald;
using namespace herald::scheduler;
using namespace herald::test;
using namespace std::chrono_literals;

// The fleet scheduler against the fleet double (tests/doubles/fleet_double.py), which schedules
// over fake machines as fleetd's engine does and reports systemd states as its agents would.

TEST_SUITE_BEGIN("fleet");

namespace {

const std::string k_web1 = "11111111111111111111111111111111";
const std::string k_web2 = "22222222222222222222222222222222";
const std::string k_web3 = "33333333333333333333333333333333";
const std::string k_router = "44444444444444444444444444444444";

FleetDoubleOptions four_machines() {
  FleetDoubleOptions options;
  options.machines = {k_web1 + ",10.0.0.1,role=web", k_web2 + ",10.0.0.2,role=web",
                      k_web3 + ",10.0.0.3,role=web", k_router + ",10.0.0.4,role=router"};
  return options;
}

std::unique_ptr<Scheduler> open_scheduler(const FleetDouble& fleet) {
  Options options;
  options.backend = "fleet";
  options.fleet.endpoint = fleet.endpoint();
  options.fleet.endpoint_source = "test";
  options.herald_path = "/usr/bin/herald";
  return herald::scheduler::open(options);
}

InstanceSpec web(const std::string& instance, const std::string& hash = "h1") {
  InstanceSpec spec;
  spec.app = "web";
  spec.instance = instance;
  spec.image = "registry.local/web:1";
  spec.container_port = 3000;
  spec.host_port = 8080;
  spec.spec_hash = hash;
  spec.placement.spread = true;
  spec.placement.metadata = {"role=web"};
  spec.health = HealthCheck{"/health"};
  spec.routing.domain = "example.com";
  spec.registry_url = "etcd://10.0.0.9:2379";
  return spec;
}

/// fleet's own view of unit `name`, through herald's fleet client rather than the scheduler.
herald::fleet::Unit unit_of(const FleetDouble& fleet, const std::string& name) {
  herald::fleet::ConnectionSettings settings;
  settings.endpoint = fleet.endpoint();
  herald::fleet::Connection connection(settings, nullptr);
  auto unit = connection.client().get_unit(name);
  REQUIRE_MESSAGE(unit.has_value(), name << " is not in fleet");
  return *unit;
}

/// What the agent reports for unit `name`: the hash of the unit it runs and systemd's states.
herald::fleet::UnitState state_of(const FleetDouble& fleet, const std::string& name) {
  herald::fleet::ConnectionSettings settings;
  settings.endpoint = fleet.endpoint();
  herald::fleet::Connection connection(settings, nullptr);
  herald::fleet::StateFilter filter;
  filter.unit_name = name;
  auto states = connection.client().list_states(filter);
  REQUIRE_MESSAGE(states.size() == 1, name << " has " << states.size() << " state entries");
  return states[0];
}

std::string option(const herald::fleet::Unit& unit, const std::string& section,
                   const std::string& name) {
  auto values = herald::fleet::option_values(unit.options, section, name);
  return values.empty() ? std::string() : values.back();
}

} // namespace

TEST_CASE("fleet scheduler submits the templates and starts the instance with its sidekick") {
  FleetDouble fleet(four_machines());
  auto scheduler = open_scheduler(fleet);
  CHECK(scheduler->backend() == "fleet");
  scheduler->start(web("1"));
  scheduler->start(web("2"));

  Instance one = scheduler->wait({"web", "1"}, State::running, 20s, nullptr);
  Instance two = scheduler->wait({"web", "2"}, State::running, 20s, nullptr);
  CHECK(one.state == State::running);
  CHECK(two.state == State::running);
  CHECK(one.detail == "active/running");
  CHECK(one.spec_hash == "h1");
  CHECK(one.image == "registry.local/web:1");
  CHECK(one.id == "web@1.service");
  CHECK(one.machine != two.machine); // spread
  CHECK(one.machine != k_router);    // role=web
  REQUIRE(one.address.has_value());
  CHECK(one.address->host == one.machine_ip);
  CHECK(one.address->port == 8080);

  auto listed = scheduler->list("web");
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].name().str() == "web@1");
  CHECK(listed[1].name().str() == "web@2");
  CHECK(listed[0].spec_hash == "h1");
  CHECK(listed[1].spec_hash == "h1");
  CHECK(scheduler->list().size() == 2); // the templates and sidekicks are not instances
  CHECK(scheduler->list("api").empty());

  // The templates are there for fleetctl; the instance and its sidekick carry the spec.
  CHECK(fleet.get("/fleet/v1/units/web%40.service").status == 200);
  CHECK(fleet.get("/fleet/v1/units/web-discovery%40.service").status == 200);
  auto unit = unit_of(fleet, "web@1.service");
  CHECK(option(unit, "Unit", "X-Herald-Spec") == "h1");
  CHECK(option(unit, "X-Fleet", "Conflicts") == "web@*.service");
  CHECK(option(unit, "X-Fleet", "MachineMetadata") == "role=web");
  auto sidekick = unit_of(fleet, "web-discovery@1.service");
  std::string exec = option(sidekick, "Service", "ExecStart");
  CHECK(exec.find("/usr/bin/herald announce web@%i") == 0);
  CHECK(exec.find("--check-http /health") != std::string::npos);
  CHECK(exec.find("--rise 2 --fall 3") != std::string::npos);
  CHECK(exec.find("--registry etcd://10.0.0.9:2379") != std::string::npos);
  CHECK(option(sidekick, "X-Fleet", "MachineOf") == "web@%i.service");

  auto machines = scheduler->machines();
  REQUIRE(machines.size() == 4);
  auto router = std::find_if(machines.begin(), machines.end(),
                             [](const Machine& m) { return m.id == k_router; });
  REQUIRE(router != machines.end());
  CHECK(router->name == "44444444");
  CHECK(router->ip == "10.0.0.4");
  CHECK(router->metadata == std::map<std::string, std::string>{{"role", "router"}});
}

TEST_CASE("fleet scheduler: a third spread instance on two web machines waits for one") {
  FleetDoubleOptions options;
  options.machines = {k_web1 + ",10.0.0.1,role=web", k_web2 + ",10.0.0.2,role=web",
                      k_router + ",10.0.0.4,role=router"};
  FleetDouble fleet(options);
  auto scheduler = open_scheduler(fleet);
  for (const char* n : {"1", "2", "3"}) {
    scheduler->start(web(n));
  }
  scheduler->wait({"web", "1"}, State::running, 20s, nullptr);
  scheduler->wait({"web", "2"}, State::running, 20s, nullptr);
  fleet.settle();
  auto third = scheduler->find({"web", "3"});
  REQUIRE(third.has_value());
  CHECK(third->state == State::pending);
  CHECK(third->detail.find("no machine: ") == 0);
  CHECK(third->detail.find("conflicts with web@") != std::string::npos);
}

TEST_CASE("fleet scheduler: same spec changes nothing, a new spec replaces, stop and remove") {
  FleetDouble fleet(four_machines());
  auto scheduler = open_scheduler(fleet);
  const InstanceName name{"web", "1"};
  scheduler->start(web("1", "h1"));
  scheduler->wait(name, State::running, 20s, nullptr);
  fleet.settle();
  const std::string first_hash = herald::fleet::unit_hash(unit_of(fleet, "web@1.service").options);
  CHECK(state_of(fleet, "web@1.service").hash == first_hash);

  // The same spec again: the templates are not sent again, the unit keeps its options and the
  // agent its running unit.
  auto before = nlohmann::json::parse(fleet.get("/_double/requests").body)["by"];
  scheduler->start(web("1", "h1"));
  fleet.settle();
  auto after = nlohmann::json::parse(fleet.get("/_double/requests").body)["by"];
  for (const char* put :
       {"PUT /fleet/v1/units/web@.service", "PUT /fleet/v1/units/web-discovery@.service"}) {
    CHECK_MESSAGE(after.value(put, 0) == before.value(put, 0), put);
    CHECK_MESSAGE(after.value(put, 0) == 1, put);
  }
  CHECK(herald::fleet::unit_hash(unit_of(fleet, "web@1.service").options) == first_hash);
  CHECK(state_of(fleet, "web@1.service").hash == first_hash);
  CHECK(scheduler->wait(name, State::running, 20s, nullptr).spec_hash == "h1");

  // Another spec hash: fleet replaces the unit and the agent runs the new one.
  InstanceSpec next = web("1", "h2");
  next.image = "registry.local/web:2";
  scheduler->start(next);
  fleet.settle();
  Instance replaced = scheduler->wait(name, State::running, 20s, nullptr);
  CHECK(replaced.state == State::running);
  CHECK(replaced.spec_hash == "h2");
  CHECK(replaced.image == "registry.local/web:2");
  auto unit = unit_of(fleet, "web@1.service");
  const std::string next_hash = herald::fleet::unit_hash(unit.options);
  CHECK(next_hash != first_hash);
  CHECK(option(unit, "Unit", "X-Herald-Spec") == "h2");
  CHECK(option(unit, "Service", "ExecStart").find("registry.local/web:2") != std::string::npos);
  CHECK(option(unit_of(fleet, "web@.service"), "Unit", "X-Herald-Spec") == "h2");
  herald::fleet::UnitState running = state_of(fleet, "web@1.service");
  CHECK(running.hash == next_hash);
  CHECK(running.active_state == "active");
  auto listed = scheduler->list("web");
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].spec_hash == "h2");

  CHECK(scheduler->stop(name, 10s));
  CHECK(scheduler->wait(name, State::stopped, 20s, nullptr).state == State::stopped);
  CHECK_FALSE(scheduler->stop(name, 10s));
  CHECK(unit_of(fleet, "web@1.service").desired_state == herald::fleet::DesiredState::loaded);
  CHECK(unit_of(fleet, "web-discovery@1.service").desired_state ==
        herald::fleet::DesiredState::loaded);

  CHECK(scheduler->remove(name));
  CHECK_FALSE(scheduler->find(name).has_value());
  CHECK(fleet.get("/fleet/v1/units/web%401.service").status == 404);
  CHECK(fleet.get("/fleet/v1/units/web-discovery%401.service").status == 404);
  CHECK(fleet.get("/fleet/v1/units/web%40.service").status == 200); // templates stay
  CHECK_FALSE(scheduler->remove(name));
  CHECK(scheduler->list().empty());
}

TEST_CASE("fleet scheduler: a unit fleet refuses is failed, with fleet's words, and changes "
          "nothing") {
  FleetDouble fleet(four_machines());
  auto scheduler = open_scheduler(fleet);
  scheduler->start(web("1", "h1"));
  scheduler->wait({"web", "1"}, State::running, 20s, nullptr);
  fleet.settle();
  const std::string template_hash =
      herald::fleet::unit_hash(unit_of(fleet, "web@.service").options);
  const std::string instance_hash =
      herald::fleet::unit_hash(unit_of(fleet, "web@1.service").options);

  // MachineOf= a unit that a Conflicts= glob also matches: fleet cannot meet both.
  InstanceSpec refused = web("1", "h2");
  refused.image = "registry.local/web:2";
  refused.placement.conflicts = {"db@*.service"};
  refused.placement.machine_of = "db@1.service";
  std::string message;
  CHECK(kind_of([&] { scheduler->start(refused); }, &message) == ErrorKind::failed);
  CHECK_MESSAGE(message.find("web@1: fleet refused web@.service: PUT ") == 0, message);
  CHECK_MESSAGE(message.find(": HTTP 400 Bad Request: unresolvable requirements: peer "
                             "\"db@1.service\" matches conflict \"db@*.service\"") !=
                    std::string::npos,
                message);

  // The instance runs on from its old spec; the templates keep their options.
  fleet.settle();
  auto after = scheduler->find({"web", "1"});
  REQUIRE(after.has_value());
  CHECK(after->state == State::running);
  CHECK(after->spec_hash == "h1");
  CHECK(after->image == "registry.local/web:1");
  CHECK(herald::fleet::unit_hash(unit_of(fleet, "web@.service").options) == template_hash);
  CHECK(herald::fleet::unit_hash(unit_of(fleet, "web@1.service").options) == instance_hash);
  CHECK(state_of(fleet, "web@1.service").hash == instance_hash);

  // A new instance of that spec leaves no unit behind.
  refused.instance = "2";
  CHECK(kind_of([&] { scheduler->start(refused); }) == ErrorKind::failed);
  CHECK(fleet.get("/fleet/v1/units/web%402.service").status == 404);
  CHECK(fleet.get("/fleet/v1/units/web-discovery%402.service").status == 404);
  CHECK_FALSE(scheduler->find({"web", "2"}).has_value());
  CHECK(scheduler->list("web").size() == 1);
}

TEST_CASE("fleet scheduler: a failing unit is reported failed to wait") {
  FleetDouble fleet(four_machines());
  fleet.control("fail?unit=web@2.service");
  auto scheduler = open_scheduler(fleet);
  scheduler->start(web("2"));
  Instance seen = scheduler->wait({"web", "2"}, State::running, 20s, nullptr);
  CHECK(seen.state == State::failed);
  CHECK(seen.detail == "failed/failed");
  CHECK(scheduler->logs({"web", "2"}, 10).empty()); // fleet's API has no journal
}

TEST_CASE("fleet scheduler: the instances of a lost machine run again elsewhere") {
  FleetDouble fleet(four_machines());
  auto scheduler = open_scheduler(fleet);
  scheduler->start(web("1"));
  scheduler->start(web("2"));
  Instance one = scheduler->wait({"web", "1"}, State::running, 20s, nullptr);
  scheduler->wait({"web", "2"}, State::running, 20s, nullptr);

  fleet.control("lose-machine?id=" + one.machine);
  bool moved = eventually(
      [&] {
        auto now = scheduler->find({"web", "1"});
        return now && now->state == State::running && now->machine != one.machine;
      },
      20s);
  CHECK(moved);
  CHECK(scheduler->machines().size() == 3);
  auto now = scheduler->find({"web", "1"});
  CHECK(now->machine != scheduler->find({"web", "2"})->machine);
  CHECK(now->machine != k_router);
}

TEST_CASE("fleet scheduler errors: unknown instance, invalid spec, fleet unreachable") {
  FleetDouble fleet(four_machines());
  auto scheduler = open_scheduler(fleet);
  CHECK(kind_of([&] { scheduler->stop({"web", "9"}, 1s); }) == ErrorKind::not_found);
  CHECK(kind_of([&] { scheduler->logs({"web", "9"}, 1); }) == ErrorKind::not_found);
  CHECK_FALSE(scheduler->remove({"web", "9"}));
  InstanceSpec bad = web("1");
  bad.container_port = 0;
  CHECK(kind_of([&] { scheduler->start(bad); }) == ErrorKind::usage);
  CHECK(scheduler->list().empty());

  Options options;
  options.backend = "fleet";
  options.fleet.endpoint = "http://127.0.0.1:" + std::to_string(free_port());
  auto nowhere = herald::scheduler::open(options);
  CHECK(kind_of([&] { nowhere->list(); }) == ErrorKind::unavailable);
}

TEST_SUITE_END();
