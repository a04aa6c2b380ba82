#include "support/fleet_double.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

using namespace herald::test;
using namespace std::chrono_literals;
using nlohmann::json;

// herald unit submit|load|start|stop|unload|destroy|ls|machines|cat: the built binary against
// the fleet double (tests/doubles/fleet_double.py), which schedules over fake machines and
// walks units through systemd's states as fleet's agents do.

namespace {

const std::string k_m1 = "11111111111111111111111111111111";
const std::string k_m2 = "22222222222222222222222222222222";

std::map<std::string, std::string> clean_env() {
  return {{"FLEETCTL_ENDPOINT", ""},     {"FLEETCTL_TUNNEL", ""},    {"HERALD_FLEET_ENDPOINT", ""},
          {"HERALD_FLEET_TUNNEL", ""},   {"HERALD_SSH_COMMAND", ""}, {"JOURNAL_STREAM", ""},
          {"HERALD_LOG_FORMAT", "text"}, {"NOTIFY_SOCKET", ""}};
}

RunResult herald_unit(const FleetDouble& fleet, std::vector<std::string> args,
                      std::chrono::milliseconds timeout = 60s) {
  std::vector<std::string> argv{herald_bin(), "unit"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--endpoint", fleet.endpoint()});
  return run(argv, clean_env(), timeout);
}

const char* k_web_template = R"([Unit]
Description=web %i
After=docker.service

[Service]
ExecStart=/bin/sh -c 'while true; do \
    sleep 1; done'
ExecStop=/bin/true

[X-Fleet]
Conflicts=web@*.service
)";

const char* k_sidekick_template = R"([Unit]
Description=web %i sidekick
BindsTo=web@%i.service
After=web@%i.service

[Service]
ExecStart=/bin/sh -c 'while true; do sleep 1; done'

[X-Fleet]
MachineOf=web@%i.service
)";

json fleet_json(const FleetDouble& fleet, const std::string& path) {
  auto reply = fleet.get(path);
  REQUIRE_MESSAGE(reply.status == 200, path << " -> " << reply.status << " " << reply.body);
  return json::parse(reply.body);
}

/// "active/running" per machine of `unit`, as the double's /state says.
std::vector<std::string> running_on(const FleetDouble& fleet, const std::string& unit) {
  std::vector<std::string> out;
  for (const auto& s :
       fleet_json(fleet, "/fleet/v1/state?unitName=" + unit).value("states", json::array())) {
    if (s["systemdActiveState"] == "active" && s["systemdSubState"] == "running") {
      out.push_back(s["machineID"]);
    }
  }
  return out;
}

int puts_counted(const FleetDouble& fleet) {
  auto reply = http_request(fleet.port(), "GET", "/_double/requests", "", 5000);
  int puts = 0;
  // Named: a range-for over a member of a temporary reads freed memory (before C++23).
  json by = json::parse(reply.body)["by"];
  for (const auto& [key, count] : by.items()) {
    if (key.rfind("PUT ", 0) == 0 || key.rfind("DELETE ", 0) == 0) {
      puts += count.get<int>();
    }
  }
  return puts;
}

} // namespace

TEST_SUITE_BEGIN("unit");

TEST_CASE("unit start brings templates' instances and sidekicks to active/running, in parallel") {
  FleetDouble fleet({false, {}, {"--start-delay", "0.3"}});
  TempDir dir;
  dir.write("web@.service", k_web_template);
  dir.write("web-discovery@.service", k_sidekick_template);
  auto submit =
      herald_unit(fleet, {"submit", dir.file("web@.service"), dir.file("web-discovery@.service")});
  CHECK_MESSAGE(submit.status == 0, submit.err);
  CHECK(submit.out.find("web@.service") != std::string::npos);

  auto start = herald_unit(
      fleet, {"start", "web@1", "web@2", "web-discovery@1", "web-discovery@2", "-o", "json"});
  REQUIRE_MESSAGE(start.status == 0, start.err);
  json doc = json::parse(start.out);
  CHECK(doc["action"] == "start");
  REQUIRE(doc["units"].size() == 4);
  for (const auto& unit : doc["units"]) {
    CHECK(unit["result"] == "ok");
    CHECK(unit["state"] == "active/running");
  }
  auto web1 = running_on(fleet, "web@1.service");
  auto web2 = running_on(fleet, "web@2.service");
  REQUIRE(web1.size() == 1);
  REQUIRE(web2.size() == 1);
  CHECK(web1 != web2); // Conflicts=web@*.service spread them
  CHECK(running_on(fleet, "web-discovery@1.service") == web1); // MachineOf
  CHECK(running_on(fleet, "web-discovery@2.service") == web2);

  // The instance carries its template's options, continued lines joined (fleet refuses '\n').
  json unit = fleet_json(fleet, "/fleet/v1/units/web@1.service");
  bool joined = false;
  for (const auto& option : unit["options"]) {
    if (option["name"] == "ExecStart") {
      joined = option["value"].get<std::string>().find('\n') == std::string::npos &&
               option["value"].get<std::string>().find("sleep 1; done") != std::string::npos;
    }
  }
  CHECK(joined);

  auto ls = herald_unit(fleet, {"ls", "-o", "json"});
  REQUIRE_MESSAGE(ls.status == 0, ls.err);
  json states = json::parse(ls.out)["states"];
  CHECK(states.size() == 4);

  auto table = herald_unit(fleet, {"ls"});
  CHECK(table.out.find("UNIT") != std::string::npos);
  CHECK(table.out.find("web-discovery@2.service") != std::string::npos);
  CHECK(table.out.find("active") != std::string::npos);
  auto legendless =
      herald_unit(fleet, {"ls", "--no-legend", "--fields", "unit,sub", "-o", "simple"});
  CHECK(legendless.out.find("UNIT") == std::string::npos);
  CHECK(legendless.out.find("web@1.service\trunning") != std::string::npos);

  auto cat = herald_unit(fleet, {"cat", "web@1"});
  REQUIRE(cat.status == 0);
  CHECK(cat.out.rfind("[Unit]\nDescription=web %i\n", 0) == 0);
  CHECK(cat.out.find("[X-Fleet]\nConflicts=web@*.service\n") != std::string::npos);
}

