#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using herald::format_duration;
using herald::parse_duration;

TEST_SUITE_BEGIN("core");

TEST_CASE("parse_duration reads Go and systemd style durations") {
  CHECK(parse_duration("45s", "--ttl") == 45s);
  CHECK(parse_duration("60", "--ttl") == 60s);
  CHECK(parse_duration("1m30s", "--ttl") == 90s);
  CHECK(parse_duration("250ms", "--ttl") == 250ms);
  CHECK(parse_duration("2h", "--ttl") == 2h);
  CHECK(parse_duration("1.5s", "--ttl") == 1500ms);
  CHECK(parse_duration("0s", "--ttl") == 0ms);
}

TEST_CASE("parse_duration rejects malformed text naming the flag") {
  for (const char* bad : {"", "abc", "10x", "-5s", "1m30", "s", "1..2s", "5 s"}) {
    CAPTURE(bad);
    try {
      parse_duration(bad, "--ttl");
      FAIL("accepted");
    } catch (const herald::Error& e) {
      CHECK(e.kind() == herald::ErrorKind::usage);
      CHECK(std::string(e.what()).find("--ttl") != std::string::npos);
    }
  }
}

TEST_CASE("format_duration prints compact durations") {
  CHECK(format_duration(250ms) == "250ms");
  CHECK(format_duration(45s) == "45s");
  CHECK(format_duration(90s) == "1m30s");
  CHECK(format_duration(2h) == "2h");
  CHECK(format_duration(1500ms) == "1.5s");
}

TEST_SUITE_END();
