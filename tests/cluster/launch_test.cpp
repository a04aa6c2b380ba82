#include "cluster/files.hpp"
#include "cluster/journal_routes.hpp"
#include "herald/cluster/launch.hpp"
#include "herald/cluster/load.hpp"
#include "herald/cluster/plan.hpp"
#include "herald/core/error.hpp"
#include "herald/scheduler/memory/memory_scheduler.hpp"
#include "support/error_kind.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace herald;
using namespace herald::cluster;
using namespace std::chrono_literals;
using herald::cluster::test::JournalRoutes;
using herald::scheduler::State;
using herald::scheduler::memory::MemoryScheduler;
using herald::test::kind_of;

namespace {

constexpr const char* k_file = R"(apps:
  - name: web
    image: web:1
    port: 80
    instances: 2
  - name: blog
    image: blog:1
    port: 8080
    on_demand: true
  - name: "pr-{name}"
    image: "registry.local/app:{name}"
    port: 5000
    instances: 2
    env:
      APP_NAME: "{name}"
      FIXED: "x"
    update: {drain: 0s}
launch:
  allow: ["pr-*", "/team-[a-z]+/"]
  deny: ["pr-evil"]
  max_apps: 5
)";

ClusterSpec load() {
  return parse_cluster(k_file, "cluster.yaml", herald::cluster::test::files({}));
}

ApplyOptions quick() {
  ApplyOptions options;
  options.poll = 1ms;
  options.timeout = 2s;
  return options;
}

std::vector<std::string> starts(const MemoryScheduler& scheduler) {
  std::vector<std::string> out;
  for (const std::string& line : scheduler.journal()) {
    if (line.rfind("start ", 0) == 0) {
      out.push_back(line.substr(0, line.find(' ', 6)));
    }
  }
  return out;
}

} // namespace

TEST_SUITE_BEGIN("cluster");

TEST_CASE("launch: the cluster file's on_demand apps and templates, and its launch section") {
  ClusterSpec spec = load();
  CHECK(spec.app("web") != nullptr);
  CHECK_FALSE(spec.app("web")->on_demand);
  CHECK(spec.app("blog")->on_demand);
  CHECK(spec.app("pr-{name}") == nullptr); // templates are not apps
  CHECK(spec.launch.allow == std::vector<std::string>{"pr-*", "/team-[a-z]+/"});
  CHECK(spec.launch.deny == std::vector<std::string>{"pr-evil"});
  CHECK(spec.launch.max_apps == 5);

  CHECK_FALSE(spec.launchable("web")); // cluster up runs it
  REQUIRE(spec.launchable("blog"));
  auto made = spec.launchable("pr-42");
  REQUIRE(made);
  CHECK(made->name == "pr-42");
  CHECK(made->image == "registry.local/app:42");
  CHECK(made->environment() ==
        std::vector<std::pair<std::string, std::string>>{{"APP_NAME", "42"}, {"FIXED", "x"}});
  CHECK(made->instances == 2);
  CHECK_FALSE(spec.launchable("pr-"));     // nothing for {name}
  CHECK_FALSE(spec.launchable("other"));   // no template fits
  CHECK_FALSE(spec.launchable("pr-A_b"));  // not a valid name
  CHECK_FALSE(spec.launchable("pr-x..y")); // nor this

  // The dump keeps them, and reads back to the same.
  ClusterSpec again = parse_cluster(dump_cluster(spec), "dump.yaml", cluster::test::files({}));
  CHECK(again.launchable("pr-42")->image == "registry.local/app:42");
  CHECK(again.app("blog")->on_demand);
  CHECK(again.launch.deny == spec.launch.deny);
}

