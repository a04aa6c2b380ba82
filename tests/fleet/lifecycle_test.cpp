#include "fleet/fixtures.hpp"
#include "herald/fleet/lifecycle.hpp"

#include <doctest/doctest.h>

using namespace herald::fleet;
using herald::test::fleet_fixture;

namespace {

/// A request for `name`, with the options of a unit file (none for a bare name).
UnitRequest request(std::string name, std::optional<std::vector<UnitOption>> options,
                    std::string file) {
  UnitRequest out;
  out.name = std::move(name);
  out.options = std::move(options);
  out.file = std::move(file);
  return out;
}

const std::string k_m1 = "11111111111111111111111111111111";
const std::string k_m2 = "22222222222222222222222222222222";

std::vector<Machine> machines() {
  return {{k_m1, "127.0.0.1", {{"role", "web"}}}, {k_m2, "127.0.0.2", {{"role", "router"}}}};
}

std::map<std::string, Unit> recorded_units() {
  std::map<std::string, Unit> out;
  auto page = decode_unit_page(
      fleet_fixture("22-units-list.json")["response"]["body"].get<std::string>(), "units");
  for (Unit& unit : page.items) {
    out[unit.name] = unit;
  }
  return out;
}

std::vector<UnitState> recorded_states() {
  return decode_state_page(
             fleet_fixture("23-state-list.json")["response"]["body"].get<std::string>(), "state")
      .items;
}

LifecycleOptions with(Verb verb, bool block = true) {
  LifecycleOptions options;
  options.verb = verb;
  options.block = block;
  return options;
}

UnitState state(std::string name, std::string machine, std::string active, std::string sub,
                std::string hash = "h") {
  return {std::move(name), std::move(hash),   std::move(machine),
          "loaded",        std::move(active), std::move(sub)};
}

} // namespace

TEST_SUITE_BEGIN("fleet");

TEST_CASE("starting a new instance sends the template's options and launched in one PUT") {
  auto units = recorded_units();
  Step step = plan_step(request("hello@7.service", std::nullopt, ""), with(Verb::start), units);
  REQUIRE(step.put.has_value());
  CHECK(step.put->desired_state == DesiredState::launched);
  REQUIRE(step.put->options.has_value());
  CHECK(*step.put->options == units.at("hello@.service").options);
  CHECK(step.wait);
  CHECK_FALSE(step.report.has_value());
}

TEST_CASE("starting a started unit sends nothing and waits to see it running") {
  Step step =
      plan_step(request("hello@1.service", std::nullopt, ""), with(Verb::start), recorded_units());
  CHECK_FALSE(step.put.has_value());
  CHECK(step.wait);
  Step no_block = plan_step(request("hello@1.service", std::nullopt, ""), with(Verb::start, false),
                            recorded_units());
  REQUIRE(no_block.report.has_value());
  CHECK(no_block.report->outcome == Outcome::ok);
}

TEST_CASE("a unit fleet lacks and no template for it is an error naming both") {
  Step step = plan_step(request("nosuch@1.service", std::nullopt, ""), with(Verb::start), {});
  REQUIRE(step.report.has_value());
  CHECK(step.report->outcome == Outcome::error);
  CHECK(step.report->message.find("nosuch@1.service") != std::string::npos);
  CHECK(step.report->message.find("nosuch@.service") != std::string::npos);
}

TEST_CASE("submit creates without a desired state and leaves an identical unit alone") {
  auto units = recorded_units();
  auto options = units.at("hello@.service").options;
  Step fresh =
      plan_step(request("new@.service", options, "new@.service"), with(Verb::submit), units);
  REQUIRE(fresh.put.has_value());
  CHECK_FALSE(fresh.put->desired_state.has_value());
  CHECK(fresh.put->options == options);
  CHECK_FALSE(fresh.wait);

  Step same = plan_step(request("hello@.service", options, "x"), with(Verb::submit), units);
  CHECK_FALSE(same.put.has_value());
  REQUIRE(same.report.has_value());
  CHECK(same.report->outcome == Outcome::ok);
  CHECK(same.report->state == "unchanged");
}

TEST_CASE("a file that differs from the submitted unit needs --replace") {
  auto units = recorded_units();
  std::vector<UnitOption> changed{{"Service", "ExecStart", "/bin/other"}};
  Step refused =
      plan_step(request("hello@1.service", changed, "hello@1.service"), with(Verb::submit), units);
  REQUIRE(refused.report.has_value());
  CHECK(refused.report->outcome == Outcome::error);
  CHECK(refused.report->message.find("--replace") != std::string::npos);

  Step kept = plan_step(request("hello@1.service", changed, "f"), with(Verb::start), units);
  CHECK_FALSE(kept.put.has_value());
  CHECK(kept.note.find("--replace") != std::string::npos);

  LifecycleOptions replace = with(Verb::start);
  replace.replace = true;
  Step replaced = plan_step(request("hello@1.service", changed, "f"), replace, units);
  REQUIRE(replaced.put.has_value());
  CHECK(replaced.put->options == changed);
  CHECK(replaced.put->desired_state == DesiredState::launched);
}

