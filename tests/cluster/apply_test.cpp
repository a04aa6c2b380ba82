#include "cluster/files.hpp"
#include "cluster/journal_routes.hpp"
#include "herald/cluster/apply.hpp"
#include "herald/cluster/load.hpp"
#include "herald/cluster/plan.hpp"
#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/scheduler/memory/memory_scheduler.hpp"
#include "support/error_kind.hpp"

#include <algorithm>
#include <atomic>
#include <doctest/doctest.h>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace herald;
using namespace herald::cluster;
using namespace std::chrono_literals;
using herald::cluster::test::JournalRoutes;
using herald::scheduler::State;
using herald::scheduler::memory::MemoryScheduler;
using herald::test::kind_of;

namespace {

ClusterSpec cluster_file(const std::string& image, int instances, const std::string& update) {
  std::string text = "apps:\n  - name: web\n    image: " + image +
                     "\n    port: 80\n    instances: " + std::to_string(instances) +
                     "\n    update: {" + update + "}\n";
  return parse_cluster(text, "cluster.yaml", herald::cluster::test::files({}));
}

ApplyOptions quick() {
  ApplyOptions options;
  options.poll = 1ms;
  options.timeout = 2s;
  return options;
}

/// The journal without the spec hashes: "start web@4", "withdraw web@1", ...
std::vector<std::string> steps(const MemoryScheduler& scheduler) {
  std::vector<std::string> out;
  for (std::string line : scheduler.journal()) {
    if (line.rfind("start ", 0) == 0) {
      line = line.substr(0, line.find(' ', 6));
    }
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> names(MemoryScheduler& scheduler) {
  std::vector<std::string> out;
  for (const auto& instance : scheduler.list()) {
    out.push_back(instance.name().str() + " " + instance.image);
  }
  return out;
}

/// Brings `spec` up on an empty scheduler and forgets the journal of it.
void bring_up(const ClusterSpec& spec, MemoryScheduler& scheduler, JournalRoutes& routes) {
  apply(spec, make_plan(spec, scheduler.list()), scheduler, routes, quick());
  routes.seen.clear();
}

} // namespace

TEST_SUITE_BEGIN("cluster");

TEST_CASE("apply: creates every instance, waits until each is routable, and a second run is a "
          "no-op") {
  ClusterSpec spec = cluster_file("web:v1", 3, "drain: 0s");
  MemoryScheduler scheduler;
  JournalRoutes routes(scheduler);
  std::vector<std::string> said;
  ApplyOptions options = quick();
  options.progress = [&](const InstanceName& name, const std::string& what) {
    said.push_back(name.str() + ": " + what);
  };
  ApplyResult result = apply(spec, make_plan(spec, scheduler.list()), scheduler, routes, options);
  CHECK(result.created == 3);
  CHECK(names(scheduler) ==
        std::vector<std::string>{"web@1 web:v1", "web@2 web:v1", "web@3 web:v1"});
  CHECK(std::count(said.begin(), said.end(), "web@2: starting web:v1") == 1);
  CHECK(std::find_if(said.begin(), said.end(), [](const std::string& s) {
          return s.rfind("web@3: routable at 127.0.0.1:", 0) == 0;
        }) != said.end());

  Plan again = make_plan(spec, scheduler.list());
  CHECK(again.empty());
  std::size_t before = scheduler.journal().size();
  ApplyResult nothing = apply(spec, again, scheduler, routes, options);
  CHECK(nothing.created + nothing.started + nothing.replaced + nothing.removed == 0);
  CHECK(scheduler.journal().size() == before);
}

TEST_CASE("apply: a rolling replace with max_surge 1 starts one new, then withdraws before it "
          "stops an old, and never has fewer than desired routable") {
  MemoryScheduler scheduler;
  JournalRoutes routes(scheduler);
  bring_up(cluster_file("web:v1", 3, "drain: 0s"), scheduler, routes);
  scheduler.journal(); // the rollout's steps are compared from here
  std::size_t skip = scheduler.journal().size();

  ClusterSpec next = cluster_file("web:v2", 3, "max_surge: 1, max_unavailable: 0, drain: 0s");
  ApplyResult result = apply(next, make_plan(next, scheduler.list()), scheduler, routes, quick());
  CHECK(result.replaced == 3);
  std::vector<std::string> all = steps(scheduler);
  std::vector<std::string> rollout(all.begin() + static_cast<long>(skip), all.end());
  CHECK(rollout == std::vector<std::string>{"start web@4", "withdraw web@1", "stop web@1",
                                            "remove web@1", "start web@5", "withdraw web@2",
                                            "stop web@2", "remove web@2", "start web@6",
                                            "withdraw web@3", "stop web@3", "remove web@3"});
  CHECK(names(scheduler) ==
        std::vector<std::string>{"web@4 web:v2", "web@5 web:v2", "web@6 web:v2"});
  REQUIRE_FALSE(routes.seen.empty());
  CHECK(*std::min_element(routes.seen.begin(), routes.seen.end()) >= 3);
  CHECK(make_plan(next, scheduler.list()).empty());

  // The next rollout takes the free numbers again.
  ClusterSpec third = cluster_file("web:v3", 3, "max_surge: 3, drain: 0s");
  apply(third, make_plan(third, scheduler.list()), scheduler, routes, quick());
  CHECK(names(scheduler) ==
        std::vector<std::string>{"web@1 web:v3", "web@2 web:v3", "web@3 web:v3"});
}

TEST_CASE("apply: max_unavailable without surge replaces in place, withdrawn first") {
  MemoryScheduler scheduler;
  JournalRoutes routes(scheduler);
  bring_up(cluster_file("web:v1", 2, "drain: 0s"), scheduler, routes);
  std::size_t skip = scheduler.journal().size();
  ClusterSpec next = cluster_file("web:v2", 2, "max_surge: 0, max_unavailable: 1, drain: 0s");
  apply(next, make_plan(next, scheduler.list()), scheduler, routes, quick());
  std::vector<std::string> all = steps(scheduler);
  CHECK(std::vector<std::string>(all.begin() + static_cast<long>(skip), all.end()) ==
        std::vector<std::string>{"withdraw web@1", "stop web@1", "remove web@1", "start web@1",
                                 "withdraw web@2", "stop web@2", "remove web@2", "start web@2"});
  CHECK(*std::min_element(routes.seen.begin(), routes.seen.end()) >= 1);
}

TEST_CASE("apply: a new instance that fails stops the rollout, names it with its log, and the "
          "old ones keep serving") {
  MemoryScheduler scheduler;
  JournalRoutes routes(scheduler);
  bring_up(cluster_file("web:v1", 3, "drain: 0s"), scheduler, routes);
  scheduler.set_start_behaviour([&](const scheduler::InstanceSpec& spec) {
    return spec.image == "web:v2" ? State::failed : State::running;
  });
  ClusterSpec next = cluster_file("web:v2", 3, "drain: 0s");
  Plan plan = make_plan(next, scheduler.list());
  std::string message;
  try {
    apply(next, plan, scheduler, routes, quick());
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::failed);
    message = e.what();
  }
  CHECK(message.rfind("web@4 failed", 0) == 0);
  CHECK(message.find("the instances it was to replace still serve") != std::string::npos);
  CHECK(message.find("it is stopped and kept for its logs") != std::string::npos);
  std::vector<std::string> journal = steps(scheduler);
  CHECK(std::find(journal.begin(), journal.end(), "withdraw web@1") == journal.end());
  // The failed one is withdrawn and stopped (no crash loop flapping into the router), not
  // removed: its logs stay.
  CHECK(std::find(journal.begin(), journal.end(), "stop web@4") != journal.end());
  CHECK(std::find(journal.begin(), journal.end(), "remove web@4") == journal.end());
  CHECK(routes.routable("web").size() == 3);
}

TEST_CASE("apply: where registration does not wait for health, a new instance that exits soon "
          "after it was routable fails the rollout and no old one is withdrawn") {
  // Docker's registrator announces a container when it starts: one that registers and then exits
  // (a bad config read a moment after start) must not count as up.
  MemoryScheduler scheduler;
  scheduler.set_health_gates_registration(false);
  JournalRoutes routes(scheduler);
  auto file = [](const std::string& image) {
    return parse_cluster("apps:\n  - name: web\n    image: " + image +
                             "\n    port: 80\n    instances: 2\n    health: {path: /health, "
                             "interval: 100ms, timeout: 50ms, rise: 2}\n    update: {drain: 0s}\n",
                         "cluster.yaml", herald::cluster::test::files({}));
  };
  ClusterSpec v1 = file("web:v1");
  bring_up(v1, scheduler, routes);
  std::vector<std::string> before = steps(scheduler);

  // web@3 (v2) runs and is routable, then crashes 50 ms later: inside the 200 ms it must stay up.
  std::atomic<bool> done{false};
  std::thread crasher([&] {
    const InstanceName fresh{"web", "3"};
    for (int i = 0; i < 2000 && !done; ++i) {
      auto seen = scheduler.find(fresh);
      if (seen && seen->state == State::running) {
        std::this_thread::sleep_for(50ms);
        scheduler.fail(fresh, {"fatal: no config"});
        return;
      }
      std::this_thread::sleep_for(1ms);
    }
  });
  ClusterSpec v2 = file("web:v2");
  std::string message;
  try {
    apply(v2, make_plan(v2, scheduler.list()), scheduler, routes, quick());
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::failed);
    message = e.what();
  }
  done = true;
  crasher.join();
  CHECK_MESSAGE(message.rfind("web@3 failed", 0) == 0, message);
  CHECK(message.find("fatal: no config") != std::string::npos);
  CHECK(message.find("the instances it was to replace still serve") != std::string::npos);
  std::vector<std::string> journal = steps(scheduler);
  CHECK(std::find(journal.begin(), journal.end(), "withdraw web@1") == journal.end());
  CHECK(std::find(journal.begin(), journal.end(), "withdraw web@2") == journal.end());
  CHECK(routes.routable("web").size() == 2);

