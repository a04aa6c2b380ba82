#include "docker/fixtures.hpp"
#include "herald/core/error.hpp"
#include "herald/docker/ports.hpp"

#include <doctest/doctest.h>

using herald::Error;
using herald::ErrorKind;
using herald::test::docker_fixture;
using namespace herald::docker;

namespace {

Container running_with(std::map<std::string, std::vector<PortBinding>> ports) {
  Container c;
  c.id = "0123456789abcdef";
  c.name = "web";
  c.status = "running";
  c.running = true;
  c.network_mode = "bridge";
  c.ports = std::move(ports);
  return c;
}

Error error_of(const Container& c, std::string_view port, std::string_view node) {
  try {
    published_address(c, port, node);
  } catch (const Error& e) {
    return e;
  }
  FAIL("no error");
  return Error(ErrorKind::internal, "");
}

} // namespace

TEST_SUITE_BEGIN("docker");

TEST_CASE("a loopback binding is used as it is, whatever the node address") {
  Container c = parse_container(docker_fixture("container-inspect-loopback.excerpt.v1.41.json"));
  HostAddress a = published_address(c, "8080", "10.0.0.5");
  CHECK(a.host == "127.0.0.1");
  CHECK(a.port == 32768);
  CHECK(a.str() == "127.0.0.1:32768");
  CHECK(published_address(c, "8080/tcp", "").str() == "127.0.0.1:32768");
}

TEST_CASE("bindings on every interface stand for the node address, preferring IPv4") {
  Container c = parse_container(docker_fixture("container-inspect.excerpt.v1.41.json"));
  HostAddress a = published_address(c, "8080/tcp", "10.0.0.5");
  CHECK(a.host == "10.0.0.5");
  CHECK(a.port == 32768);
  CHECK(published_address(c, "9090/udp", "10.0.0.5").str() == "10.0.0.5:32768");
}

TEST_CASE("an IPv4 binding wins over IPv6 even when IPv6 is listed first") {
  Container c = running_with({{"3000/tcp", {{"::", "40001"}, {"0.0.0.0", "40000"}}}});
  CHECK(published_address(c, "3000", "10.0.0.5").str() == "10.0.0.5:40000");

  Container concrete = running_with({{"3000/tcp", {{"fd00::7", "40001"}, {"", "40002"}}}});
  CHECK(published_address(concrete, "3000", "10.0.0.5").str() == "10.0.0.5:40002");

  Container v6_only = running_with({{"3000/tcp", {{"fd00::7", "40001"}}}});
  CHECK(published_address(v6_only, "3000", "10.0.0.5").str() == "[fd00::7]:40001");
}

TEST_CASE("a concrete address wins over a wildcard") {
  Container c = running_with({{"3000/tcp", {{"0.0.0.0", "40000"}, {"192.168.1.9", "40003"}}}});
  CHECK(published_address(c, "3000", "10.0.0.5").str() == "192.168.1.9:40003");
}

TEST_CASE("an empty HostIp and :: alone mean every interface too") {
  CHECK(
      published_address(running_with({{"3000/tcp", {{"", "40000"}}}}), "3000", "10.0.0.5").str() ==
      "10.0.0.5:40000");
  CHECK(
      published_address(running_with({{"3000/tcp", {{"::", "40000"}}}}), "3000", "fd00::1").str() ==
      "[fd00::1]:40000");
}

TEST_CASE("a port the container does not publish is a data error that says what to do") {
  Container c = parse_container(docker_fixture("container-inspect-loopback.excerpt.v1.41.json"));
  Error e = error_of(c, "3000", "10.0.0.5");
  CHECK(e.kind() == ErrorKind::data);
  CHECK(std::string(e.what()) == "container 'refprobe-12307' does not publish port 3000/tcp: run "
                                 "it with -p 3000 or pass --container-port");

  Container exposed_only = running_with({{"3000/tcp", {}}});
  CHECK(error_of(exposed_only, "3000", "10.0.0.5").kind() == ErrorKind::data);
  // udp and tcp are different ports.
  Container c2 = parse_container(docker_fixture("container-inspect.excerpt.v1.41.json"));
  CHECK(error_of(c2, "9090/tcp", "10.0.0.5").kind() == ErrorKind::data);
}

TEST_CASE("a stopped container has no published address yet: a temporary error") {
  Container c = parse_container(docker_fixture("container-inspect-exited.excerpt.v1.41.json"));
  Error e = error_of(c, "8080", "10.0.0.5");
  CHECK(e.kind() == ErrorKind::temporary);
  CHECK(std::string(e.what()).find("'refprobe-12307' is not running (exited)") !=
        std::string::npos);
}

TEST_CASE("a wildcard binding without a node address is a config error") {
  Container c = parse_container(docker_fixture("container-inspect.excerpt.v1.41.json"));
  Error e = error_of(c, "8080", "");
  CHECK(e.kind() == ErrorKind::config);
  CHECK(std::string(e.what()).find("COREOS_PRIVATE_IPV4") != std::string::npos);
}

TEST_CASE("with host networking the container port is the host port on the node address") {
  Container c = running_with({});
  c.network_mode = "host";
  CHECK(published_address(c, "3000", "10.0.0.5").str() == "10.0.0.5:3000");
}

TEST_CASE("a malformed container port is a usage error") {
  Container c = running_with({});
  CHECK(error_of(c, "http", "10.0.0.5").kind() == ErrorKind::usage);
}

TEST_CASE("a HostPort that is not a number is a data error") {
  Container c = running_with({{"3000/tcp", {{"0.0.0.0", "x"}}}});
  CHECK(error_of(c, "3000", "10.0.0.5").kind() == ErrorKind::data);
}

TEST_SUITE_END();
