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

TEST_CASE("parse_instance_name refuses dot segments and parts that do not start like a label") {
  for (const char* bad : {"..@1", ".@.", "web@..", "web@.", ".web@1", "-web@1", "web@-1"}) {
    CAPTURE(bad);
    try {
      parse_instance_name(bad);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      CHECK(std::string(e.what()).find("must start with a letter or a digit") != std::string::npos);
    }
  }
  CHECK(parse_instance_name("web.v2@node-1.local:80").app == "web.v2");
  CHECK_FALSE(is_valid_app_name(".."));
  CHECK_FALSE(is_valid_app_name("."));
}

TEST_CASE("a name part over the limit is called too long, with the limit") {
  std::string long_app(210, 'a');
  CHECK_THROWS_WITH_AS(parse_instance_name(long_app + "@1"),
                       doctest::Contains("APP part of APP@INSTANCE is 210 characters long; the "
                                         "limit is 200"),
                       Error);
  CHECK_THROWS_WITH_AS(parse_instance_name("web@" + std::string(201, '1')),
                       doctest::Contains("INSTANCE part of APP@INSTANCE is 201 characters long"),
                       Error);
  CHECK(parse_instance_name(std::string(200, 'a') + "@1").app.size() == 200);
}

TEST_CASE("parse_instance_name escapes control bytes in what it echoes") {
  CHECK_THROWS_WITH_AS(parse_instance_name("web@1\n"), doctest::Contains("letters, digits"), Error);
  try {
    parse_instance_name("web@1\x1b[2J");
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find('\x1b') == std::string::npos);
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
