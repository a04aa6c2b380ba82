#include "herald/core/error.hpp"
#include "herald/fleet/connection.hpp"
#include "herald/fleet/lifecycle.hpp"
#include "support/fleet_double.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

using namespace herald::test;
using namespace herald::fleet;
using namespace std::chrono_literals;

// fleet::run_lifecycle() against the fleet double: the library behind `herald unit ...`,
// without the binary around it.

namespace {

/// Records every report the lifecycle hands out.
class Recorder : public ProgressSink {
public:
  void update(const UnitReport& report) override {
    std::lock_guard lock(m_mutex);
    m_reports.push_back(report);
  }
  std::vector<UnitReport> reports() {
    std::lock_guard lock(m_mutex);
    return m_reports;
  }

private:
  std::mutex m_mutex;
  std::vector<UnitReport> m_reports;
};

ConnectionSettings settings_for(const FleetDouble& fleet) {
  ConnectionSettings settings;
  settings.endpoint = fleet.endpoint();
  settings.endpoint_source = "test";
  return settings;
}

std::vector<UnitOption> service(std::vector<UnitOption> extra = {}) {
  std::vector<UnitOption> out{{"Service", "ExecStart", "/bin/sh -c 'sleep 1000'"}};
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

LifecycleOptions options(Verb verb) {
  LifecycleOptions out;
  out.verb = verb;
  out.poll_interval = 50ms;
  out.schedule_grace = 1s;
  out.timeout = 30s;
  return out;
}

std::vector<UnitReport> run(const FleetDouble& fleet, std::vector<UnitRequest> requests,
                            const LifecycleOptions& opts, Recorder* recorder = nullptr) {
  Connection connection(settings_for(fleet), nullptr);
  Recorder local;
  return run_lifecycle(connection, requests, opts, recorder != nullptr ? *recorder : local);
}

} // namespace

TEST_SUITE_BEGIN("fleet");

TEST_CASE("run_lifecycle starts a template's instances concurrently and reports each running") {
  FleetDouble fleet({false, {}, {"--machines", "6", "--start-delay", "0.2"}});
  std::vector<UnitRequest> requests{{"web@.service",
                                     service({{"X-Fleet", "Conflicts", "web@*.service"}}),
                                     "web@.service", std::nullopt}};
  for (int i = 1; i <= 6; ++i) {
    requests.push_back({"web@" + std::to_string(i) + ".service", std::nullopt, "", std::nullopt});
  }
  Recorder recorder;
  auto reports = run(fleet, requests, options(Verb::start), &recorder);
  REQUIRE(reports.size() == 7);
  CHECK(reports[0].state == "submitted");
  for (std::size_t i = 1; i < reports.size(); ++i) {
    CAPTURE(reports[i].unit);
    CHECK(reports[i].outcome == Outcome::ok);
    CHECK(reports[i].state == "active/running");
    CHECK_FALSE(reports[i].machine.empty());
  }
  // Progress went through the states on the way, not just the end.
  bool saw_progress = false;
  for (const auto& report : recorder.reports()) {
    saw_progress = saw_progress || (!report.final && report.unit == "web@3.service");
  }
  CHECK(saw_progress);
}

TEST_CASE("run_lifecycle reports failed, unschedulable and late units, and the others ok") {
  FleetDouble fleet;
  fleet.control("fail?unit=bad.service");
  fleet.control("never-start?unit=slow.service");
  std::vector<UnitOption> conflicts{{"X-Fleet", "Conflicts", "c@*.service"}};
  std::vector<UnitRequest> requests{{"bad.service", service(), "bad.service", std::nullopt},
                                    {"slow.service", service(), "slow.service", std::nullopt},
                                    {"c@1.service", service(conflicts), "c", std::nullopt},
                                    {"c@2.service", service(conflicts), "c", std::nullopt},
                                    {"c@3.service", service(conflicts), "c", std::nullopt},
                                    {"ok.service", service(), "ok.service", std::nullopt}};
  auto opts = options(Verb::start);
  opts.timeout = 4s;
  auto reports = run(fleet, requests, opts);
  REQUIRE(reports.size() == 6);
  CHECK(reports[0].outcome == Outcome::failed);
  CHECK(reports[1].outcome == Outcome::timed_out);
  CHECK(reports[1].message.find("activating/start-pre") != std::string::npos);
  CHECK(reports[2].outcome == Outcome::ok);
  CHECK(reports[3].outcome == Outcome::ok);
  CHECK(reports[4].outcome == Outcome::unschedulable);
  CHECK(reports[4].message.find("conflicts with c@") != std::string::npos);
  CHECK(reports[5].outcome == Outcome::ok);
}

TEST_CASE("run_lifecycle is idempotent: a second start sends no PUT") {
  FleetDouble fleet;
  std::vector<UnitRequest> requests{{"a.service", service(), "a.service", std::nullopt}};
  REQUIRE(run(fleet, requests, options(Verb::start))[0].outcome == Outcome::ok);
  auto before = nlohmann::json::parse(fleet.get("/_double/requests").body)["by"];
  auto again = run(fleet, requests, options(Verb::start));
  CHECK(again[0].outcome == Outcome::ok);
  auto after = nlohmann::json::parse(fleet.get("/_double/requests").body)["by"];
  CHECK(after.value("PUT /fleet/v1/units/a.service", 0) ==
        before.value("PUT /fleet/v1/units/a.service", 0));
}

TEST_CASE("run_lifecycle: stop, unload and destroy wait for the machines") {
  FleetDouble fleet;
  std::vector<UnitRequest> requests{{"a.service", service(), "a.service", std::nullopt}};
  REQUIRE(run(fleet, requests, options(Verb::start))[0].outcome == Outcome::ok);
  UnitRequest by_name{"a.service", std::nullopt, "", std::nullopt};
  auto stop = run(fleet, {by_name}, options(Verb::stop));
  CHECK(stop[0].outcome == Outcome::ok);
  CHECK(stop[0].state == "inactive/dead");
  auto unload = run(fleet, {by_name}, options(Verb::unload));
  CHECK(unload[0].outcome == Outcome::ok);
  auto destroy = run(fleet, {by_name, {"gone.service", std::nullopt, "", std::nullopt}},
                     options(Verb::destroy));
  CHECK(destroy[0].state == "destroyed");
  CHECK(destroy[1].state == "absent");
  CHECK(fleet.get("/fleet/v1/state?unitName=a.service").body == "{}");
}

TEST_CASE("run_lifecycle waits through a fleetd that restarts, and fails when fleet is out") {
  FleetDouble fleet;
  fleet.control("never-start?unit=a.service");
  std::vector<UnitRequest> requests{{"a.service", service(), "a.service", std::nullopt}};
  std::vector<UnitReport> reports;
  std::thread waiter([&] { reports = run(fleet, requests, options(Verb::start)); });
  bool launched = eventually(
      [&] {
        return fleet.get("/fleet/v1/state?unitName=a.service").body.find("activating") !=
               std::string::npos;
      },
      20s);
  fleet.control("starting?seconds=1"); // fleetd restarts while herald polls: 503s for a second
  fleet.control("heal?unit=a.service");
  waiter.join();
  REQUIRE(launched);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].outcome == Outcome::ok);

  fleet.control("starting");
  try {
    run(fleet, requests, options(Verb::start));
    FAIL("no error while fleetd answers 503");
  } catch (const herald::Error& e) {
    CHECK(e.kind() == herald::ErrorKind::unavailable);
  }
}

TEST_SUITE_END();
