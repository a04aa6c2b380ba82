#include "cluster/files.hpp"
#include "herald/cluster/load.hpp"
#include "herald/cluster/units.hpp"
#include "herald/units/unit_file.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace herald;
using namespace herald::cluster;
using herald::scheduler::State;
using herald::scheduler::UnitInfo;

namespace {

ClusterSpec fleet_file(const std::string& domain = "example.com",
                       const std::string& more_routers = "") {
  std::string text = "scheduler: {kind: fleet, endpoint: \"http://127.0.0.1:1\"}\n"
                     "routers:\n  - {kind: nginx-host, domain: " +
                     domain + ", metadata: [role=edge]}\n" + more_routers +
                     "apps:\n  - {name: web, image: \"web:v1\", port: 80}\n"
                     "units:\n  - name: image-registry.service\n    global: true\n"
                     "    text: |\n      [Unit]\n      Description=registry\n"
                     "      # a comment fleet does not keep\n"
                     "      [Service]\n      ExecStart=/usr/bin/registry\n";
  return parse_cluster(text, "conf/cluster.yaml", herald::cluster::test::files({}));
}

std::vector<ClusterUnit> made(const ClusterSpec& spec) {
  return cluster_units(spec, units::UnitTemplates(), units::HostPaths::installed());
}

/// What fleet would report for `unit` once it runs it.
UnitInfo running(const ClusterUnit& unit) {
  UnitInfo out;
  out.name = unit.name;
  out.text = canonical_unit_text(unit.text, unit.name);
  out.owner = unit.owner;
  out.global = unit.global;
  out.state = State::running;
  return out;
}

std::vector<std::string> lines(const std::vector<UnitChange>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) {
    out.push_back(std::string(to_string(c.action)) + " " + c.name + " (" + c.reason + ")");
  }
  return out;
}

} // namespace

TEST_SUITE_BEGIN("cluster");

TEST_CASE("cluster units: extra units first, then each router's render unit and router, all "
          "marked as herald's") {
  std::vector<ClusterUnit> units = made(fleet_file());
  REQUIRE(units.size() == 3);
  CHECK(units[0].name == "image-registry.service");
  CHECK(units[0].role == UnitRole::extra);
  CHECK(units[0].global);
  CHECK(units[1].name == "herald-router-render.service");
  CHECK(units[2].name == "herald-router.service");
  for (const auto& unit : units) {
    auto file = units::UnitFile::parse(unit.text, unit.name);
    CHECK_MESSAGE(file.value("Unit", "X-Herald-Cluster-Unit") == unit.owner, unit.name);
    CHECK_MESSAGE(file.value("X-Fleet", "Global") == std::optional<std::string>("true"), unit.name);
  }
  CHECK(units[0].owner == "unit");
  CHECK(units[2].owner == "router herald-router");
  CHECK(units[2].role == UnitRole::router);
  auto router = units::UnitFile::parse(units[2].text, units[2].name);
  CHECK(router.values("X-Fleet", "MachineMetadata") == std::vector<std::string>{"role=edge"});
}

TEST_CASE("cluster units: a counted router is NAME-1 .. NAME-N, one a machine, each with its "
          "render unit beside it") {
  ClusterSpec spec = fleet_file("example.com", "  - {name: paths, kind: nginx-path, global: "
                                               "false, instances: 2}\n");
  std::vector<ClusterUnit> units = made(spec);
  REQUIRE(units.size() == 7);
  CHECK(units[3].name == "paths-1-render.service");
  CHECK(units[4].name == "paths-1.service");
  CHECK(units[5].name == "paths-2-render.service");
  CHECK(units[6].name == "paths-2.service");
  auto one = units::UnitFile::parse(units[4].text, units[4].name);
  CHECK_FALSE(one.value("X-Fleet", "Global").has_value());
  CHECK(one.values("X-Fleet", "Conflicts") == std::vector<std::string>{"paths-2.service"});
  CHECK(one.value("Unit", "X-Herald-Cluster-Unit") == std::optional<std::string>("router paths"));
  auto render = units::UnitFile::parse(units[3].text, units[3].name);
  CHECK(render.value("X-Fleet", "MachineOf") == std::optional<std::string>("paths-1.service"));
  CHECK_FALSE(units[4].global);
}

TEST_CASE("plan units: created with a diff from nothing, left alone when fleet has the same, "
          "replaced with the diff of what changed") {
  ClusterSpec spec = fleet_file();
  std::vector<ClusterUnit> units = made(spec);
  std::vector<UnitChange> fresh = plan_units(spec, units, {}, true);
  CHECK(lines(fresh) == std::vector<std::string>{
                            "create image-registry.service (new extra unit, global)",
                            "create herald-router-render.service (new router herald-router, "
                            "global)",
                            "create herald-router.service (new router herald-router, global)"});
  CHECK(fresh[0].diff.rfind("--- /dev/null\n+++ image-registry.service (cluster.yaml)\n", 0) == 0);
  CHECK(fresh[0].diff.find("+ExecStart=/usr/bin/registry\n") != std::string::npos);
  CHECK(fresh[0].diff.find("comment") == std::string::npos); // fleet keeps options only
  CHECK(fresh[0].text == units[0].text);

  std::vector<UnitInfo> existing;
  for (const auto& unit : units) {
    existing.push_back(running(unit));
  }
  CHECK(plan_units(spec, units, existing, true).empty());

  ClusterSpec next = fleet_file("example.org");
  std::vector<UnitChange> changed = plan_units(next, made(next), existing, true);
  REQUIRE(lines(changed) ==
          std::vector<std::string>{"replace herald-router-render.service (router changed "
                                   "(every machine))"});
  CHECK(changed[0].diff.find("--- herald-router-render.service (fleet)\n"
                             "+++ herald-router-render.service (cluster.yaml)\n") == 0);
  CHECK(changed[0].diff.find("\n-Environment=HERALD_DOMAIN=example.com\n"
                             "+Environment=HERALD_DOMAIN=example.org\n") != std::string::npos);
}

TEST_CASE("plan units: a stopped unit starts; what herald made and the file lost goes, routers "
          "first, unless not pruning") {
  ClusterSpec spec = fleet_file();
  std::vector<ClusterUnit> units = made(spec);
  std::vector<UnitInfo> existing;
  for (const auto& unit : units) {
    existing.push_back(running(unit));
  }
  existing[0].state = State::stopped;
  existing[0].detail = "loaded";
  UnitInfo old_unit = existing[0];
  old_unit.name = "old-shipper.service";
  old_unit.state = State::running;
  existing.push_back(old_unit);
  UnitInfo old_router = existing[2];
  old_router.name = "edge.service";
  old_router.owner = "router edge";
  existing.push_back(old_router);

  std::vector<UnitChange> changes = plan_units(spec, units, existing, true);
  CHECK(lines(changes) ==
        std::vector<std::string>{"start image-registry.service (loaded)",
                                 "remove edge.service (not in cluster.yaml)",
                                 "remove old-shipper.service (not in cluster.yaml)"});
  CHECK(changes[1].role == UnitRole::router);
  CHECK(changes[1].diff.find("+++ /dev/null\n") != std::string::npos);
  CHECK(plan_units(spec, units, existing, false).size() == 1);

  std::vector<UnitStatus> status = unit_status(units, existing);
  REQUIRE(status.size() == 5);
  CHECK_FALSE(status[0].settled()); // stopped
  CHECK(status[2].settled());
  CHECK(status[3].unit.name == "old-shipper.service");
  CHECK_FALSE(status[3].in_file);
  CHECK(status[4].role == UnitRole::router);
}

TEST_SUITE_END();
