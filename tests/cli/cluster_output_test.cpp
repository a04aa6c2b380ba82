// cluster plan's output of unit changes: a row each, the unified diff after the table (table and
// wide only, made safe for a terminal), and unit_changes in JSON.
#include "herald/cli/cluster_output.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

using namespace herald;
using namespace herald::cli;

namespace {

cluster::Plan unit_plan() {
  cluster::Plan plan;
  cluster::UnitChange change;
  change.action = cluster::Action::replace;
  change.name = "herald-router-render.service";
  change.owner = "router herald-router";
  change.role = cluster::UnitRole::router;
  change.global = true;
  change.reason = "router changed (every machine)";
  change.diff = "--- a (fleet)\n+++ a (cluster.yaml)\n@@ -1 +1 @@\n-X=\x1b[31m\n+X=2\n";
  plan.units.push_back(change);
  return plan;
}

std::string printed(const cluster::Plan& plan, OutputFormat format) {
  std::ostringstream out;
  OutputOptions options;
  options.format = format;
  Printer printer(out, plan_columns(), options);
  print_plan(printer, plan);
  return out.str();
}

} // namespace

TEST_SUITE_BEGIN("cli");

TEST_CASE("cluster plan prints a unit change as a row, then its diff, escaped") {
  std::string table = printed(unit_plan(), OutputFormat::table);
  CHECK(table.find("replace   herald-router-render.service   router changed (every machine)") !=
        std::string::npos);
  CHECK(table.find("\n--- a (fleet)\n+++ a (cluster.yaml)\n@@ -1 +1 @@\n-X=?[31m\n+X=2\n") !=
        std::string::npos);
  CHECK(table.find('\x1b') == std::string::npos);
  std::string simple = printed(unit_plan(), OutputFormat::simple);
  CHECK(simple.find("---") == std::string::npos);
  CHECK(simple.find("herald-router-render.service") != std::string::npos);
}

TEST_CASE("cluster plan -o json has the unit changes and their count") {
  auto doc = nlohmann::json::parse(printed(unit_plan(), OutputFormat::json));
  CHECK(doc["pending"] == true);
  CHECK(doc["summary"]["units"]["replace"] == 1);
  CHECK(doc["summary"]["replace"] == 0);
  REQUIRE(doc["unit_changes"].size() == 1);
  const auto& change = doc["unit_changes"][0];
  CHECK(change["action"] == "replace");
  CHECK(change["unit"] == "herald-router-render.service");
  CHECK(change["role"] == "router");
  CHECK(change["owner"] == "router herald-router");
  CHECK(change["global"] == true);
  CHECK(change["diff"].get<std::string>().find("+X=2\n") != std::string::npos);
}

TEST_SUITE_END();
