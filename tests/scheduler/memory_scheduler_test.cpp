#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/scheduler/memory/memory_scheduler.hpp"
#include "support/error_kind.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <thread>

using namespace herald;
using namespace herald::scheduler;
using namespace std::chrono_literals;
using herald::scheduler::memory::MemoryScheduler;
using herald::test::kind_of;

namespace {

InstanceSpec spec_for(const std::string& app, const std::string& instance,
                      const std::string& hash = "h1") {
  InstanceSpec spec;
  spec.app = app;
  spec.instance = instance;
  spec.image = app + ":1";
  spec.container_port = 8080;
  spec.spec_hash = hash;
  return spec;
}

std::vector<Machine> three_machines() {
  return {{"m1", "m1", "10.0.0.1", {{"role", "web"}}},
          {"m2", "m2", "10.0.0.2", {{"role", "web"}}},
          {"m3", "m3", "10.0.0.3", {{"role", "router"}}}};
}

} // namespace

TEST_SUITE_BEGIN("scheduler");

TEST_CASE("memory scheduler: a started instance is listed running with its spec hash") {
  MemoryScheduler scheduler;
  scheduler.start(spec_for("web", "2"));
  scheduler.start(spec_for("web", "10"));
  scheduler.start(spec_for("api", "1"));

  auto all = scheduler.list();
  REQUIRE(all.size() == 3);
  CHECK(all[0].name().str() == "api@1");
  CHECK(all[1].name().str() == "web@2");
  CHECK(all[2].name().str() == "web@10");
  CHECK(all[1].state == State::running);
  CHECK(all[1].spec_hash == "h1");
  CHECK(all[1].image == "web:1");
  CHECK(all[1].machine == "memory");
  REQUIRE(all[1].address.has_value());
  CHECK(all[1].address->host == "127.0.0.1");
  CHECK(all[1].address->port != all[2].address->port);

  CHECK(scheduler.list("web").size() == 2);
  CHECK(scheduler.find({"api", "1"}).has_value());
  CHECK_FALSE(scheduler.find({"api", "2"}).has_value());
}

TEST_CASE("memory scheduler: start is idempotent and replaces an instance of another hash") {
  MemoryScheduler scheduler;
  scheduler.start(spec_for("web", "1", "h1"));
  scheduler.start(spec_for("web", "1", "h1"));
  scheduler.start(spec_for("web", "1", "h2"));
  CHECK(scheduler.journal() == std::vector<std::string>{"start web@1 h1",
                                                        "start web@1 h1 (unchanged)",
                                                        "start web@1 h2 (replaced h1)"});
  CHECK(scheduler.find({"web", "1"})->spec_hash == "h2");

  // A stopped instance of the same hash starts again.
  CHECK(scheduler.stop({"web", "1"}, 10s));
  CHECK(scheduler.find({"web", "1"})->state == State::stopped);
  scheduler.start(spec_for("web", "1", "h2"));
  CHECK(scheduler.find({"web", "1"})->state == State::running);
}

TEST_CASE("memory scheduler: stop and remove report whether they did anything") {
  MemoryScheduler scheduler;
  scheduler.start(spec_for("web", "1"));
  CHECK(scheduler.stop({"web", "1"}, 1s));
  CHECK_FALSE(scheduler.stop({"web", "1"}, 1s));
  CHECK(scheduler.remove({"web", "1"}));
  CHECK_FALSE(scheduler.remove({"web", "1"}));
  CHECK(kind_of([&] { scheduler.stop({"web", "1"}, 1s); }) == ErrorKind::not_found);
  CHECK(kind_of([&] { scheduler.logs({"web", "1"}, 5); }) == ErrorKind::not_found);
}

TEST_CASE("memory scheduler: an invalid spec is refused before anything is recorded") {
  MemoryScheduler scheduler;
  InstanceSpec spec = spec_for("web", "1");
  spec.image.clear();
  CHECK(kind_of([&] { scheduler.start(spec); }) == ErrorKind::usage);
  CHECK(scheduler.list().empty());
  CHECK(scheduler.journal().empty());
}

TEST_CASE("memory scheduler: a failed instance keeps its last log lines, escaped") {
  MemoryScheduler scheduler;
  scheduler.start(spec_for("web", "1"));
  scheduler.append_log({"web", "1"}, {"listening on :8080"});
  scheduler.fail({"web", "1"}, {"panic: boom\x1b[31m", "exit status 2"});
  auto instance = scheduler.find({"web", "1"});
  CHECK(instance->state == State::failed);
  CHECK_FALSE(instance->address.has_value());
  CHECK(scheduler.logs({"web", "1"}, 2) ==
        std::vector<std::string>{"panic: boom\\x1b[31m", "exit status 2"});
  CHECK(scheduler.logs({"web", "1"}, 10).size() == 3);
}