TEST_CASE("launch: a cluster file's launch mistakes are named") {
  auto refused = [](const std::string& text) {
    try {
      parse_cluster(text, "c.yaml", cluster::test::files({}));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(refused("apps:\n  - {name: \"{name}-{name}\", image: a, port: 1}\n").find("{name} once") !=
        std::string::npos);
  CHECK(refused("apps:\n  - {name: \"{name}\", image: a, port: 1, on_demand: false}\n")
            .find("always started on demand") != std::string::npos);
  CHECK(refused("apps:\n  - {name: \"Bad{name}\", image: a, port: 1}\n").find("apps[0].name") !=
        std::string::npos);
  CHECK(refused("apps:\n  - {name: a, image: a, port: 1}\nlaunch:\n  allow: [\"/(/\"]\n")
            .find("no valid regular expression") != std::string::npos);
  CHECK(refused("apps:\n  - {name: a, image: a, port: 1}\nlaunch:\n  policy_cmd: [isavailable]\n")
            .find("absolute path") != std::string::npos);
  CHECK(refused("apps:\n  - {name: a, image: a, port: 1}\nlaunch:\n  alow: []\n")
            .find("did you mean") != std::string::npos);
}

TEST_CASE("launch: cluster up neither starts nor prunes on-demand apps, and keeps launched ones "
          "up to date") {
  ClusterSpec spec = load();
  MemoryScheduler scheduler;
  JournalRoutes routes(scheduler);
  ClusterSpec effective = effective_spec(spec, scheduler.list());
  Plan plan = make_plan(effective, scheduler.list());
  REQUIRE(plan.apps.size() == 1);
  CHECK(plan.apps[0].app == "web");
  apply(effective, plan, scheduler, routes, quick());

  launch_app(spec, "pr-7", scheduler, routes, quick());
  launch_app(spec, "blog", scheduler, routes, quick());
  // A second up: nothing to do; pr-7 and blog are not "not in the file".
  effective = effective_spec(spec, scheduler.list());
  CHECK(make_plan(effective, scheduler.list()).empty());

  // A new image for the template: the launched app is replaced like any other.
  std::string changed = k_file;
  changed.replace(changed.find("registry.local/app:{name}"), 25, "registry.local/app2:{name}");
  ClusterSpec spec2 = parse_cluster(changed, "cluster.yaml", cluster::test::files({}));
  Plan plan2 = make_plan(effective_spec(spec2, scheduler.list()), scheduler.list());
  CHECK(plan2.count(Action::replace) == 2);
  CHECK(plan2.count(Action::remove) == 0);
  CHECK(plan2.count(Action::create) == 0);

  // Removed from the file: a launched app is pruned like any other.
  ClusterSpec without = parse_cluster("apps:\n  - {name: web, image: \"web:1\", port: 80, "
                                      "instances: 2}\n",
                                      "cluster.yaml", cluster::test::files({}));
  Plan plan3 = make_plan(effective_spec(without, scheduler.list()), scheduler.list());
  CHECK(plan3.count(Action::remove) == 3); // pr-7 x2, blog
}

TEST_CASE("launch: starts the app's instances once, waits until routable, and a second launch "
          "starts nothing") {
  ClusterSpec spec = load();
  MemoryScheduler scheduler;
  JournalRoutes routes(scheduler);
  LaunchResult first = launch_app(spec, "pr-42", scheduler, routes, quick());
  CHECK_FALSE(first.already);
  CHECK(first.started == 2);
  CHECK(first.routes.size() == 2);
  CHECK(starts(scheduler) == std::vector<std::string>{"start pr-42@1", "start pr-42@2"});
  auto listed = scheduler.list("pr-42");
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].image == "registry.local/app:42");

  LaunchResult second = launch_app(spec, "pr-42", scheduler, routes, quick());
  CHECK(second.already);
  CHECK(second.started == 0);
  CHECK(starts(scheduler).size() == 2);

  // One instance by name.
  LaunchResult third = launch_app(spec, "blog@7", scheduler, routes, quick());
  CHECK(third.started == 1);
  CHECK(scheduler.list("blog").at(0).instance == "7");
  CHECK(launch_app(spec, "blog@7", scheduler, routes, quick()).already);
}

TEST_CASE("launch: an app the file cannot launch, and one that fails, are errors naming it") {
  ClusterSpec spec = load();
  MemoryScheduler scheduler;
  JournalRoutes routes(scheduler);
  CHECK(kind_of([&] { launch_app(spec, "web", scheduler, routes, quick()); }) == ErrorKind::usage);
  CHECK(kind_of([&] { launch_app(spec, "nope", scheduler, routes, quick()); }) == ErrorKind::usage);
  CHECK(scheduler.list().empty());

  scheduler.set_start_behaviour([](const scheduler::InstanceSpec&) { return State::failed; });
  try {
    launch_app(spec, "blog", scheduler, routes, quick());
    FAIL("a failing app was launched");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::failed);
    CHECK(std::string(e.what()).find("blog@1") != std::string::npos);
  }
}

TEST_CASE("launch: stop_app takes a launched app away, withdrawn before it is stopped") {
  ClusterSpec spec = load();
  MemoryScheduler scheduler;
  JournalRoutes routes(scheduler);
  launch_app(spec, "pr-5", scheduler, routes, quick());
  REQUIRE(scheduler.list("pr-5").size() == 2);
  ApplyOptions options = quick();
  CHECK(stop_app(spec, "pr-5", scheduler, routes, options) == 2);
  CHECK(scheduler.list("pr-5").empty());
  std::vector<std::string> journal = scheduler.journal();
  auto at = [&](const std::string& line) {
    return std::find(journal.begin(), journal.end(), line) - journal.begin();
  };
  CHECK(at("withdraw pr-5@1") < at("stop pr-5@1"));
  CHECK(stop_app(spec, "pr-5", scheduler, routes, options) == 0);
}

TEST_CASE(
    "launch: without waiting, the instances are handed to the scheduler and left to come up") {
  ClusterSpec spec = load();
  MemoryScheduler scheduler;
  JournalRoutes routes(scheduler);
  scheduler.set_start_behaviour([](const scheduler::InstanceSpec&) { return State::starting; });
  LaunchResult result = launch_app(spec, "pr-3", scheduler, routes, quick(), false);
  CHECK(result.started == 2);
  CHECK(result.routes.empty());
  auto listed = scheduler.list("pr-3");
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].state == State::starting); // not stopped for not being up yet
  std::vector<std::string> journal = scheduler.journal();
  CHECK(std::none_of(journal.begin(), journal.end(),
                     [](const std::string& line) { return line.rfind("stop ", 0) == 0; }));
}
