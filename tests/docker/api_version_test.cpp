#include "herald/core/error.hpp"
#include "herald/docker/api_version.hpp"

#include <doctest/doctest.h>

using herald::Error;
using herald::ErrorKind;
using namespace herald::docker;

TEST_SUITE_BEGIN("docker");

TEST_CASE("an API version parses from 1.41 and v1.41 and prints as a path prefix") {
  ApiVersion v = parse_api_version("1.41", "test");
  CHECK(v.major == 1);
  CHECK(v.minor == 41);
  CHECK(v.str() == "1.41");
  CHECK(v.path_prefix() == "/v1.41");
  CHECK(parse_api_version("v1.9", "test") == ApiVersion{1, 9});
  CHECK(ApiVersion{1, 9} < ApiVersion{1, 41});
}

TEST_CASE("a malformed API version is a config error naming its source") {
  for (const char* bad : {"", "1", "1.", "one.41", "1.41.2", "1.-3"}) {
    CAPTURE(bad);
    try {
      parse_api_version(bad, "DOCKER_API_VERSION");
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::config);
      CHECK(std::string(e.what()).find("DOCKER_API_VERSION") != std::string::npos);
    }
  }
}

TEST_CASE("negotiation uses the daemon's version when it is older than herald's newest") {
  CHECK(negotiate_api_version({1, 41}, "unix:///var/run/docker.sock") == ApiVersion{1, 41});
  CHECK(negotiate_api_version(k_min_api_version, "d") == k_min_api_version);
}

TEST_CASE("negotiation caps a newer daemon at herald's newest version") {
  CHECK(negotiate_api_version({1, 56}, "d") == k_max_api_version);
  CHECK(negotiate_api_version({2, 0}, "d") == k_max_api_version);
  // Docker 29.0-29.2 refuse versions below 1.44, so herald's newest must be at least that.
  CHECK(k_max_api_version >= ApiVersion{1, 44});
}

TEST_CASE("a daemon older than herald's minimum is one config error naming both versions") {
  try {
    negotiate_api_version({1, 23}, "unix:///var/run/docker.sock");
    FAIL("no error");
  } catch (const Error& e) {
    std::string message = e.what();
    CHECK(e.kind() == ErrorKind::config);
    CHECK(message.find("1.23") != std::string::npos);
    CHECK(message.find(k_min_api_version.str()) != std::string::npos);
    CHECK(message.find("unix:///var/run/docker.sock") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_SUITE_END();