TEST_CASE("starting a started unit changes nothing and succeeds, destroying a missing one too") {
  FleetDouble fleet;
  TempDir dir;
  dir.write("web@.service", k_web_template);
  REQUIRE(herald_unit(fleet, {"start", dir.file("web@.service"), "web@1"}).status == 0);
  int before = puts_counted(fleet);
  auto again = herald_unit(fleet, {"start", "web@1"});
  CHECK_MESSAGE(again.status == 0, again.err);
  CHECK(puts_counted(fleet) == before);
  auto destroy = herald_unit(fleet, {"destroy", "nope@1", "web@1"});
  CHECK_MESSAGE(destroy.status == 0, destroy.err);
  CHECK(fleet.get("/fleet/v1/units/web@1.service").status == 404);
  CHECK(running_on(fleet, "web@1.service").empty());
  auto twice = herald_unit(fleet, {"destroy", "web@1", "-o", "json"});
  CHECK(twice.status == 0);
  CHECK(json::parse(twice.out)["units"][0]["state"] == "absent");
}

TEST_CASE("stop, load and unload move a unit through fleet's states") {
  FleetDouble fleet;
  TempDir dir;
  dir.write("app.service", "[Service]\nExecStart=/bin/sh -c 'sleep 1000'\n");
  REQUIRE(herald_unit(fleet, {"start", dir.file("app.service")}).status == 0);
  auto stop = herald_unit(fleet, {"stop", "app", "-o", "json"});
  REQUIRE_MESSAGE(stop.status == 0, stop.err);
  CHECK(json::parse(stop.out)["units"][0]["state"] == "inactive/dead");
  CHECK(fleet_json(fleet, "/fleet/v1/units/app.service")["desiredState"] == "loaded");
  auto unload = herald_unit(fleet, {"unload", "app"});
  REQUIRE_MESSAGE(unload.status == 0, unload.err);
  json unit = fleet_json(fleet, "/fleet/v1/units/app.service");
  CHECK(unit["desiredState"] == "inactive");
  CHECK_FALSE(unit.contains("machineID"));
  auto load = herald_unit(fleet, {"load", "app"});
  REQUIRE_MESSAGE(load.status == 0, load.err);
  CHECK(fleet_json(fleet, "/fleet/v1/units/app.service")["desiredState"] == "loaded");
}

TEST_CASE("a unit that fails is reported by name and the command exits 1") {
  FleetDouble fleet;
  fleet.control("fail?unit=bad@*");
  TempDir dir;
  dir.write("bad@.service", "[Service]\nExecStart=/bin/false\n");
  dir.write("good.service", "[Service]\nExecStart=/bin/sh -c 'sleep 1000'\n");
  auto start =
      herald_unit(fleet, {"start", dir.file("bad@.service"), "bad@1", dir.file("good.service")});
  CHECK(start.status == 1);
  // Off a terminal stderr has a progress line per change of every unit; the error lines name
  // only the unit that failed.
  std::string errors;
  std::istringstream lines(start.err);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" error ") != std::string::npos) {
      errors += line + "\n";
    }
  }
  CHECK(errors.find("bad@1.service: systemd reports it failed") != std::string::npos);
  CHECK(errors.find("good.service") == std::string::npos);
  CHECK(running_on(fleet, "good.service").size() == 1);
}