  // The same rollout with an instance that stays up goes through, after it stayed up 200 ms.
  scheduler.set_start_behaviour([](const scheduler::InstanceSpec&) { return State::running; });
  ClusterSpec v3 = file("web:v3");
  auto started = std::chrono::steady_clock::now();
  ApplyResult result = apply(v3, make_plan(v3, scheduler.list()), scheduler, routes, quick());
  CHECK(result.replaced == 2);
  CHECK(std::chrono::steady_clock::now() - started >= 400ms); // two steps, each settling 200 ms
}

TEST_CASE("apply: an instance that runs but never registers times out with the likely cause") {
  MemoryScheduler scheduler;
  JournalRoutes routes(scheduler);
  routes.never = {"web@2"};
  ClusterSpec spec = cluster_file("web:v1", 2, "drain: 0s");
  ApplyOptions options = quick();
  options.timeout = 50ms;
  std::string message;
  try {
    apply(spec, make_plan(spec, scheduler.list()), scheduler, routes, options);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::failed);
    message = e.what();
  }
  CHECK(message.rfind("web@2 was not routable within", 0) == 0);
  CHECK(message.find("registrator") != std::string::npos);
}

TEST_CASE("apply: a failing instance's last log lines are quoted, escaped") {
  MemoryScheduler scheduler;
  JournalRoutes routes(scheduler);
  routes.never = {"web@1"};
  ClusterSpec spec = cluster_file("web:v1", 1, "drain: 0s");
  ApplyOptions options = quick();
  options.timeout = 200ms;
  std::string message;
  std::thread crash([&] {
    for (int i = 0; i < 100 && scheduler.list().empty(); ++i) {
      std::this_thread::sleep_for(1ms);
    }
    scheduler.fail({"web", "1"}, {"panic: no config", "\x1b[31mbye"});
  });
  try {
    apply(spec, make_plan(spec, scheduler.list()), scheduler, routes, options);
  } catch (const Error& e) {
    message = e.what();
  }
  crash.join();
  CHECK(message.rfind("web@1 failed", 0) == 0);
  CHECK(message.find("its last lines: panic: no config | \\x1b[31mbye") != std::string::npos);
}

