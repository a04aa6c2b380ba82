#include "announce/doubles.hpp"
#include "cluster/files.hpp"
#include "herald/announce/registrator_presence.hpp"
#include "herald/cluster/load.hpp"
#include "herald/cluster/registrator_check.hpp"
#include "herald/registry/memory/memory_registry.hpp"
#include "herald/scheduler/memory/memory_scheduler.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace herald;
using namespace herald::cluster;
using namespace std::chrono_literals;
using herald::announce::PresenceKey;
using herald::announce::RegistratorPresence;
using herald::announce::test::SwitchableRegistry;
using herald::registry::memory::MemoryRegistry;
using herald::scheduler::memory::MemoryScheduler;
using State = RegistratorCheck::State;

namespace {

const std::string k_engine = "5D3Y:JQ2V:OZ5C:SBDO";

ClusterSpec cluster_file(const std::string& extra = "") {
  std::string text = extra + "apps:\n  - name: web\n    image: web:1\n    port: 80\n";
  return parse_cluster(text, "cluster.yaml", herald::cluster::test::files({}));
}

MemoryScheduler engine() {
  scheduler::Machine machine;
  machine.id = k_engine;
  machine.name = "docker-1";
  return MemoryScheduler({machine});
}

/// Keeps the presence of a registrator of `engine_id` under `prefix` in `registry`.
PresenceKey registrator(registry::Registry& registry, const std::string& engine_id,
                        const std::string& prefix) {
  RegistratorPresence presence;
  presence.engine_id = engine_id;
  presence.engine_name = "docker-1";
  presence.node = "node-1";
  presence.prefix = prefix;
  presence.version = "0.9.0";
  presence.pid = 4242;
  PresenceKey key(60s);
  key.set(presence);
  key.keep(registry, false);
  return key;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_SUITE_BEGIN("cluster");

TEST_CASE("without a registrator of its engine a docker cluster is told what to start") {
  MemoryRegistry registry;
  MemoryScheduler scheduler = engine();
  ClusterSpec spec = cluster_file();
  RegistratorCheck check = check_registrator(&spec, scheduler, registry);
  CHECK(check.state == State::missing);
  CHECK(check.problem == "no registrator is alive for Docker engine \"docker-1\" (ID " + k_engine +
                             ") in memory:// under /services/web");
  CHECK(check.remedy ==
        "start one on the engine's host: herald --registry memory:// announce --docker-events "
        "--prefix /services/web (as a service: herald --registry memory:// unit gen registrator "
        "--prefix /services/web writes its unit)");
  CHECK(check.alive.empty());
}

TEST_CASE("a live registrator of the engine under the cluster's prefix serves it") {
  MemoryRegistry registry;
  MemoryScheduler scheduler = engine();
  ClusterSpec spec = cluster_file("registry:\n  prefix: /prod/web/\n");
  PresenceKey kept = registrator(registry, k_engine, "/prod/web");
  RegistratorCheck check = check_registrator(&spec, scheduler, registry);
  CHECK(check.state == State::alive);
  REQUIRE(check.alive.size() == 1);
  CHECK(check.alive[0].node == "node-1");
  CHECK(check.problem.empty());
  CHECK(check.remedy.empty());
  // Once it stops (or its key expires), the cluster is without one again.
  kept.remove(registry);
  CHECK(check_registrator(&spec, scheduler, registry).state == State::missing);
}

TEST_CASE("a registrator of another engine or under another prefix does not serve the cluster") {
  MemoryRegistry registry;
  MemoryScheduler scheduler = engine();
  ClusterSpec spec = cluster_file();
  PresenceKey other_engine = registrator(registry, "OTHE:RENG:INE0", "/services/web");
  RegistratorCheck check = check_registrator(&spec, scheduler, registry);
  CHECK(check.state == State::missing);
  CHECK_FALSE(contains(check.problem, "instead"));

  PresenceKey other_prefix = registrator(registry, k_engine, "/services/staging");
  check = check_registrator(&spec, scheduler, registry);
  CHECK(check.state == State::missing);
  // The likely mistake is named: the registrator runs, with another --prefix.
  CHECK(contains(check.problem,
                 "under /services/web (one of this engine registers under /services/staging "
                 "instead)"));
}

TEST_CASE("a garbage presence is ignored, not taken for a registrator, and does not stop the "
          "check") {
  MemoryRegistry registry;
  MemoryScheduler scheduler = engine();
  ClusterSpec spec = cluster_file();
  registry.put("/herald/registrators/services/web/" + k_engine + "/node-1", "{\"engine_id\":");
  herald::test::LogCapture log(spdlog::level::warn);
  RegistratorCheck check = check_registrator(&spec, scheduler, registry);
  CHECK(check.state == State::missing);
  CHECK(log.count("ignoring the registrator presence") == 1);
}

TEST_CASE("a cluster on another engine than the local socket says where the registrator "
          "follows it") {
  MemoryRegistry registry;
  MemoryScheduler scheduler = engine();
  ClusterSpec spec = cluster_file("scheduler:\n  kind: docker\n  endpoint: tcp://10.0.0.5:2375\n");
  RegistratorCheck check = check_registrator(&spec, scheduler, registry);
  CHECK(contains(check.remedy, ": DOCKER_HOST=tcp://10.0.0.5:2375 herald --registry memory:// "
                               "announce --docker-events"));
}

TEST_CASE("fleet clusters need no registrator, and a registry of services cannot show one") {
  MemoryRegistry memory;
  SwitchableRegistry registry(memory);
  MemoryScheduler scheduler = engine();
  ClusterSpec fleet = cluster_file("scheduler:\n  kind: fleet\n");
  CHECK(check_registrator(&fleet, scheduler, registry).state == State::not_needed);

  registry.services_not_keys = true;
  ClusterSpec docker = cluster_file();
  RegistratorCheck check = check_registrator(&docker, scheduler, registry);
  CHECK(check.state == State::unknown);
  CHECK(contains(check.problem, "cannot tell whether a registrator runs: memory:// registers "
                                "services, not keys"));
  CHECK(contains(check.remedy, "announce --docker-events"));
}

TEST_CASE("without a cluster file the check is for the default prefix") {
  MemoryRegistry registry;
  MemoryScheduler scheduler = engine();
  PresenceKey kept = registrator(registry, k_engine, "/services/web");
  CHECK(check_registrator(nullptr, scheduler, registry).state == State::alive);
}

TEST_SUITE_END();