TEST_CASE("a unit no machine can take is reported instead of waited for") {
  FleetDouble fleet;
  TempDir dir;
  dir.write("web@.service", k_web_template);
  auto started = std::chrono::steady_clock::now();
  auto start = herald_unit(
      fleet, {"start", dir.file("web@.service"), "web@1", "web@2", "web@3", "--timeout", "50s"});
  CHECK(start.status == 1);
  CHECK(std::chrono::steady_clock::now() - started < 40s);
  CHECK(start.err.find("web@3.service cannot be scheduled") != std::string::npos);
  CHECK(start.err.find("conflicts with web@") != std::string::npos);
  CHECK(running_on(fleet, "web@1.service").size() == 1);
}

namespace {

/// The lines of `err` herald logged as errors (off a terminal stderr also has a progress line
/// per change of every unit).
std::string error_lines(const std::string& err) {
  std::string errors;
  std::istringstream lines(err);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" error ") != std::string::npos) {
      errors += line + "\n";
    }
  }
  return errors;
}

} // namespace

TEST_CASE("a unit systemd keeps restarting is reported failed long before --timeout") {
  FleetDouble fleet;
  // activating/start-pre, then activating/auto-restart, half a second each, over and over:
  // what systemd shows of a Restart= unit that crashes, never "failed".
  fleet.control("crash-loop?unit=loop.service&seconds=0.5");
  TempDir dir;
  dir.write("loop.service", "[Service]\nExecStart=/bin/false\nRestart=always\n");
  auto started = std::chrono::steady_clock::now();
  auto start = herald_unit(fleet, {"start", dir.file("loop.service"), "--timeout", "60s"});
  auto took = std::chrono::steady_clock::now() - started;
  CHECK_MESSAGE(start.status == 1, start.err);
  CHECK(took < 40s);
  std::string errors = error_lines(start.err);
  INFO(start.err);
  CHECK(errors.find("loop.service: crash loop: systemd keeps restarting it") != std::string::npos);
  CHECK(errors.find("see journalctl -u loop.service on ") != std::string::npos);
  CHECK((errors.find(" on 11111111.../127.0.0.1") != std::string::npos ||
         errors.find(" on 22222222.../127.0.0.1") != std::string::npos));
  CHECK(std::count(errors.begin(), errors.end(), '\n') == 1);

  auto json_run = herald_unit(fleet, {"start", "loop", "--timeout", "60s", "-o", "json"});
  CHECK(json_run.status == 1);
  json unit = json::parse(json_run.out)["units"][0];
  CHECK(unit["result"] == "failed");
  CHECK(unit["machine"].get<std::string>().find("...") != std::string::npos);
}

TEST_CASE("a unit that restarts once and then runs is reported running") {
  FleetDouble fleet;
  fleet.control("crash-loop?unit=once.service&restarts=1&seconds=1");
  TempDir dir;
  dir.write("once.service", "[Service]\nExecStart=/bin/sh -c 'sleep 1000'\nRestart=always\n");
  auto start =
      herald_unit(fleet, {"start", dir.file("once.service"), "--timeout", "60s", "-o", "json"});
  REQUIRE_MESSAGE(start.status == 0, start.err);
  // The wait saw the restart (each phase lasts a second, it looks every 250 ms).
  CHECK_MESSAGE(start.err.find("activating/auto-restart") != std::string::npos, start.err);
  json unit = json::parse(start.out)["units"][0];
  CHECK(unit["result"] == "ok");
  CHECK(unit["state"] == "active/running");
  CHECK(running_on(fleet, "once.service").size() == 1);
}

TEST_CASE("a global unit whose metadata no machine has is reported instead of waited for") {
  FleetDouble fleet;
  TempDir dir;
  dir.write("db.service", "[Service]\nExecStart=/bin/sh -c 'sleep 1000'\n\n"
                          "[X-Fleet]\nGlobal=true\nMachineMetadata=role=db\n");
  auto started = std::chrono::steady_clock::now();
  auto start =
      herald_unit(fleet, {"start", dir.file("db.service"), "--timeout", "50s", "-o", "json"});
  auto took = std::chrono::steady_clock::now() - started;
  CHECK_MESSAGE(start.status == 1, start.err);
  CHECK(took < 40s);
  CHECK(error_lines(start.err).find("db.service: db.service cannot be scheduled: no machine can "
                                    "take it (11111111: no role=db; 22222222: no role=db)") !=
        std::string::npos);
  json unit = json::parse(start.out)["units"][0];
  CHECK(unit["result"] == "unschedulable");
}