TEST_CASE("apply: a scale down withdraws, then stops and removes, apps not in the file go too") {
  MemoryScheduler scheduler;
  JournalRoutes routes(scheduler);
  bring_up(cluster_file("web:v1", 3, "drain: 0s"), scheduler, routes);
  scheduler.start([] {
    scheduler::InstanceSpec old;
    old.app = "old";
    old.instance = "1";
    old.image = "old:v1";
    old.container_port = 80;
    old.spec_hash = "x";
    return old;
  }());
  std::size_t skip = scheduler.journal().size();
  ClusterSpec one = cluster_file("web:v1", 1, "drain: 0s");
  ApplyResult result = apply(one, make_plan(one, scheduler.list()), scheduler, routes, quick());
  CHECK(result.removed == 3);
  std::vector<std::string> all = steps(scheduler);
  CHECK(std::vector<std::string>(all.begin() + static_cast<long>(skip), all.end()) ==
        std::vector<std::string>{"withdraw web@3", "withdraw web@2", "stop web@3", "remove web@3",
                                 "stop web@2", "remove web@2", "withdraw old@1", "stop old@1",
                                 "remove old@1"});
  CHECK(names(scheduler) == std::vector<std::string>{"web@1 web:v1"});
}

TEST_CASE("apply: a stop request ends the rollout between steps as cancelled") {
  MemoryScheduler scheduler;
  JournalRoutes routes(scheduler);
  routes.never = {"web@1"};
  ClusterSpec spec = cluster_file("web:v1", 1, "drain: 0s");
  StopToken stop;
  ApplyOptions options = quick();
  options.stop = &stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(20ms);
    stop.request();
  });
  CHECK(kind_of([&] {
          apply(spec, make_plan(spec, scheduler.list()), scheduler, routes, options);
        }) == ErrorKind::cancelled);
  stopper.join();
}

