#include "herald/announce/container_services.hpp"

#include <doctest/doctest.h>

using namespace herald::announce;
using herald::docker::Container;
using herald::docker::PortBinding;

TEST_SUITE_BEGIN("announce");

namespace {

/// A running container publishing `ports` ("8080/tcp") on 127.0.0.1.
Container running(std::vector<std::string> ports, std::vector<std::string> env = {},
                  std::map<std::string, std::string> labels = {}) {
  Container c;
  c.id = "0123456789abcdef";
  c.name = "web-1";
  c.running = true;
  c.status = "running";
  c.env = std::move(env);
  c.labels = std::move(labels);
  int host_port = 32768;
  for (const auto& port : ports) {
    c.exposed_ports.push_back(port);
    c.ports[port] = {PortBinding{"127.0.0.1", std::to_string(host_port++)}};
  }
  return c;
}

} // namespace

TEST_CASE("a container without SERVICE_NAME or herald.service is not registered") {
  CHECK(container_services(running({"8080/tcp"}, {"PATH=/bin", "SERVICE_TAGS=a"})).empty());
}

TEST_CASE("SERVICE_NAME and SERVICE_TAGS from the environment name one published port") {
  auto services = container_services(running(
      {"8080/tcp"}, {"SERVICE_NAME=web", "SERVICE_TAGS=blue, v2 ,blue", "SERVICE_REGION=eu"}));
  REQUIRE(services.size() == 1);
  CHECK(services[0].name == "web");
  CHECK(services[0].container_port == "8080/tcp");
  CHECK(services[0].port_number == "8080");
  CHECK(services[0].tags == std::vector<std::string>{"blue", "v2"});
  CHECK(services[0].attributes == std::map<std::string, std::string>{{"region", "eu"}});
}

TEST_CASE("a label wins over the environment variable of the same name") {
  auto services =
      container_services(running({"8080/tcp"}, {"SERVICE_NAME=env"}, {{"SERVICE_NAME", "label"}}));
  REQUIRE(services.size() == 1);
  CHECK(services[0].name == "label");
}

TEST_CASE("several published ports get SERVICE_NAME-PORT unless a port has its own name") {
  auto services = container_services(running({"8080/tcp", "9090/tcp", "53/udp"},
                                             {"SERVICE_NAME=app", "SERVICE_9090_NAME=metrics",
                                              "SERVICE_9090_TAGS=prom", "SERVICE_53_IGNORE=1"}));
  REQUIRE(services.size() == 2);
  CHECK(services[0].name == "app-8080");
  CHECK(services[0].tags.empty());
  CHECK(services[1].name == "metrics");
  CHECK(services[1].tags == std::vector<std::string>{"prom"});
}

TEST_CASE("SERVICE_IGNORE and herald.ignore skip the whole container") {
  CHECK(container_services(running({"8080/tcp"}, {"SERVICE_NAME=web", "SERVICE_IGNORE=true"}))
            .empty());
  CHECK(container_services(
            running({"8080/tcp"}, {}, {{"herald.service", "web"}, {"herald.ignore", "1"}}))
            .empty());
}

TEST_CASE("herald.service with herald.port names only that port and adds herald.tags") {
  auto services = container_services(
      running({"8080/tcp", "9090/tcp"}, {"SERVICE_TAGS=a"},
              {{"herald.service", "api"}, {"herald.port", "9090"}, {"herald.tags", "b,a"}}));
  REQUIRE(services.size() == 1);
  CHECK(services[0].name == "api");
  CHECK(services[0].container_port == "9090/tcp");
  CHECK(services[0].tags == std::vector<std::string>{"a", "b"});
}

TEST_CASE("SERVICE_CHECK_HTTP is a container-wide attribute, not a port setting") {
  auto services =
      container_services(running({"8080/tcp"}, {"SERVICE_NAME=web", "SERVICE_CHECK_HTTP=/health",
                                                "SERVICE_CHECK_INTERVAL=5s"}));
  REQUIRE(services.size() == 1);
  CHECK(services[0].attributes.at("check_http") == "/health");
  CHECK(services[0].attributes.at("check_interval") == "5s");
}

TEST_CASE("an exposed but unpublished port is not a service") {
  Container c = running({"8080/tcp"}, {"SERVICE_NAME=web"});
  c.ports["8080/tcp"].clear();
  CHECK(container_services(c).empty());
}

TEST_CASE("instance ids follow registrator: NODE:CONTAINER:PORT, with :udp for UDP") {
  Container c = running({"8080/tcp", "53/udp"}, {"SERVICE_NAME=dns"});
  auto services = container_services(c);
  REQUIRE(services.size() == 2);
  CHECK(service_instance_id("node1", c, services[0]) == "node1:web-1:53:udp");
  CHECK(service_instance_id("node1", c, services[1]) == "node1:web-1:8080");
}

TEST_SUITE_END();
