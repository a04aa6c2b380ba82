#include "herald/announce/backoff.hpp"

#include <doctest/doctest.h>

using namespace herald::announce;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("announce");

TEST_CASE("backoff doubles up to its cap with every delay jittered within [d/2, d]") {
  for (std::uint32_t seed : {1u, 2u, 42u, 1234567u}) {
    CAPTURE(seed);
    Backoff backoff(500ms, 3s, seed);
    std::chrono::milliseconds ceiling = 500ms;
    for (int i = 0; i < 8; ++i) {
      auto d = backoff.next();
      CHECK(d >= ceiling / 2);
      CHECK(d <= ceiling);
      ceiling = std::min<std::chrono::milliseconds>(ceiling * 2, 3s);
    }
    backoff.reset();
    auto first = backoff.next();
    CHECK(first >= 250ms);
    CHECK(first <= 500ms);
  }
}

TEST_CASE("backoff delays differ between sidekicks so they do not retry in lockstep") {
  Backoff a(10s, 10s, 1);
  Backoff b(10s, 10s, 2);
  int same = 0;
  for (int i = 0; i < 10; ++i) {
    same += a.next() == b.next() ? 1 : 0;
  }
  CHECK(same < 3);
}

TEST_CASE("a cap below the first step wins") {
  Backoff backoff(5s, 200ms, 7);
  for (int i = 0; i < 5; ++i) {
    auto d = backoff.next();
    CHECK(d >= 100ms);
    CHECK(d <= 200ms);
  }
}

TEST_SUITE_END();
