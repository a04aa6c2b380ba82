#include "support/fixtures.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace herald::test;

TEST_SUITE_BEGIN("support");

TEST_CASE("fixtures are read from tests/fixtures of this checkout, byte for byte") {
  CHECK(fixtures_dir().ends_with("/tests/fixtures"));
  CHECK(fixture_path("confd-golden") == fixtures_dir() + "/confd-golden");
  std::string version = read_fixture("docker-api/version.v1.41.json");
  CHECK(version.find("\"ApiVersion\": \"1.41\"") != std::string::npos);
  // Recorded bytes stay as recorded: confd's output keeps its trailing blanks.
  CHECK(read_fixture("confd-golden/sorting/expected").find(" \n") != std::string::npos);
}

// doctest reports this case passed only when it fails: a missing fixture never passes silently.
TEST_CASE("a missing fixture fails the test that reads it" * doctest::should_fail()) {
  read_fixture("docker-api/no-such-recording.json");
}

TEST_CASE("a missing fixture directory fails the test that lists it" * doctest::should_fail()) {
  fixture_path("no-such-corpus");
}

TEST_SUITE_END();