TEST_CASE("a template is submitted, never loaded or launched") {
  auto units = recorded_units();
  auto options = units.at("hello@.service").options;
  Step step = plan_step(request("other@.service", options, "f"), with(Verb::start), units);
  REQUIRE(step.put.has_value());
  CHECK_FALSE(step.put->desired_state.has_value());
  CHECK_FALSE(step.wait);
}

TEST_CASE("load leaves a launched unit running") {
  Step step =
      plan_step(request("hello@1.service", std::nullopt, ""), with(Verb::load), recorded_units());
  CHECK_FALSE(step.put.has_value());
  CHECK_FALSE(step.wait);
  REQUIRE(step.report.has_value());
  CHECK(step.report->state == "launched");
}

TEST_CASE("stop means loaded, unload inactive, destroy a DELETE, missing units are fine") {
  auto units = recorded_units();
  Step stop = plan_step(request("hello@1.service", std::nullopt, ""), with(Verb::stop), units);
  REQUIRE(stop.put.has_value());
  CHECK(stop.put->desired_state == DesiredState::loaded);
  CHECK_FALSE(stop.put->options.has_value());
  Step unload = plan_step(request("hello@1.service", std::nullopt, ""), with(Verb::unload), units);
  CHECK(unload.put->desired_state == DesiredState::inactive);
  Step destroy =
      plan_step(request("hello@1.service", std::nullopt, ""), with(Verb::destroy), units);
  CHECK(destroy.remove);
  CHECK(destroy.wait);
  for (Verb verb : {Verb::stop, Verb::unload, Verb::destroy}) {
    Step missing = plan_step(request("gone.service", std::nullopt, ""), with(verb), units);
    REQUIRE(missing.report.has_value());
    CHECK(missing.report->outcome == Outcome::ok);
    CHECK(missing.report->state == "absent");
  }
}

TEST_CASE("invalid names and options are refused before anything is sent") {
  Step name = plan_step(request("hello", std::nullopt, ""), with(Verb::start), {});
  CHECK(name.report->outcome == Outcome::error);
  CHECK(name.report->message.find(R"(must contain ".")") != std::string::npos);
  std::vector<UnitOption> bad{{"X-Fleet", "Global", "true"}, {"X-Fleet", "MachineOf", "a.service"}};
  Step options = plan_step(request("g.service", bad, "g.service"), with(Verb::start), {});
  CHECK(options.report->outcome == Outcome::error);
  CHECK(options.report->message == "g.service: Global cannot be used with Peers");
}

TEST_CASE("judge_state: running only when systemd says active/running with the unit's hash") {
  auto units = recorded_units();
  std::string hash = unit_hash(units.at("hello@1.service").options);
  auto done = judge_state("hello@1.service", Verb::start, hash, recorded_states(),
                          units.at("hello@1.service"), machines());
  CHECK(done.final);
  CHECK(done.outcome == Outcome::ok);
  CHECK(done.state == "active/running");
  CHECK(done.machine == "11111111.../127.0.0.1");

  std::vector<UnitState> activating{state("a.service", k_m1, "activating", "start-pre", hash)};
  auto going = judge_state("a.service", Verb::start, hash, activating, std::nullopt, machines());
  CHECK_FALSE(going.final);
  CHECK(going.state == "activating/start-pre");

  std::vector<UnitState> old{state("a.service", k_m1, "active", "running", "old")};
  auto restarting = judge_state("a.service", Verb::start, hash, old, std::nullopt, machines());
  CHECK_FALSE(restarting.final);
  CHECK(restarting.state.find("new unit file") != std::string::npos);

  std::vector<UnitState> failed{state("a.service", k_m2, "failed", "failed", hash)};
  auto bad = judge_state("a.service", Verb::start, hash, failed, std::nullopt, machines());
  CHECK(bad.final);
  CHECK(bad.outcome == Outcome::failed);
  CHECK(bad.message.find("journalctl -u a.service") != std::string::npos);
}