TEST_CASE("a registration is matched to its instance by name, container name or container id") {
  scheduler::Instance instance;
  instance.app = "web";
  instance.instance = "2";
  instance.id = "1b776501e519f00d";
  instance.container = "herald-web-2";
  auto route = [](std::string app, std::string id, std::map<std::string, std::string> meta = {}) {
    registry::Instance r;
    r.app = std::move(app);
    r.instance = std::move(id);
    r.meta = std::move(meta);
    return r;
  };
  CHECK(same_instance(route("web", "2"), instance));                  // a sidekick's key
  CHECK(same_instance(route("web", "n1:herald-web-2:80"), instance)); // registrator, by name
  CHECK(same_instance(route("web", "n1:1b776501e519:80"), instance)); // registrator, by id
  CHECK(same_instance(route("web", "x", {{"herald.container", "1b776501e519"}}), instance));
  CHECK_FALSE(same_instance(route("api", "2"), instance));
  CHECK_FALSE(same_instance(route("web", "3"), instance));
  CHECK_FALSE(same_instance(route("web", "n1:herald-web-20:80"), instance));
  CHECK_FALSE(same_instance(route("web", "n1::80"), instance));
  CHECK_FALSE(same_instance(route("web", "n1:1b776501e519f00dff:80"), instance));
  instance.container.clear();
  instance.id.clear();
  CHECK_FALSE(same_instance(route("web", "n1::80"), instance));
}

TEST_SUITE_END();
