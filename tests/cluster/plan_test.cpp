#include "cluster/files.hpp"
#include "herald/cluster/hash.hpp"
#include "herald/cluster/load.hpp"
#include "herald/cluster/plan.hpp"
#include "herald/core/error.hpp"
#include "herald/scheduler/memory/memory_scheduler.hpp"
#include "support/error_kind.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace herald;
using namespace herald::cluster;
using herald::scheduler::Instance;
using herald::scheduler::State;
using herald::test::kind_of;

namespace {

ClusterSpec cluster_file(const std::string& web_image = "web:v1", int web_instances = 3,
                         const std::string& web_env = "A: \"1\"") {
  std::string text =
      "registry: {url: \"etcd://127.0.0.1:2379\"}\n"
      "routers:\n  - {kind: nginx-host, domain: example.com}\n  - {name: paths, kind: nginx-path}\n"
      "apps:\n"
      "  - name: web\n    image: " +
      web_image + "\n    port: 80\n    instances: " + std::to_string(web_instances) +
      "\n    env: {" + web_env +
      "}\n    aliases: [www.example.com]\n    health: {path: /health}\n"
      "  - name: api\n    image: api:v1\n    port: 8080\n    routing: path\n";
  return parse_cluster(text, "conf/cluster.yaml", herald::cluster::test::files({}));
}

Instance made(const ClusterSpec& spec, const std::string& app, const std::string& number,
              State state = State::running) {
  Instance out;
  out.app = app;
  out.instance = number;
  out.state = state;
  out.detail = std::string(scheduler::to_string(state));
  out.image = spec.app(app)->image;
  out.spec_hash = instance_stamp(*spec.app(app));
  return out;
}

std::vector<std::string> lines(const Plan& plan) {
  std::vector<std::string> out;
  for (const AppPlan& app : plan.apps) {
    for (const Change& c : app.changes) {
      out.push_back(std::string(to_string(c.action)) + " " + c.name.str() + " (" + c.reason + ")");
    }
  }
  return out;
}

} // namespace

TEST_SUITE_BEGIN("cluster");

TEST_CASE("plan: nothing runs, so every instance of every app is created, lowest numbers first") {
  Plan plan = make_plan(cluster_file(), {});
  CHECK(lines(plan) ==
        std::vector<std::string>{"create web@1 (new, 3 wanted)", "create web@2 (new, 3 wanted)",
                                 "create web@3 (new, 3 wanted)", "create api@1 (new, 1 wanted)"});
  CHECK_FALSE(plan.empty());
  CHECK(plan.count(Action::create) == 4);
  CHECK(plan.summary() == "4 to create");
  REQUIRE(plan.apps.size() == 2);
  CHECK(plan.apps[0].desired == 3);
  CHECK(plan.apps[0].changes[0].image_after == "web:v1");
}

TEST_CASE("plan: what runs from the file's spec is left alone, so a second up does nothing") {
  ClusterSpec spec = cluster_file();
  std::vector<Instance> existing = {made(spec, "web", "1"), made(spec, "web", "2"),
                                    made(spec, "web", "3"), made(spec, "api", "1")};
  Plan plan = make_plan(spec, existing);
  CHECK(plan.empty());
  CHECK(lines(plan).empty());
  CHECK(plan.summary() == "no changes");
  CHECK(plan.apps[0].instances.size() == 3);
}

TEST_CASE("plan: scaling creates the free numbers and removes the highest, non-running first") {
  ClusterSpec three = cluster_file();
  std::vector<Instance> two = {made(three, "web", "1"), made(three, "web", "4"),
                               made(three, "api", "1")};
  CHECK(lines(make_plan(three, two)) == std::vector<std::string>{"create web@2 (scale up 2 -> 3)"});

  ClusterSpec one = cluster_file("web:v1", 1);
  std::vector<Instance> four = {made(one, "web", "1"), made(one, "web", "2", State::stopped),
                                made(one, "web", "3"), made(one, "web", "10"),
                                made(one, "api", "1")};
  // web@2 does not run, so it goes first; then the highest numbers.
  CHECK(lines(make_plan(one, four)) ==
        std::vector<std::string>{"remove web@2 (scale down 4 -> 1)",
                                 "remove web@10 (scale down 4 -> 1)",
                                 "remove web@3 (scale down 4 -> 1)"});
}

TEST_CASE("plan: a changed image or env replaces every instance and says which fields") {
  ClusterSpec before = cluster_file();
  std::vector<Instance> existing = {made(before, "web", "1"), made(before, "web", "2"),
                                    made(before, "web", "3"), made(before, "api", "1")};
  ClusterSpec after = cluster_file("web:v2", 3, "A: \"2\"");
  Plan plan = make_plan(after, existing);
  CHECK(lines(plan) == std::vector<std::string>{"replace web@1 (image, env changed)",
                                                "replace web@2 (image, env changed)",
                                                "replace web@3 (image, env changed)"});
  const Change& first = plan.apps[0].changes[0];
  CHECK(first.fields == std::vector<std::string>{"image", "env"});
  CHECK(first.image_before == "web:v1");
  CHECK(first.image_after == "web:v2");
  CHECK(plan.summary() == "3 to replace");
}

