// The example cluster files of examples/ are read by every test run, so they never rot.

#include "herald/cluster/hash.hpp"
#include "herald/cluster/load.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <string>

using namespace herald::cluster;

TEST_SUITE_BEGIN("cluster");

TEST_CASE("examples/cluster.yaml: two apps of three behind nginx-host on docker") {
  ClusterSpec spec = load_cluster_file(std::string(HERALD_SOURCE_DIR) + "/examples/cluster.yaml");
  CHECK(spec.scheduler.kind == SchedulerKind::docker);
  REQUIRE(spec.routers.size() == 1);
  CHECK(spec.routers[0].kind == RouterKind::nginx_host);
  REQUIRE(spec.apps.size() == 2);
  for (const AppSpec& app : spec.apps) {
    CHECK(app.instances == 3);
    CHECK(app.routing == Routing::host);
    CHECK(app.health.path == "/health");
  }
  CHECK(spec.apps[0].name == "web");
  CHECK(spec.apps[1].name == "api");
  CHECK(instance_hash(spec.apps[0]) != instance_hash(spec.apps[1]));
  CHECK(parse_cluster(dump_cluster(spec), "dump").apps.size() == 2);
}

TEST_CASE("examples/cluster-fleet.yaml: a global router, spread apps, an extra unit") {
  ClusterSpec spec =
      load_cluster_file(std::string(HERALD_SOURCE_DIR) + "/examples/cluster-fleet.yaml");
  CHECK(spec.scheduler.kind == SchedulerKind::fleet);
  REQUIRE(spec.scheduler.fleet.tunnel);
  REQUIRE(spec.routers.size() == 1);
  CHECK(spec.routers[0].global);
  REQUIRE(spec.apps.size() == 2);
  for (const AppSpec& app : spec.apps) {
    CHECK(app.placement.spread);
  }
  // The env file beside it is read.
  CHECK(spec.apps[0].environment().size() == 3);
  REQUIRE(spec.units.size() == 1);
  CHECK(spec.units[0].global);
  CHECK(spec.units[0].text.find("[Service]") != std::string::npos);
}

TEST_CASE("every examples/*.yaml is a cluster file that loads and re-parses from its dump") {
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(HERALD_SOURCE_DIR) + "/examples")) {
    if (entry.path().extension() != ".yaml") {
      continue;
    }
    ++count;
    CAPTURE(entry.path().filename().string());
    ClusterSpec spec = load_cluster_file(entry.path().string());
    CHECK_FALSE(spec.apps.empty());
    ClusterSpec again = parse_cluster(dump_cluster(spec), "dump");
    REQUIRE(again.apps.size() == spec.apps.size());
    for (std::size_t i = 0; i < spec.apps.size(); ++i) {
      CHECK(instance_hash(again.apps[i]) == instance_hash(spec.apps[i]));
    }
  }
  CHECK(count >= 2);
}

TEST_SUITE_END();