TEST_CASE("judge_state: a unit seen entering auto-restart 3 times on a machine is failed") {
  std::string hash = "h";
  std::vector<UnitState> restarting{state("a.service", k_m2, "activating", "auto-restart", hash)};
  auto once = judge_state("a.service", Verb::start, hash, restarting, std::nullopt, machines(),
                          {{k_m2, k_crash_loop_restarts - 1}});
  CHECK_FALSE(once.final);
  CHECK(once.state == "activating/auto-restart");

  auto loop = judge_state("a.service", Verb::start, hash, restarting, std::nullopt, machines(),
                          {{k_m2, k_crash_loop_restarts}});
  CHECK(loop.final);
  CHECK(loop.outcome == Outcome::failed);
  CHECK(loop.state == "activating/auto-restart");
  CHECK(loop.machine == "22222222.../127.0.0.2");
  CHECK(loop.message.find("crash loop") != std::string::npos);
  CHECK(loop.message.find("keeps restarting it") != std::string::npos);
  CHECK(loop.message.find("journalctl -u a.service on 22222222.../127.0.0.2") != std::string::npos);
  CHECK(loop.message.find('\n') == std::string::npos);

  // Between two restarts it is activating again: still a crash loop.
  std::vector<UnitState> again{state("a.service", k_m2, "activating", "start-pre", hash)};
  CHECK(judge_state("a.service", Verb::start, hash, again, std::nullopt, machines(),
                    {{k_m2, k_crash_loop_restarts}})
            .outcome == Outcome::failed);
  // Running after its restarts: it recovered.
  std::vector<UnitState> running{state("a.service", k_m2, "active", "running", hash)};
  auto recovered = judge_state("a.service", Verb::start, hash, running, std::nullopt, machines(),
                               {{k_m2, k_crash_loop_restarts + 2}});
  CHECK(recovered.final);
  CHECK(recovered.outcome == Outcome::ok);
  // Restarts counted on another machine say nothing of this one.
  CHECK_FALSE(judge_state("a.service", Verb::start, hash, restarting, std::nullopt, machines(),
                          {{k_m1, k_crash_loop_restarts}})
                  .final);
  // The old unit file restarting while the new one is on its way is not the new one's loop.
  std::vector<UnitState> old{state("a.service", k_m2, "activating", "auto-restart", "old")};
  CHECK_FALSE(judge_state("a.service", Verb::start, hash, old, std::nullopt, machines(),
                          {{k_m2, k_crash_loop_restarts}})
                  .final);
}

TEST_CASE("RestartCounter counts each entry into auto-restart, per machine and unit file") {
  RestartCounter counter;
  auto look = [&](const std::string& sub, const std::string& machine = k_m1,
                  const std::string& hash = "h") {
    counter.observe({state("a.service", machine, "activating", sub, hash),
                     state("b.service", k_m2, "active", "running", "h")});
  };
  look("start-pre");
  CHECK(counter.counts("a.service", "h").empty());
  look("auto-restart");
  look("auto-restart"); // the same restart, seen twice
  CHECK(counter.counts("a.service", "h") == std::map<std::string, int>{{k_m1, 1}});
  look("start-pre");
  look("auto-restart-queued"); // systemd 254 splits the wait in two: one restart
  look("auto-restart");
  look("start");
  look("auto-restart");
  CHECK(counter.counts("a.service", "h") == std::map<std::string, int>{{k_m1, 3}});
  counter.observe({}); // gone from /state, then back restarting: a new entry
  look("auto-restart");
  CHECK(counter.counts("a.service", "h").at(k_m1) == 4);
  look("auto-restart", k_m2);
  look("auto-restart", k_m2, "other");
  CHECK(counter.counts("a.service", "h") == std::map<std::string, int>{{k_m1, 4}, {k_m2, 1}});
  CHECK(counter.counts("a.service", "").at(k_m2) == 2);
  CHECK(counter.counts("b.service", "h").empty());
}

TEST_CASE("judge_state: a global unit runs when every matching machine runs it") {
  auto units = recorded_units();
  const Unit& global = units.at("everywhere.service");
  std::string hash = unit_hash(global.options);
  auto all =
      judge_state("everywhere.service", Verb::start, hash, recorded_states(), global, machines());
  CHECK(all.final);
  CHECK(all.machine.find("22222222") != std::string::npos);
  std::vector<UnitState> one{state("everywhere.service", k_m1, "active", "running", hash)};
  auto half = judge_state("everywhere.service", Verb::start, hash, one, global, machines());
  CHECK_FALSE(half.final);
  CHECK(half.state == "running on 1 of 2 machines");
}

TEST_CASE("judge_state: stop, unload and destroy wait for systemd and the scheduler") {
  std::vector<UnitState> running{state("a.service", k_m1, "active", "running")};
  std::vector<UnitState> dead{state("a.service", k_m1, "inactive", "dead")};
  Unit scheduled;
  scheduled.name = "a.service";
  scheduled.machine_id = k_m1;
  CHECK_FALSE(judge_state("a.service", Verb::stop, "", running, scheduled, machines()).final);
  CHECK(judge_state("a.service", Verb::stop, "", dead, scheduled, machines()).final);
  CHECK_FALSE(judge_state("a.service", Verb::unload, "", dead, scheduled, machines()).final);
  Unit unscheduled = scheduled;
  unscheduled.machine_id.clear();
  CHECK(judge_state("a.service", Verb::unload, "", dead, unscheduled, machines()).final);
  CHECK_FALSE(judge_state("a.service", Verb::destroy, "", dead, std::nullopt, machines()).final);
  auto gone = judge_state("a.service", Verb::destroy, "", {}, std::nullopt, machines());
  CHECK(gone.final);
  CHECK(gone.state == "destroyed");
}

TEST_CASE("judge_state: an unscheduled unit waits for a machine") {
  Unit waiting;
  waiting.name = "hello@3.service";
  auto report = judge_state("hello@3.service", Verb::start, "", {}, waiting, machines());
  CHECK_FALSE(report.final);
  CHECK(report.state == "waiting for a machine");
}

TEST_CASE("machine_legend names a machine as fleetctl does") {
  CHECK(machine_legend(k_m1, machines()) == "11111111.../127.0.0.1");
  CHECK(machine_legend("33333333333333333333333333333333", machines()) == "33333333...");
}

TEST_SUITE_END();
