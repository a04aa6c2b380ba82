#include "herald/core/error.hpp"
#include "herald/core/name.hpp"

#include <doctest/doctest.h>

using namespace herald;

TEST_SUITE_BEGIN("core");

TEST_CASE("parse_instance_name splits APP@INSTANCE") {
  auto n = parse_instance_name("web@1");
  CHECK(n.app == "web");
  CHECK(n.instance == "1");
  CHECK(n.str() == "web@1");
  CHECK(parse_instance_name("example-app@10.0.0.5:3000").instance == "10.0.0.5:3000");
}

TEST_CASE("parse_instance_name rejects malformed names with a usage error") {
  for (const char* bad : {"web", "@1", "web@", "web@1@2", "we b@1", "web/x@1", "web@a/b", ""}) {
    CAPTURE(bad);
    try {
      parse_instance_name(bad);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      CHECK(std::string(e.what()).find("APP@INSTANCE") != std::string::npos);
    }
  }
}

TEST_CASE("parse_host_port reads IPv4, names and bracketed IPv6") {
  CHECK(parse_host_port("10.0.0.5:3000", "--addr") == HostPort{"10.0.0.5", 3000});
  CHECK(parse_host_port("node-1.local:80", "--addr") == HostPort{"node-1.local", 80});
  CHECK(parse_host_port("[::1]:8080", "--addr") == HostPort{"::1", 8080});
  CHECK(HostPort{"::1", 8080}.str() == "[::1]:8080");
  CHECK(HostPort{"10.0.0.5", 3000}.str() == "10.0.0.5:3000");
}

TEST_CASE("parse_host_port and parse_port reject bad input") {
  HostPort hp;
  for (const char* bad :
       {"10.0.0.5", "10.0.0.5:", ":80", "h:0", "h:65536", "h:80x", "::1:80", "[::1]80", "a b:80"}) {
    CAPTURE(bad);
    CHECK_FALSE(try_parse_host_port(bad, hp));
    CHECK_THROWS_AS(parse_host_port(bad, "--addr"), Error);
  }
  CHECK(parse_port("65535", "--port") == 65535);
  CHECK_THROWS_WITH_AS(parse_port("http", "--port"), doctest::Contains("--port"), Error);
}

TEST_SUITE_END();
