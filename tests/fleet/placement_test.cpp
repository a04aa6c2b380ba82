#include "fleet/fixtures.hpp"
#include "herald/fleet/placement.hpp"

#include <doctest/doctest.h>

using namespace herald::fleet;
using herald::test::fleet_fixture;

namespace {

const std::string k_m1 = "11111111111111111111111111111111";
const std::string k_m2 = "22222222222222222222222222222222";

std::vector<Machine> two_machines() {
  return {{k_m1, "10.0.0.1", {{"role", "web"}}}, {k_m2, "10.0.0.2", {{"role", "router"}}}};
}

Unit unit(std::string name, std::vector<UnitOption> xfleet, std::string machine = {}) {
  Unit u;
  u.name = std::move(name);
  u.options = {{"Service", "ExecStart", "/bin/true"}};
  for (auto& option : xfleet) {
    u.options.push_back(option);
  }
  u.desired_state = DesiredState::launched;
  u.machine_id = std::move(machine);
  return u;
}

UnitOption xfleet(std::string name, std::string value) {
  return {"X-Fleet", std::move(name), std::move(value)};
}

std::vector<UnitOption> sent_options(const std::string& fixture) {
  auto body = nlohmann::json::parse(fleet_fixture(fixture)["request"]["body"].get<std::string>());
  std::vector<UnitOption> out;
  for (const auto& o : body["options"]) {
    out.push_back({o["section"], o["name"], o["value"]});
  }
  return out;
}

} // namespace

TEST_SUITE_BEGIN("fleet");

TEST_CASE("glob_match follows Go's path.Match") {
  CHECK(glob_match("hello@*.service", "hello@1.service"));
  CHECK(glob_match("hello@*.service", "hello@.service"));
  CHECK_FALSE(glob_match("hello@*.service", "hello-sidekick@1.service"));
  CHECK(glob_match("web@?.service", "web@7.service"));
  CHECK_FALSE(glob_match("web@?.service", "web@10.service"));
  CHECK(glob_match("web@[0-9].service", "web@3.service"));
  CHECK_FALSE(glob_match("web@[^0-9].service", "web@3.service"));
  CHECK(glob_match("a\\*b", "a*b"));
  CHECK_FALSE(glob_match("*", "a/b"));
  CHECK_FALSE(glob_match("web@[0-9.service", "web@3.service")); // a bad pattern matches nothing
}

TEST_CASE("requirements expand specifiers and fold in the deprecated spellings") {
  auto req = requirements_of(
      "app-side@3.service",
      {xfleet("MachineOf", "app@%i.service"), xfleet("X-Conflicts", "app-side@*.service"),
       xfleet("MachineMetadata", "role=web"), xfleet("MachineMetadata", "role=api"),
       xfleet("MachineMetadata", "zone=a=b"), xfleet("Global", "false")});
  CHECK(req.peers == std::vector<std::string>{"app@3.service"});
  CHECK(req.conflicts == std::vector<std::string>{"app-side@*.service"});
  CHECK(req.metadata.at("role") == std::set<std::string>{"api", "web"});
  CHECK(req.metadata.count("zone") == 0);
  CHECK_FALSE(req.global);
  CHECK(requirements_of("g.service", {xfleet("Global", "TRUE")}).global);
}

TEST_CASE("options_problem says what fleetd says for the recorded refusals") {
  for (const char* name :
       {"50-unit-put-global-with-machineof.json", "51-unit-put-machineid-with-conflicts.json",
        "54-unit-put-multiline-value.json"}) {
    CAPTURE(name);
    auto problem = options_problem(sent_options(name));
    REQUIRE(problem.has_value());
    CHECK(*problem == fleet_fixture(name)["response"]["body_json"]["error"]["message"]);
  }
  CHECK_FALSE(options_problem(sent_options("06-unit-create-template.json")).has_value());
  CHECK(*options_problem({xfleet("MachineOf", "a.service"), xfleet("Conflicts", "a*")}) ==
        R"(unresolvable requirements: peer "a.service" matches conflict "a*")");
}