TEST_CASE("memory scheduler: the start behaviour decides what a new instance becomes") {
  MemoryScheduler scheduler;
  scheduler.set_start_behaviour([](const InstanceSpec& spec) {
    return spec.image == "web:bad" ? State::failed : State::starting;
  });
  InstanceSpec bad = spec_for("web", "2");
  bad.image = "web:bad";
  scheduler.start(spec_for("web", "1"));
  scheduler.start(bad);
  CHECK(scheduler.find({"web", "1"})->state == State::starting);
  CHECK(scheduler.find({"web", "2"})->state == State::failed);
  CHECK(scheduler.spec_of({"web", "2"}).image == "web:bad");
}

TEST_CASE("memory scheduler: wait returns the instance once it is in the state") {
  MemoryScheduler scheduler;
  scheduler.set_start_behaviour([](const InstanceSpec&) { return State::starting; });
  scheduler.start(spec_for("web", "1"));
  std::thread driver([&] {
    std::this_thread::sleep_for(30ms);
    scheduler.set_state({"web", "1"}, State::running);
  });
  Instance seen = scheduler.wait({"web", "1"}, State::running, 5s, nullptr);
  driver.join();
  CHECK(seen.state == State::running);
}

TEST_CASE("memory scheduler: wait for running returns early on failed or stopped") {
  MemoryScheduler scheduler;
  scheduler.set_start_behaviour([](const InstanceSpec&) { return State::starting; });
  scheduler.start(spec_for("web", "1"));
  scheduler.start(spec_for("web", "2"));
  scheduler.fail({"web", "1"}, {"boom"});
  scheduler.set_state({"web", "2"}, State::stopped);
  CHECK(scheduler.wait({"web", "1"}, State::running, 5s, nullptr).state == State::failed);
  CHECK(scheduler.wait({"web", "2"}, State::running, 5s, nullptr).state == State::stopped);
}

TEST_CASE("memory scheduler: wait times out, is cancelled, or finds nothing") {
  MemoryScheduler scheduler;
  scheduler.set_start_behaviour([](const InstanceSpec&) { return State::starting; });
  scheduler.start(spec_for("web", "1"));
  try {
    scheduler.wait({"web", "1"}, State::running, 20ms, nullptr);
    FAIL("no timeout");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::temporary);
    CHECK(std::string(e.what()) ==
          "web@1 is still starting (starting) after 20ms, waiting for it to be running");
  }
  StopToken stop;
  stop.request();
  CHECK(kind_of([&] {
          scheduler.wait({"web", "1"}, State::running, 5s, &stop);
        }) == ErrorKind::cancelled);
  CHECK(kind_of([&] {
          scheduler.wait({"web", "9"}, State::running, 5s, nullptr);
        }) == ErrorKind::not_found);
}

TEST_CASE("memory scheduler: spread places one instance per machine, the rest pending") {
  MemoryScheduler scheduler(three_machines());
  for (const char* n : {"1", "2", "3"}) {
    InstanceSpec spec = spec_for("web", n);
    spec.placement.spread = true;
    spec.placement.metadata = {"role=web"};
    scheduler.start(spec);
  }
  auto list = scheduler.list("web");
  CHECK(list[0].state == State::running);
  CHECK(list[1].state == State::running);
  CHECK(list[0].machine != list[1].machine);
  CHECK(list[2].state == State::pending);
  CHECK(list[2].machine.empty());
  CHECK(list[2].detail.find("conflicts with web@") != std::string::npos);
  CHECK(list[2].detail.find("m3: no role=web") != std::string::npos);

  // Removing one frees its machine for the pending one.
  scheduler.remove(list[0].name());
  auto after = scheduler.find({"web", "3"});
  CHECK(after->state == State::running);
  CHECK(after->machine == list[0].machine);
}

TEST_CASE("memory scheduler: a lost machine's instances move, or wait for a machine") {
  MemoryScheduler scheduler(three_machines());
  for (const char* n : {"1", "2"}) {
    InstanceSpec spec = spec_for("web", n);
    spec.placement.spread = true;
    spec.placement.metadata = {"role=web"};
    scheduler.start(spec);
  }
  std::string lost = scheduler.find({"web", "1"})->machine;
  CHECK(scheduler.lose_machine(lost));
  CHECK_FALSE(scheduler.lose_machine(lost));
  CHECK(scheduler.machines().size() == 2);
  auto moved = scheduler.find({"web", "1"});
  CHECK(moved->state == State::pending); // the other web machine has web@2
  CHECK(moved->detail.find("no machine") == 0);

  scheduler.add_machine({"m4", "m4", "10.0.0.4", {{"role", "web"}}});
  moved = scheduler.find({"web", "1"});
  CHECK(moved->state == State::running);
  CHECK(moved->machine == "m4");
  CHECK(moved->machine_ip == "10.0.0.4");
  CHECK(moved->address->host == "10.0.0.4");
}

TEST_CASE("memory scheduler: an unavailable scheduler fails every call with its kind") {
  MemoryScheduler scheduler;
  scheduler.set_unavailable(ErrorKind::unavailable);
  CHECK(kind_of([&] { scheduler.list(); }) == ErrorKind::unavailable);
  CHECK(kind_of([&] { scheduler.start(spec_for("web", "1")); }) == ErrorKind::unavailable);
  scheduler.set_unavailable(std::nullopt);
  CHECK(scheduler.list().empty());
}

TEST_SUITE_END();
