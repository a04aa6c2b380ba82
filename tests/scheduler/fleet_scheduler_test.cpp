#include "herald/fleet/model.hpp"
#include "herald/scheduler/fleet/fleet_scheduler.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace herald;
using namespace herald::scheduler;
using herald::fleet::DesiredState;
using herald::fleet::option_values;
using herald::fleet::UnitOption;
using herald::fleet::UnitState;
using herald::scheduler::fleet::instance_of;
using herald::scheduler::fleet::spec_units;

namespace {

InstanceSpec api2() {
  InstanceSpec spec;
  spec.app = "api";
  spec.instance = "2";
  spec.image = "registry.local/api:7";
  spec.command = {"serve", "--mode", "fast mode"};
  spec.container_port = 9000;
  spec.spec_hash = "f00d";
  spec.placement.conflicts = {"db@*.service"};
  spec.routing.tags = {"v7"};
  spec.routing.meta = {{"zone", "eu"}};
  spec.registry_prefix = "/services/api";
  return spec;
}

herald::fleet::Unit launched(const std::string& machine = "m1") {
  herald::fleet::Unit unit;
  unit.name = "api@2.service";
  unit.options = {{"Unit", "X-Herald-Spec", "f00d"},
                  {"Unit", "X-Herald-Image", "registry.local/api:7"},
                  {"Unit", "X-Herald-Host-Port", "8080"}};
  unit.desired_state = DesiredState::launched;
  unit.machine_id = machine;
  return unit;
}

UnitState systemd(const std::string& active, const std::string& sub) {
  return UnitState{"api@2.service", "hash", "m1", "loaded", active, sub};
}

const std::vector<herald::fleet::Machine> k_machines{{"m1", "10.0.0.1", {}}};

std::string single(const std::vector<UnitOption>& options, const char* section, const char* name) {
  auto values = option_values(options, section, name);
  REQUIRE(values.size() == 1);
  return values[0];
}

} // namespace

TEST_SUITE_BEGIN("scheduler");

TEST_CASE("fleet scheduler: the units of a spec, templates first, carrying the spec") {
  auto units =
      spec_units(api2(), herald::units::UnitTemplates(), herald::units::HostPaths::installed());
  REQUIRE(units.size() == 4);
  CHECK(units[0].name == "api@.service");
  CHECK(units[1].name == "api-discovery@.service");
  CHECK(units[2].name == "api@2.service");
  CHECK(units[3].name == "api-discovery@2.service");
  CHECK(units[2].options == units[0].options);

  const auto& app = units[2].options;
  CHECK(single(app, "Unit", "X-Herald-Spec") == "f00d");
  CHECK(single(app, "Unit", "X-Herald-Image") == "registry.local/api:7");
  CHECK(option_values(app, "Unit", "X-Herald-Host-Port").empty());
  CHECK(single(app, "X-Fleet", "Conflicts") == "db@*.service");
  std::string run = single(app, "Service", "ExecStart");
  CHECK(run.ends_with("registry.local/api:7 serve --mode \"fast mode\""));

  std::string announce = single(units[3].options, "Service", "ExecStart");
  CHECK(announce.find(" announce api@%i ") != std::string::npos);
  CHECK(announce.find("--tag v7 --value json --meta zone=eu --prefix /services/api") !=
        std::string::npos);
}

TEST_CASE("fleet scheduler: a fixed host port and the placement go into the instance unit") {
  InstanceSpec spec = api2();
  spec.host_port = 8080;
  spec.placement.spread = true;
  spec.placement.metadata = {"role=api", "disk=ssd"};
  auto units =
      spec_units(spec, herald::units::UnitTemplates(), herald::units::HostPaths::installed());
  REQUIRE(units.size() == 4);
  const auto& app = units[2].options;
  CHECK(single(app, "Unit", "X-Herald-Host-Port") == "8080");
  CHECK(option_values(app, "X-Fleet", "Conflicts") ==
        std::vector<std::string>{"api@*.service", "db@*.service"});
  auto metadata = option_values(app, "X-Fleet", "MachineMetadata");
  CHECK(metadata.size() == 2);
  CHECK(std::find(metadata.begin(), metadata.end(), "disk=ssd") != metadata.end());
  CHECK(single(units[3].options, "X-Fleet", "MachineOf") == "api@%i.service");
}

TEST_CASE("fleet scheduler: unit and systemd states map to instance states") {
  auto state_of = [](const herald::fleet::Unit& unit, std::vector<UnitState> states) {
    return instance_of(unit, states, k_machines, {unit});
  };
  Instance running = state_of(launched(), {systemd("active", "running")});
  CHECK(running.state == State::running);
  CHECK(running.detail == "active/running");
  CHECK(running.name().str() == "api@2");
  CHECK(running.spec_hash == "f00d");
  CHECK(running.image == "registry.local/api:7");
  CHECK(running.machine_ip == "10.0.0.1");
  REQUIRE(running.address.has_value());
  CHECK(running.address->str() == "10.0.0.1:8080");

  CHECK(state_of(launched(), {systemd("activating", "start-pre")}).state == State::starting);
  CHECK(state_of(launched(), {systemd("inactive", "dead")}).state == State::starting);
  CHECK(state_of(launched(), {systemd("failed", "failed")}).state == State::failed);
  CHECK(state_of(launched(), {systemd("deactivating", "stop")}).state == State::stopping);
  CHECK(state_of(launched(), {}).state == State::starting);

  auto loaded = launched();
  loaded.desired_state = DesiredState::loaded;
  CHECK(state_of(loaded, {systemd("active", "running")}).state == State::stopping);
  CHECK(state_of(loaded, {systemd("inactive", "dead")}).state == State::stopped);
  auto submitted = launched("");
  submitted.desired_state = DesiredState::inactive;
  CHECK(state_of(submitted, {}).state == State::stopped);

  auto unplaced = launched("");
  unplaced.options.push_back({"X-Fleet", "MachineMetadata", "role=web"});
  Instance pending = state_of(unplaced, {});
  CHECK(pending.state == State::pending);
  CHECK(pending.detail.find("no machine: ") == 0);
  CHECK_FALSE(pending.address.has_value());
}

TEST_SUITE_END();