TEST_CASE("plan: a replace with a scale down replaces what stays and removes the rest") {
  ClusterSpec before = cluster_file();
  std::vector<Instance> existing = {made(before, "web", "1"), made(before, "web", "2"),
                                    made(before, "web", "3"), made(before, "api", "1")};
  Plan plan = make_plan(cluster_file("web:v2", 2), existing);
  CHECK(lines(plan) == std::vector<std::string>{"replace web@1 (image changed)",
                                                "replace web@2 (image changed)",
                                                "remove web@3 (scale down 3 -> 2)"});
}

TEST_CASE("plan: stopped instances start again, failed ones are replaced") {
  ClusterSpec spec = cluster_file();
  Instance failed = made(spec, "web", "2", State::failed);
  failed.detail = "exited (1)";
  std::vector<Instance> existing = {made(spec, "web", "1", State::stopped), failed,
                                    made(spec, "web", "3"), made(spec, "api", "1")};
  CHECK(lines(make_plan(spec, existing)) ==
        std::vector<std::string>{"start web@1 (stopped)", "replace web@2 (failed: exited (1))"});
}

TEST_CASE("plan: an instance without field digests is replaced as made from another spec") {
  ClusterSpec spec = cluster_file();
  Instance bare = made(spec, "web", "1");
  bare.spec_hash = "0123456789abcdef0123456789abcdef01234567";
  Instance none = made(spec, "web", "2");
  none.spec_hash.clear();
  std::vector<Instance> existing = {bare, none, made(spec, "web", "3"), made(spec, "api", "1")};
  CHECK(lines(make_plan(spec, existing)) ==
        std::vector<std::string>{"replace web@1 (made from another spec)",
                                 "replace web@2 (made without a spec stamp)"});
  // Only the hash part of a stamp decides: digests are for the reason.
  Instance bare_same = made(spec, "web", "1");
  bare_same.spec_hash = std::string(stamp_hash(bare_same.spec_hash));
  CHECK(make_plan(spec, {bare_same, made(spec, "web", "2"), made(spec, "web", "3"),
                         made(spec, "api", "1")})
            .empty());
}

TEST_CASE("plan: apps not in the file are removed unless prune is off, --app narrows it") {
  ClusterSpec spec = cluster_file();
  Instance old;
  old.app = "old";
  old.instance = "1";
  old.state = State::running;
  old.image = "old:v1";
  std::vector<Instance> existing = {made(spec, "web", "1"), made(spec, "web", "2"),
                                    made(spec, "web", "3"), made(spec, "api", "1"), old};
  CHECK(lines(make_plan(spec, existing)) ==
        std::vector<std::string>{"remove old@1 (not in cluster.yaml)"});
  PlanOptions keep;
  keep.prune = false;
  CHECK(make_plan(spec, existing, keep).empty());

  PlanOptions only;
  only.apps = {"api"};
  Plan narrowed = make_plan(cluster_file("web:v2"), existing, only);
  REQUIRE(narrowed.apps.size() == 1);
  CHECK(narrowed.apps[0].app == "api");
  CHECK(narrowed.empty());
  only.apps = {"old"};
  CHECK(lines(make_plan(spec, existing, only)) ==
        std::vector<std::string>{"remove old@1 (not in cluster.yaml)"});
  only.apps = {"nosuch"};
  CHECK(kind_of([&] { make_plan(spec, existing, only); }) == ErrorKind::usage);
}

TEST_CASE("plan: the instance spec carries the stamp, env, routing and the registry") {
  ClusterSpec spec = cluster_file();
  scheduler::InstanceSpec web = instance_spec(spec, *spec.app("web"), "4");
  CHECK(web.name().str() == "web@4");
  CHECK(web.image == "web:v1");
  CHECK(web.container_port == 80);
  CHECK(web.host_ip == "127.0.0.1");
  CHECK(web.spec_hash == instance_stamp(*spec.app("web")));
  CHECK(web.env == std::vector<std::pair<std::string, std::string>>{{"A", "1"}});
  CHECK(web.routing.domain == "example.com");
  CHECK(web.routing.tags == std::vector<std::string>{"server_alias=www.example.com"});
  REQUIRE(web.health.has_value());
  CHECK(web.health->http_path == "/health");
  CHECK(web.registry_url == "etcd://127.0.0.1:2379");
  scheduler::InstanceSpec api = instance_spec(spec, *spec.app("api"), "1");
  CHECK(api.routing.path == "/api/");
  CHECK(api.routing.domain.empty());
  CHECK_FALSE(api.health.has_value());
  CHECK_NOTHROW(scheduler::validate(web));
  CHECK_NOTHROW(scheduler::validate(api));
}

TEST_CASE("plan: against the memory scheduler, up's result plans nothing") {
  ClusterSpec spec = cluster_file();
  scheduler::memory::MemoryScheduler sched;
  for (const AppPlan& app : make_plan(spec, sched.list()).apps) {
    for (const Change& c : app.changes) {
      sched.start(instance_spec(spec, *app.spec, c.name.instance));
    }
  }
  CHECK(sched.list().size() == 4);
  CHECK(make_plan(spec, sched.list()).empty());
  CHECK(lines(make_plan(cluster_file("web:v3"), sched.list())).size() == 3);
}

TEST_CASE("instance numbers order as numbers, then names") {
  CHECK(instance_number_less("2", "10"));
  CHECK_FALSE(instance_number_less("10", "2"));
  CHECK(instance_number_less("10", "a"));
  CHECK(instance_number_less("a", "b"));
}

TEST_SUITE_END();
