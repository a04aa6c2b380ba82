#include "docker/fixtures.hpp"
#include "herald/docker/events.hpp"

#include <doctest/doctest.h>
#include <sstream>

using herald::test::docker_fixture;
using namespace herald::docker;

namespace {

std::vector<Event> fixture_events(const std::string& name) {
  std::vector<Event> out;
  std::istringstream in(docker_fixture(name));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      out.push_back(parse_event(line));
    }
  }
  return out;
}

} // namespace

TEST_SUITE_BEGIN("docker");

TEST_CASE("the event cursor starts with no since and then follows the newest event") {
  EventCursor cursor;
  CHECK_FALSE(cursor.since().has_value());
  auto events = fixture_events("events-filtered.v1.41.ndjson");
  for (const auto& e : events) {
    CHECK(cursor.advance(e));
  }
  REQUIRE(cursor.since().has_value());
  CHECK(*cursor.since() == events.back().time_nano);
}

TEST_CASE("a replay after a reconnect delivers only the events not seen before") {
  // The daemon's since= is inclusive: a resumed stream repeats the last event, and a replay from
  // an older time repeats more.
  auto events = fixture_events("events-since-until.v1.41.ndjson");
  REQUIRE(events.size() == 9);
  EventCursor cursor;
  for (std::size_t i = 0; i < 5; ++i) {
    REQUIRE(cursor.advance(events[i]));
  }
  std::vector<std::string> delivered;
  for (const auto& e : events) { // the whole buffer again, as from an older since
    if (cursor.advance(e)) {
      delivered.push_back(std::to_string(e.time_nano));
    }
  }
  CHECK(delivered == std::vector<std::string>{
                         std::to_string(events[5].time_nano), std::to_string(events[6].time_nano),
                         std::to_string(events[7].time_nano), std::to_string(events[8].time_nano)});
}

TEST_CASE("distinct events in the same nanosecond are both delivered, each once") {
  Event a = parse_event(R"({"Type":"container","Action":"die","Actor":{"ID":"a"},"timeNano":5})");
  Event b = parse_event(R"({"Type":"container","Action":"die","Actor":{"ID":"b"},"timeNano":5})");
  EventCursor cursor;
  CHECK(cursor.advance(a));
  CHECK(cursor.advance(b));
  CHECK_FALSE(cursor.advance(a));
  CHECK_FALSE(cursor.advance(b));
  Event older =
      parse_event(R"({"Type":"container","Action":"start","Actor":{"ID":"c"},"timeNano":4})");
  CHECK_FALSE(cursor.advance(older));
}

TEST_SUITE_END();
