#include "herald/core/error.hpp"
#include "herald/docker/model.hpp"
#include "herald/scheduler/docker/docker_scheduler.hpp"

#include <doctest/doctest.h>

using namespace herald;
using namespace herald::scheduler;
using herald::scheduler::docker::container_labels;
using herald::scheduler::docker::container_spec;
using herald::scheduler::docker::instance_of;

namespace {

InstanceSpec web1() {
  InstanceSpec spec;
  spec.app = "web";
  spec.instance = "1";
  spec.image = "web:1";
  spec.container_port = 3000;
  spec.host_ip = "10.0.0.5";
  spec.spec_hash = "abc";
  return spec;
}

herald::docker::Container container(const std::string& status, int exit_code = 0) {
  herald::docker::Container c;
  c.id = "c0ffee";
  c.name = "herald-web-1";
  c.image = "web:1";
  c.status = status;
  c.running = status == "running";
  c.exit_code = exit_code;
  c.labels = {{"herald.app", "web"},
              {"herald.instance", "1"},
              {"herald.spec", "abc"},
              {"herald.port", "3000"}};
  return c;
}

} // namespace

TEST_SUITE_BEGIN("scheduler");

TEST_CASE("docker scheduler: the container spec carries herald's and the registrator's labels") {
  InstanceSpec spec = web1();
  spec.routing.path = "/web/";
  spec.routing.tags = {"a", "b"};
  spec.routing.meta = {{"zone", "eu"}};
  spec.health = HealthCheck{"/health"};
  spec.health->interval = std::chrono::milliseconds(1500);
  spec.env = {{"A", "1"}, {"B", "2"}, {"A", "3"}};
  spec.labels = {{"herald.app", "other"}, {"team", "x"}};
  spec.host_port = 8080;

  herald::docker::ContainerSpec out = container_spec(spec);
  CHECK(out.name == "herald-web-1");
  CHECK(out.image == "web:1");
  CHECK(out.env == std::vector<std::string>{"A=3", "B=2"});
  CHECK(out.restart_policy == "unless-stopped");
  REQUIRE(out.publish.size() == 1);
  CHECK(out.publish[0].container_port == "3000");
  CHECK(out.publish[0].host_ip == "10.0.0.5");
  CHECK(out.publish[0].host_port == "8080");
  CHECK(out.labels == std::map<std::string, std::string>{
                          {"herald.app", "web"},
                          {"herald.instance", "1"},
                          {"herald.spec", "abc"},
                          {"herald.port", "3000"},
                          {"SERVICE_NAME", "web"},
                          {"SERVICE_TAGS", "a,b"},
                          {"SERVICE_ZONE", "eu"},
                          {"SERVICE_PATH", "/web/"},
                          {"SERVICE_CHECK_HTTP", "/health"},
                          {"SERVICE_CHECK_INTERVAL", "1.5s"},
                          {"SERVICE_CHECK_TIMEOUT", "1s"},
                          {"SERVICE_CHECK_RISE", "2"},
                          {"SERVICE_CHECK_FALL", "3"},
                          {"team", "x"},
                      });
}

TEST_CASE("docker scheduler: a meta key no registrator label can carry is refused") {
  InstanceSpec spec = web1();
  for (const char* key : {"Zone", "tags", "a-b", "1x"}) {
    spec.routing.meta = {{key, "v"}};
    CHECK_THROWS_AS(container_labels(spec), Error);
  }
}

TEST_CASE("docker scheduler: container states map to instance states") {
  CHECK(instance_of(container("running"), "h").state == State::running);
  CHECK(instance_of(container("created"), "h").state == State::stopped);
  CHECK(instance_of(container("exited", 0), "h").state == State::stopped);
  CHECK(instance_of(container("exited", 143), "h").state == State::stopped);
  CHECK(instance_of(container("exited", 137), "h").state == State::stopped);
  auto failed = instance_of(container("exited", 3), "h");
  CHECK(failed.state == State::failed);
  CHECK(failed.detail == "exited (3)");
  CHECK(instance_of(container("dead"), "h").state == State::failed);
  auto looping = container("restarting", 1);
  looping.restarting = true;
  looping.restart_count = 4;
  CHECK(instance_of(looping, "h").state == State::failed);
  CHECK(instance_of(looping, "h").detail == "restarting (exit 1, 4 restarts)");

  auto running = container("running");
  running.ports = {{"3000/tcp", {{"127.0.0.1", "32768"}}}};
  Instance instance = instance_of(running, "host-a");
  CHECK(instance.name().str() == "web@1");
  CHECK(instance.spec_hash == "abc");
  CHECK(instance.machine == "host-a");
  CHECK(instance.id == "c0ffee");
  REQUIRE(instance.address.has_value());
  CHECK(instance.address->str() == "127.0.0.1:32768");

  // Published on every interface: the address is the node's, which the scheduler cannot know.
  running.ports = {{"3000/tcp", {{"0.0.0.0", "32768"}}}};
  CHECK_FALSE(instance_of(running, "host-a").address.has_value());
}

TEST_SUITE_END();
