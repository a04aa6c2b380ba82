#include "announce/doubles.hpp"
#include "herald/announce/registrator.hpp"
#include "herald/core/error.hpp"
#include "herald/registry/backends.hpp"
#include "herald/registry/memory/memory_registry.hpp"

#include <doctest/doctest.h>

using namespace herald;
using namespace herald::announce;
using namespace herald::announce::test;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("announce");

namespace {

RegistratorOptions options_for(std::string node) {
  RegistratorOptions options;
  options.node = std::move(node);
  options.prefix = "/services/web";
  options.node_address = "10.0.0.5";
  options.ttl = 30s;
  options.refresh = 10s;
  return options;
}

/// A running container `name` publishing 8080/tcp on every interface at `host_port`.
docker::Container container(const std::string& id, const std::string& name, int host_port,
                            std::vector<std::string> env = {"SERVICE_NAME=web"}) {
  docker::Container c;
  c.id = id;
  c.name = name;
  c.running = true;
  c.status = "running";
  c.env = std::move(env);
  c.exposed_ports = {"8080/tcp"};
  c.ports["8080/tcp"] = {docker::PortBinding{"0.0.0.0", std::to_string(host_port)}};
  return c;
}

std::map<std::string, std::string> keys(registry::Registry& registry) {
  std::map<std::string, std::string> out;
  for (const auto& kv : registry.list("/services/web").entries) {
    out[kv.key] = kv.value;
  }
  return out;
}

} // namespace

TEST_CASE("a running container that asks is registered under NODE:CONTAINER:PORT with its TTL") {
  registry::memory::MemoryRegistry registry;
  ContainerRegistrations regs(registry, options_for("n1"));
  regs.set_container("c1", container("c1", "web-a", 32001));
  regs.sync();
  CHECK(keys(registry) == std::map<std::string, std::string>{
                              {"/services/web/web/web@n1:web-a:8080", "10.0.0.5:32001"}});
  auto kv = registry.get("/services/web/web/web@n1:web-a:8080");
  REQUIRE(kv);
  CHECK(kv->lease != 0);
}

TEST_CASE("a stopped container's registration is removed at the next sync") {
  registry::memory::MemoryRegistry registry;
  ContainerRegistrations regs(registry, options_for("n1"));
  auto c = container("c1", "web-a", 32001);
  regs.set_container("c1", c);
  regs.sync();
  c.running = false;
  c.ports.clear();
  regs.set_container("c1", c);
  regs.sync();
  CHECK(keys(registry).empty());
}

TEST_CASE("a restart on another host port rewrites the value") {
  registry::memory::MemoryRegistry registry;
  ContainerRegistrations regs(registry, options_for("n1"));
  regs.set_container("c1", container("c1", "web-a", 32001));
  regs.sync();
  regs.set_container("c1", container("c1", "web-a", 32002));
  regs.sync();
  CHECK(keys(registry) == std::map<std::string, std::string>{
                              {"/services/web/web/web@n1:web-a:8080", "10.0.0.5:32002"}});
}

TEST_CASE("resync removes registrations this node owns whose container is gone, and no others") {
  registry::memory::MemoryRegistry registry;
  {
    // A previous registrator run on n1 and one on n2 registered containers.
    ContainerRegistrations before(registry, options_for("n1"));
    before.set_container("c1", container("c1", "web-a", 32001));
    before.set_container("c2", container("c2", "web-b", 32002));
    before.sync();
    ContainerRegistrations other(registry, options_for("n2"));
    other.set_container("c9", container("c9", "web-z", 32009));
    other.sync();
  }
  registry.put("/services/web/web/web@1", "10.0.0.9:3000"); // a plain announce, not ours

  ContainerRegistrations regs(registry, options_for("n1"));
  regs.resync({container("c2", "web-b", 32002), container("c3", "web-c", 32003)});
  regs.sync();
  CHECK(keys(registry) == std::map<std::string, std::string>{
                              {"/services/web/web/web@1", "10.0.0.9:3000"},
                              {"/services/web/web/web@n1:web-b:8080", "10.0.0.5:32002"},
                              {"/services/web/web/web@n1:web-c:8080", "10.0.0.5:32003"},
                              {"/services/web/web/web@n2:web-z:8080", "10.0.0.5:32009"}});
}

TEST_CASE("json values carry the owner node and the container id in meta") {
  registry::memory::MemoryRegistry registry;
  auto options = options_for("n1");
  options.format = registry::ValueFormat::json;
  options.tags = {"dc1"};
  ContainerRegistrations regs(registry, options);
  regs.set_container("c1", container("c1", "web-a", 32001, {"SERVICE_NAME=web", "SERVICE_TAGS=x"}));
  regs.sync();
  registry::InstanceQuery query;
  auto instances = registry.instances(query);
  REQUIRE(instances.size() == 1);
  CHECK(instances[0].meta.at(k_owner_meta) == "n1");
  CHECK(instances[0].meta.at(k_container_meta) == "c1");
  CHECK(instances[0].tags == std::vector<std::string>{"x", "dc1"});
  CHECK(owned_by(instances[0], "n1"));
  CHECK_FALSE(owned_by(instances[0], "n2"));
}

TEST_CASE("a sync cut short by a registry outage finishes on the next sync") {
  registry::memory::MemoryRegistry inner;
  SwitchableRegistry registry(inner);
  ContainerRegistrations regs(registry, options_for("n1"));
  regs.set_container("c1", container("c1", "web-a", 32001));
  regs.set_container("c2", container("c2", "web-b", 32002));
  registry.down = true;
  CHECK_THROWS_AS(regs.sync(), Error);
  CHECK(regs.dirty());
  registry.down = false;
  regs.sync();
  CHECK_FALSE(regs.dirty());
  CHECK(keys(inner).size() == 2);
}

TEST_CASE("refresh registers again an instance that was deleted behind its back") {
  registry::memory::MemoryRegistry registry;
  ContainerRegistrations regs(registry, options_for("n1"));
  regs.set_container("c1", container("c1", "web-a", 32001));
  regs.sync();
  registry.remove("/services/web/web/web@n1:web-a:8080");
  regs.refresh();
  CHECK(keys(registry).size() == 1);
}

TEST_CASE("a wildcard binding without a node address is left out, not registered wrong") {
  registry::memory::MemoryRegistry registry;
  auto options = options_for("n1");
  options.node_address.clear();
  ContainerRegistrations regs(registry, options);
  regs.set_container("c1", container("c1", "web-a", 32001));
  regs.sync();
  CHECK(keys(registry).empty());
}

TEST_CASE("a kill event withdraws a container, unless its signal asks an app to reload") {
  auto kill = [](std::string signal) {
    docker::Event event;
    event.type = "container";
    event.action = event.base_action = "kill";
    event.attributes["signal"] = std::move(signal);
    return kill_withdraws(event);
  };
  CHECK(kill("15"));      // docker stop
  CHECK(kill("9"));       // docker kill
  CHECK(kill("18"));      // SIGCONT: cluster up drains an instance
  CHECK(kill("SIGTERM")); // a name, as older engines sent it
  CHECK(kill("CONT"));
  CHECK_FALSE(kill("1")); // SIGHUP: nginx, haproxy and most daemons reload
  CHECK_FALSE(kill("SIGHUP"));
  CHECK_FALSE(kill("USR1"));
  CHECK_FALSE(kill("12"));
  CHECK_FALSE(kill("28")); // SIGWINCH: apache's graceful stop of workers, not of the app
}

TEST_SUITE_END();