TEST_CASE("a third conflicting instance on two machines is unschedulable, with the reasons") {
  auto c = xfleet("Conflicts", "hello@*.service");
  std::vector<Unit> units{unit("hello@1.service", {c}, k_m1), unit("hello@2.service", {c}, k_m2),
                          unit("hello@3.service", {c})};
  auto why = unschedulable_reason(units[2], two_machines(), units);
  REQUIRE(why.has_value());
  CHECK(why->find("11111111: conflicts with hello@1.service") != std::string::npos);
  CHECK(why->find("22222222: conflicts with hello@2.service") != std::string::npos);
  units.pop_back();
  units[1].machine_id.clear(); // hello@2 unloaded: its machine is free again
  CHECK_FALSE(unschedulable_reason(unit("hello@3.service", {c}), two_machines(), units));
}

TEST_CASE("conflicts count both ways") {
  std::vector<Unit> units{unit("db.service", {xfleet("Conflicts", "web*")}, k_m1)};
  auto refusal = placement_refusal(unit("web.service", {}), two_machines()[0], units);
  REQUIRE(refusal.has_value());
  CHECK(*refusal == "conflicts with db.service");
  CHECK_FALSE(placement_refusal(unit("web.service", {}), two_machines()[1], units));
}

TEST_CASE("metadata, machine id and MachineOf decide where a unit may go") {
  auto machines = two_machines();
  CHECK(placement_refusal(unit("r.service", {xfleet("MachineMetadata", "role=router")}),
                          machines[0], {}) == std::optional<std::string>("no role=router"));
  CHECK_FALSE(placement_refusal(unit("r.service", {xfleet("MachineMetadata", "role=router")}),
                                machines[1], {}));
  CHECK_FALSE(
      placement_refusal(unit("p.service", {xfleet("MachineID", "22222222")}), machines[1], {}));
  CHECK(placement_refusal(unit("p.service", {xfleet("MachineID", "22222222")}), machines[0], {}));
  auto nowhere = unit("db.service", {xfleet("MachineMetadata", "role=db")});
  auto why = unschedulable_reason(nowhere, machines, {});
  REQUIRE(why.has_value());
  CHECK(why->find("no role=db") != std::string::npos);

  std::vector<Unit> units{unit("app@1.service", {}, k_m2)};
  auto side = unit("side@1.service", {xfleet("MachineOf", "app@%i.service")});
  CHECK(placement_refusal(side, machines[0], units).has_value());
  CHECK_FALSE(placement_refusal(side, machines[1], units));
  units[0].machine_id.clear(); // the peer is waiting itself: so is its sidekick, for now
  CHECK_FALSE(unschedulable_reason(side, machines, units));
  CHECK(unschedulable_reason(unit("s@2.service", {xfleet("MachineOf", "app@%i.service")}), machines,
                             units)
            ->find("does not exist") != std::string::npos);
}

TEST_CASE("a global unit no machine's metadata matches is unschedulable, with the reasons") {
  auto db = unit("db.service", {xfleet("Global", "true"), xfleet("MachineMetadata", "role=db")});
  auto why = unschedulable_reason(db, two_machines(), {});
  REQUIRE(why.has_value());
  CHECK(*why == "no machine can take it (11111111: no role=db; 22222222: no role=db)");

  // One matching machine is enough: its agent starts it there.
  auto routers =
      unit("r.service", {xfleet("Global", "true"), xfleet("MachineMetadata", "role=router")});
  CHECK_FALSE(unschedulable_reason(routers, two_machines(), {}));
  CHECK_FALSE(
      unschedulable_reason(unit("g.service", {xfleet("Global", "true")}), two_machines(), {}));
  // Only metadata counts for it: fleet's agents run a global unit beside anything.
  std::vector<Unit> units{unit("x.service", {xfleet("Conflicts", "*")}, k_m2)};
  CHECK_FALSE(unschedulable_reason(routers, two_machines(), units));

  // No machine at all reads the same as for any other unit.
  CHECK(unschedulable_reason(db, {}, {}) ==
        std::optional<std::string>("the cluster has no machine"));
  CHECK(unschedulable_reason(unit("a.service", {}), {}, {}) ==
        std::optional<std::string>("the cluster has no machine"));
}

TEST_SUITE_END();
