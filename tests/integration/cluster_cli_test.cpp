#include "herald/registry/registry.hpp"
#include "support/etcd_server.hpp"
#include "support/fleet_double.hpp"
#include "support/fleet_sidekicks.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace herald;
using namespace herald::test;
using namespace std::chrono_literals;

// `herald cluster` as an operator runs it: routers and extra units on fleet (the fleet double,
// a real etcd, FleetSidekicks writing what the sidekicks would), and the docker scheduler's word
// on routers.

TEST_SUITE_BEGIN("cluster");

namespace {

std::map<std::string, std::string> clean_env() {
  return {{"FLEETCTL_ENDPOINT", ""},     {"FLEETCTL_TUNNEL", ""},
          {"HERALD_FLEET_ENDPOINT", ""}, {"HERALD_FLEET_TUNNEL", ""},
          {"HERALD_SSH_COMMAND", ""},    {"JOURNAL_STREAM", ""},
          {"HERALD_LOG_FORMAT", "text"}, {"NOTIFY_SOCKET", ""},
          {"HERALD_REGISTRY", ""},       {"DOCKER_HOST", ""}};
}

RunResult herald_cluster(std::vector<std::string> args, std::chrono::milliseconds timeout = 90s) {
  std::vector<std::string> argv{herald_bin(), "cluster"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, clean_env(), timeout);
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

std::string fleet_file(const std::string& endpoint, const std::string& registry,
                       const std::string& domain) {
  return "registry: {url: \"" + registry + "\"}\n" + "scheduler: {kind: fleet, endpoint: \"" +
         endpoint + "\"}\n" + "routers:\n  - {kind: nginx-host, domain: " + domain + "}\n" +
         "apps:\n  - {name: web, image: \"web:v1\", port: 80, instances: 2, update: {drain: "
         "0s}}\n" +
         "units:\n  - name: image-registry.service\n    global: true\n    text: |\n" +
         "      [Service]\n      ExecStart=/usr/bin/docker run --rm -p 5000:5000 registry:2\n";
}

} // namespace

TEST_CASE("cluster plan, up, status and down on fleet run the routers and extra units, with the "
          "unit diffs in the plan") {
  FleetDouble fleet;
  EtcdServer etcd;
  auto registry = registry::open(etcd.v3_url(), registry::Options{});
  FleetSidekicks sidekicks(fleet, *registry);
  TempDir dir;
  std::string file =
      dir.write("cluster.yaml", fleet_file(fleet.endpoint(), etcd.v3_url(), "example.com"));

  RunResult plan = herald_cluster({"plan", "-f", file});
  CHECK_MESSAGE(plan.status == 2, plan.err);
  CHECK(plan.out.find("create   image-registry.service") != std::string::npos);
  CHECK(plan.out.find("--- /dev/null\n+++ herald-router.service (cluster.yaml)\n") !=
        std::string::npos);
  CHECK(plan.out.find("+X-Herald-Cluster-Unit=router herald-router\n") != std::string::npos);
  CHECK(plan.out.find("+ExecStart=/usr/bin/docker run --rm -p 5000:5000 registry:2\n") !=
        std::string::npos);
  auto json = nlohmann::json::parse(herald_cluster({"plan", "-f", file, "-o", "json"}).out);
  CHECK(json["summary"]["units"]["create"] == 3);
  CHECK(json["summary"]["create"] == 2);
  CHECK(json["unit_changes"][0]["unit"] == "image-registry.service");

  RunResult up = herald_cluster({"up", "-f", file, "--timeout", "30s"});
  REQUIRE_MESSAGE(up.status == 0, up.err);
  RunResult again = herald_cluster({"up", "-f", file});
  CHECK_MESSAGE(again.status == 0, again.err);
  CHECK_MESSAGE(again.err.find("nothing to do: 2 instance(s) of 1 app(s) and 3 unit(s) run as") !=
                    std::string::npos,
                again.err);
  CHECK(herald_cluster({"plan", "-f", file}).status == 0);

  auto status = nlohmann::json::parse(herald_cluster({"status", "-f", file, "-o", "json"}).out);
  REQUIRE(status["units"].size() == 3);
  for (const auto& unit : status["units"]) {
    CHECK_MESSAGE(unit["settled"] == true, unit.dump());
    CHECK(unit["machines"].size() == 2); // global: both machines of the double
  }
  CHECK(status["apps"][0]["healthy"] == 2);

  // A changed router: replaced, with its diff.
  dir.write("cluster.yaml", fleet_file(fleet.endpoint(), etcd.v3_url(), "example.org"));
  RunResult changed = herald_cluster({"plan", "-f", file});
  CHECK(changed.status == 2);
  CHECK(changed.out.find("replace   herald-router-render.service") != std::string::npos);
  CHECK(changed.out.find("-Environment=HERALD_DOMAIN=example.com\n"
                         "+Environment=HERALD_DOMAIN=example.org\n") != std::string::npos);
  REQUIRE(herald_cluster({"up", "-f", file, "--timeout", "30s"}).status == 0);
  CHECK(herald_cluster({"plan", "-f", file}).status == 0);

  // down --keep-routers: instances and the extra unit go, the routers stay; then down.
  RunResult down = herald_cluster({"down", "-f", file, "--keep-routers"});
  CHECK_MESSAGE(down.status == 0, down.err);
  CHECK(fleet.get("/fleet/v1/units/image-registry.service").status == 404);
  CHECK(fleet.get("/fleet/v1/units/herald-router.service").status == 200);
  CHECK(fleet.get("/fleet/v1/units/web%401.service").status == 404);
  CHECK(herald_cluster({"down", "-f", file}).status == 0);
  CHECK(fleet.get("/fleet/v1/units/herald-router.service").status == 404);
  CHECK(fleet.get("/fleet/v1/units/herald-router-render.service").status == 404);
  CHECK(sidekicks.errors().empty());
}

TEST_CASE("cluster plan on docker says once that routers are not the docker scheduler's to run, "
          "and how to run one") {
  TempDir dir;
  std::string file = dir.write(
      "cluster.yaml", "scheduler: {kind: docker, endpoint: \"unix://" + dir.file("no.sock") +
                          "\"}\nrouters:\n  - {kind: nginx-path}\n"
                          "apps:\n  - {name: web, image: \"web:v1\", port: 80}\n");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"plan", "-f", file},
        std::vector<std::string>{"up", "--dry-run", "-f", file}}) {
    RunResult result = herald_cluster(args);
    CHECK_MESSAGE(count_of(result.err, "runs no routers") == 1, result.err);
    CHECK(
        result.err.find("the docker scheduler runs no routers, so router \"herald-router\" of ") !=
        std::string::npos);
    CHECK(result.err.find("'herald unit gen router --template nginx-path --name herald-router'") !=
          std::string::npos);
    CHECK(result.err.find("herald render --watch") != std::string::npos);
    // Then the plan goes on to the engine, which this test does not have.
    CHECK(result.status == 69);
  }
}

TEST_SUITE_END();
