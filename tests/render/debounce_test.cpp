#include "herald/core/error.hpp"
#include "herald/render/debounce.hpp"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using herald::render::Debouncer;
using herald::render::parse_wait;
using herald::render::WaitSpec;

TEST_SUITE_BEGIN("render");

TEST_CASE("--wait reads MIN or MIN:MAX, and MAX defaults to four times MIN") {
  auto spec = parse_wait("2s:10s");
  CHECK(spec.min == 2s);
  CHECK(spec.max == 10s);
  spec = parse_wait("500ms");
  CHECK(spec.min == 500ms);
  CHECK(spec.max == 2s);
  spec = parse_wait("0");
  CHECK(spec.min == 0ms);
  CHECK(spec.max == 0ms);
  CHECK_THROWS_AS(parse_wait("10s:2s"), herald::Error);
  CHECK_THROWS_AS(parse_wait("soon"), herald::Error);
}

TEST_CASE("a burst renders MIN after its last change") {
  Debouncer d(WaitSpec{100ms, 1s});
  Debouncer::Clock::time_point t0{};
  CHECK_FALSE(d.pending());
  d.change(t0);
  CHECK(d.due() == t0 + 100ms);
  d.change(t0 + 60ms);
  CHECK(d.due() == t0 + 160ms);
  CHECK_FALSE(d.ready(t0 + 150ms));
  CHECK(d.ready(t0 + 160ms));
  d.clear();
  CHECK_FALSE(d.pending());
  CHECK_FALSE(d.ready(t0 + 10s));
}

TEST_CASE("a burst that never settles renders MAX after its first change") {
  Debouncer d(WaitSpec{100ms, 300ms});
  Debouncer::Clock::time_point t0{};
  for (int i = 0; i < 10; ++i) {
    d.change(t0 + i * 50ms); // a change every 50 ms: never quiet for 100 ms
  }
  CHECK(d.due() == t0 + 300ms);
  CHECK(d.ready(t0 + 300ms));
  d.clear();
  d.change(t0 + 500ms); // the next burst starts its own MAX window
  CHECK(d.due() == t0 + 600ms);
}

TEST_CASE("with no wait a change is due at once") {
  Debouncer d(WaitSpec{});
  Debouncer::Clock::time_point t0{};
  d.change(t0 + 5ms);
  CHECK(d.ready(t0 + 5ms));
}

TEST_SUITE_END();