TEST_CASE("a unit that never starts ends with --timeout and exit 75") {
  FleetDouble fleet;
  fleet.control("never-start?unit=slow.service");
  TempDir dir;
  dir.write("slow.service", "[Service]\nExecStart=/bin/sh -c 'sleep 1000'\n");
  auto start = herald_unit(fleet, {"start", dir.file("slow.service"), "--timeout", "2s"});
  CHECK(start.status == 75);
  CHECK(start.err.find("slow.service") != std::string::npos);
  CHECK(start.err.find("activating/start-pre") != std::string::npos);
  auto no_block = herald_unit(fleet, {"start", "slow", "--no-block"});
  CHECK(no_block.status == 0);
}

TEST_CASE("a unit whose machine is lost runs again on another one") {
  FleetDouble fleet;
  TempDir dir;
  dir.write("app.service", "[Service]\nExecStart=/bin/sh -c 'sleep 1000'\n");
  REQUIRE(herald_unit(fleet, {"start", dir.file("app.service")}).status == 0);
  auto first = running_on(fleet, "app.service");
  REQUIRE(first.size() == 1);
  fleet.control("lose-machine?id=" + first[0]);
  auto again = herald_unit(fleet, {"start", "app", "-o", "json"});
  REQUIRE_MESSAGE(again.status == 0, again.err);
  auto now = running_on(fleet, "app.service");
  REQUIRE(now.size() == 1);
  CHECK(now[0] != first[0]);
  auto machines = herald_unit(fleet, {"machines", "-o", "json"});
  CHECK(json::parse(machines.out)["machines"].size() == 1);
}

TEST_CASE("listings read every page of fleet's paged collections") {
  FleetDouble fleet({false, {}, {"--token-limit", "2"}});
  TempDir dir;
  std::vector<std::string> args{"submit"};
  for (int i = 0; i < 5; ++i) {
    args.push_back(
        dir.write("p" + std::to_string(i) + ".service", "[Service]\nExecStart=/bin/true\n"));
  }
  REQUIRE(herald_unit(fleet, args).status == 0);
  auto files = herald_unit(fleet, {"ls", "--files", "-o", "json"});
  REQUIRE_MESSAGE(files.status == 0, files.err);
  CHECK(json::parse(files.out)["units"].size() == 5);
  auto machines = herald_unit(fleet, {"machines", "--no-legend", "-l"});
  CHECK(machines.out.find(k_m1 + " ") != std::string::npos); // the whole id with -l
  CHECK(machines.out.find("role=router") != std::string::npos);
}

TEST_CASE("submit refuses a changed file without --replace, and replaces with it") {
  FleetDouble fleet;
  TempDir dir;
  dir.write("app.service", "[Service]\nExecStart=/bin/sh -c 'sleep 1000'\n");
  REQUIRE(herald_unit(fleet, {"start", dir.file("app.service")}).status == 0);
  dir.write("app.service", "[Service]\nExecStart=/bin/sh -c 'sleep 2000'\n");
  auto refused = herald_unit(fleet, {"submit", dir.file("app.service")});
  CHECK(refused.status == 1);
  CHECK(refused.err.find("--replace") != std::string::npos);
  auto replaced = herald_unit(fleet, {"start", "--replace", dir.file("app.service")});
  REQUIRE_MESSAGE(replaced.status == 0, replaced.err);
  auto cat = herald_unit(fleet, {"cat", "app"});
  CHECK(cat.out.find("sleep 2000") != std::string::npos);
}

TEST_CASE("fleet out of reach is exit 69 with one line saying where") {
  TempDir dir;
  auto missing = run({herald_bin(), "unit", "ls", "--endpoint", "unix://" + dir.file("fleet.sock")},
                     clean_env(), 30s);
  CHECK(missing.status == 69);
  CHECK(missing.err.find(dir.file("fleet.sock")) != std::string::npos);
  CHECK(missing.err.find("fleetd running") != std::string::npos);

  FleetDouble fleet;
  fleet.control("starting");
  auto starting = herald_unit(fleet, {"machines"});
  CHECK(starting.status == 69);
  CHECK(starting.err.find("fleet server unable to communicate with etcd") != std::string::npos);
}

TEST_CASE("unit names and arguments are checked before fleet is asked") {
  FleetDouble fleet;
  auto bad = herald_unit(fleet, {"start", "hel!lo"});
  CHECK(bad.status == 2);
  CHECK(bad.err.find("invalid character") != std::string::npos);
  auto no_file = herald_unit(fleet, {"start", "units/nothing.service"});
  CHECK(no_file.status == 2);
  CHECK(no_file.err.find("no such unit file") != std::string::npos);
  CHECK(fleet.request_count() == 0); // both refused before any request
  auto unknown = herald_unit(fleet, {"start", "ghost@1"});
  CHECK(unknown.status == 1);
  CHECK(unknown.err.find("ghost@.service") != std::string::npos);
  CHECK(fleet.request_count() <= 2);
}

TEST_SUITE_END();
