#include "herald/core/retry.hpp"
#include "support/log_capture.hpp"

#include <doctest/doctest.h>
#include <random>
#include <string>
#include <vector>

using namespace herald;
using namespace std::chrono_literals;
using herald::test::LogCapture;

namespace {

/// A seeded source of fractions, so that a failing case can be replayed.
RandomFraction seeded(std::uint32_t seed) {
  return [engine = std::minstd_rand(seed)]() mutable {
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
  };
}

RandomFraction always(double fraction) {
  return [fraction] { return fraction; };
}

RetryPolicy policy(std::chrono::milliseconds initial, std::chrono::milliseconds cap) {
  RetryPolicy p;
  p.initial = initial;
  p.cap = cap;
  return p;
}

/// A steady clock the test moves by hand.
struct ManualClock {
  std::chrono::steady_clock::time_point now{};
  SteadyNow source() {
    return [this] { return now; };
  }
};

/// A policy fast enough for tests that really sleep.
RetryPolicy quick() {
  return policy(1ms, 2ms);
}

} // namespace

TEST_SUITE_BEGIN("core");

// --- Backoff ----------------------------------------------------------------------------------

TEST_CASE("backoff doubles up to its cap with every delay jittered within [d/2, d]") {
  for (std::uint32_t seed : {1u, 2u, 42u, 1234567u}) {
    CAPTURE(seed);
    Backoff backoff(policy(500ms, 3s), seeded(seed));
    std::chrono::milliseconds ceiling = 500ms;
    for (int i = 0; i < 8; ++i) {
      auto d = backoff.next();
      CHECK(d >= ceiling / 2);
      CHECK(d <= ceiling);
      ceiling = std::min<std::chrono::milliseconds>(ceiling * 2, 3s);
    }
  }
}

TEST_CASE("backoff starts again from the first delay after reset") {
  Backoff backoff(policy(500ms, 3s), always(1.0));
  for (int i = 0; i < 5; ++i) {
    backoff.next();
  }
  CHECK(backoff.next() == 3s);
  backoff.reset();
  CHECK(backoff.next() == 500ms);
  CHECK(backoff.next() == 1s);
}

TEST_CASE("backoff delays differ between two retriers so they do not retry in lockstep") {
  Backoff a(policy(10s, 10s));
  Backoff b(policy(10s, 10s));
  int same = 0;
  for (int i = 0; i < 10; ++i) {
    same += a.next() == b.next() ? 1 : 0;
  }
  CHECK(same < 3);
}

TEST_CASE("backoff: a cap below the first delay wins") {
  Backoff backoff(policy(5s, 200ms), seeded(7));
  for (int i = 0; i < 5; ++i) {
    auto d = backoff.next();
    CHECK(d >= 100ms);
    CHECK(d <= 200ms);
  }
}

TEST_CASE("backoff: the random fraction places a delay between d * (1 - jitter) and d") {
  RetryPolicy p = policy(1s, 10s);
  p.jitter = 0.25;
  CHECK(Backoff(p, always(0.0)).next() == 750ms);
  CHECK(Backoff(p, always(1.0)).next() == 1s);
  CHECK(Backoff(p, always(0.5)).next() == 875ms);
}

TEST_CASE("backoff without jitter grows by its multiplier exactly") {
  RetryPolicy p = policy(100ms, 1s);
  p.multiplier = 3.0;
  p.jitter = 0.0;
  Backoff backoff(p, always(0.3));
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 5; ++i) {
    delays.push_back(backoff.next());
  }
  CHECK(delays == std::vector<std::chrono::milliseconds>{100ms, 300ms, 900ms, 1s, 1s});
}

TEST_CASE("backoff normalises a zero or inverted policy rather than spinning or shrinking") {
  RetryPolicy p = policy(0ms, -5ms);
  p.multiplier = 0.5;
  p.jitter = 7.0;
  Backoff backoff(p, always(0.0));
  CHECK(backoff.policy().initial == 1ms);
  CHECK(backoff.policy().cap == 1ms);
  CHECK(backoff.policy().multiplier == 1.0);
  CHECK(backoff.policy().jitter == 1.0);
  for (int i = 0; i < 3; ++i) {
    CHECK(backoff.next() >= 1ms);
  }
}

TEST_CASE("capped_at lowers the cap and never raises it") {
  RetryPolicy p = policy(500ms, 10s);
  CHECK(p.capped_at(2s).cap == 2s);
  CHECK(p.capped_at(1min).cap == 10s);
  CHECK(p.capped_at(2s).initial == 500ms);
}

TEST_CASE("backoff wait returns at once when a stop is requested") {
  StopToken stop;
  stop.request();
  Backoff backoff(policy(1h, 1h));
  auto started = std::chrono::steady_clock::now();
  CHECK(backoff.wait(stop));
  CHECK(std::chrono::steady_clock::now() - started < 5s);
}

TEST_CASE("backoff wait sleeps the delay when nobody asks to stop") {
  StopToken stop;
  Backoff backoff(policy(20ms, 20ms), always(1.0));
  auto started = std::chrono::steady_clock::now();
  CHECK_FALSE(backoff.wait(stop));
  CHECK(std::chrono::steady_clock::now() - started >= 20ms);
}

// --- OutageLog --------------------------------------------------------------------------------

TEST_CASE("an outage logs one line when lost and one when back, nothing in between") {
  LogCapture log;
  ManualClock clock;
  OutageLog outage("registry", "retrying", clock.source());
  for (int i = 0; i < 5; ++i) {
    outage.failed("etcd at 127.0.0.1:2379: connection refused");
    clock.now += 2s;
  }
  CHECK(outage.recovered() == std::optional<std::chrono::milliseconds>(10s));
  CHECK(log.lines() == std::vector<std::string>{
                           "warning: registry lost: etcd at 127.0.0.1:2379: connection refused; "
                           "retrying",
                           "info: registry back after 10s"});
}

TEST_CASE("the attempts during an outage log at debug level only") {
  LogCapture log(spdlog::level::debug);
  OutageLog outage("docker events", "reconnecting");
  outage.failed("refused");
  outage.failed("timed out");
  CHECK(log.lines() ==
        std::vector<std::string>{"warning: docker events lost: refused; reconnecting",
                                 "debug: docker events still lost (attempt 2): timed out"});
}

TEST_CASE("failed is true only for the first failure, a later outage is logged again") {
  LogCapture log;
  OutageLog outage("registry");
  CHECK(outage.failed("a"));
  CHECK_FALSE(outage.failed("b"));
  CHECK(outage.failures() == 2);
  CHECK(outage.down());
  CHECK(outage.recovered().has_value());
  CHECK_FALSE(outage.down());
  CHECK(outage.failures() == 0);
  CHECK(outage.failed("c"));
  CHECK(log.count("registry lost: a") == 1);
  CHECK(log.count("registry lost: c") == 1);
  CHECK(log.count("lost:") == 2);
}

TEST_CASE("a success without an outage logs nothing") {
  LogCapture log(spdlog::level::trace);
  OutageLog outage("registry");
  CHECK_FALSE(outage.recovered().has_value());
  CHECK_FALSE(outage.recovered().has_value());
  CHECK(log.lines().empty());
}

TEST_CASE("the outage's duration reads as a person says it") {
  struct Case {
    std::chrono::milliseconds length;
    const char* shown;
  };
  for (auto c : {Case{350ms, "350ms"}, Case{2430ms, "2.4s"}, Case{2960ms, "3s"},
                 Case{12400ms, "12s"}, Case{200s, "3m20s"}, Case{3h + 2s, "3h2s"}}) {
    CAPTURE(c.shown);
    LogCapture log;
    ManualClock clock;
    OutageLog outage("registry", "retrying", clock.source());
    outage.failed("x");
    clock.now += c.length;
    outage.recovered();
    CHECK(log.lines().back() == std::string("info: registry back after ") + c.shown);
  }
}

TEST_CASE("error text from a server is escaped so it cannot forge a log line") {
  LogCapture log(spdlog::level::debug);
  OutageLog outage("registry", "retrying");
  outage.failed("HTTP 503: down\n<3>forged\x1b[31m\ttab\r");
  outage.failed("again\n");
  CHECK(log.lines() == std::vector<std::string>{
                           "warning: registry lost: HTTP 503: down\\n<3>forged\\x1b[31m\\ttab\\r; "
                           "retrying",
                           "debug: registry still lost (attempt 2): again\\n"});
}

// --- Retry ------------------------------------------------------------------------------------

TEST_CASE("call retries a retryable error until the attempt works and logs the outage once") {
  LogCapture log;
  StopToken stop;
  Retry retry(quick(), OutageLog("fleet API"));
  int attempts = 0;
  int result = retry.call(stop, [&] {
    if (++attempts < 4) {
      throw Error(attempts % 2 == 0 ? ErrorKind::temporary : ErrorKind::unavailable, "refused");
    }
    return 42;
  });
  CHECK(result == 42);
  CHECK(attempts == 4);
  CHECK_FALSE(retry.down());
  REQUIRE(log.lines().size() == 2);
  CHECK(log.lines()[0] == "warning: fleet API lost: refused; retrying");
  CHECK(log.lines()[1].starts_with("info: fleet API back after "));
}

TEST_CASE("call of an attempt that works at once logs nothing") {
  LogCapture log(spdlog::level::trace);
  StopToken stop;
  Retry retry(quick(), OutageLog("fleet API"));
  int calls = 0;
  retry.call(stop, [&] { ++calls; });
  CHECK(calls == 1);
  CHECK(log.lines().empty());
}

TEST_CASE("call throws what retrying cannot fix at once, keeping its type") {
  struct Refused : Error {
    Refused() : Error(ErrorKind::config, "bad token") {}
  };
  LogCapture log;
  StopToken stop;
  Retry retry(quick(), OutageLog("fleet API"));
  int attempts = 0;
  CHECK_THROWS_AS(retry.call(stop,
                             [&] {
                               ++attempts;
                               throw Refused();
                             }),
                  Refused);
  CHECK(attempts == 1);
  CHECK(log.lines().empty());
}

TEST_CASE("call gives up after max_attempts with the last error") {
  LogCapture log;
  StopToken stop;
  RetryPolicy p = quick();
  p.max_attempts = 3;
  Retry retry(p, OutageLog("fleet API"));
  int attempts = 0;
  try {
    retry.call(stop, [&]() -> int {
      ++attempts;
      throw Error(ErrorKind::unavailable, "refused " + std::to_string(attempts));
    });
    FAIL("call returned");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::unavailable);
    CHECK(std::string(e.what()) == "refused 3");
  }
  CHECK(attempts == 3);
  CHECK(log.count("fleet API lost: refused 1") == 1);
  CHECK(log.lines().size() == 1);
}

TEST_CASE("call throws cancelled when a stop is requested during an outage") {
  LogCapture log;
  StopToken stop;
  Retry retry(quick(), OutageLog("fleet API"));
  int attempts = 0;
  try {
    retry.call(stop, [&] {
      if (++attempts == 2) {
        stop.request();
      }
      throw Error(ErrorKind::unavailable, "refused");
    });
    FAIL("call returned");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::cancelled);
    CHECK(std::string(e.what()) == "stopped while retrying: refused");
  }
  CHECK(attempts == 2);
}

TEST_CASE("wait_to_retry says stop for a cancelled request or a requested stop") {
  LogCapture log;
  Retry retry(quick(), OutageLog("registry"));
  StopToken running;
  CHECK_FALSE(retry.wait_to_retry(Error(ErrorKind::cancelled, "stopped"), running));
  StopToken stopped;
  stopped.request();
  CHECK_FALSE(retry.wait_to_retry(Error(ErrorKind::unavailable, "refused"), stopped));
  CHECK_FALSE(retry.wait_to_retry("closed the stream", stopped));
  CHECK(log.lines().empty());
}

TEST_CASE("wait_to_retry rethrows a non-retryable error from its catch block") {
  Retry retry(quick(), OutageLog("registry"));
  StopToken stop;
  int caught = 0;
  try {
    try {
      throw Error(ErrorKind::data, "bad value");
    } catch (const Error& e) {
      retry.wait_to_retry(e, stop);
      FAIL("wait_to_retry returned");
    }
  } catch (const Error& e) {
    ++caught;
    CHECK(e.kind() == ErrorKind::data);
  }
  CHECK(caught == 1);
}

TEST_CASE("wait_to_retry with a reason treats a closed stream as the start of an outage") {
  LogCapture log;
  StopToken stop;
  Retry retry(quick(), OutageLog("docker events", "reconnecting"));
  CHECK(retry.wait_to_retry("the daemon closed the stream", stop));
  CHECK(retry.down());
  CHECK(retry.wait_to_retry(Error(ErrorKind::unavailable, "refused"), stop));
  retry.succeeded();
  CHECK_FALSE(retry.down());
  REQUIRE(log.lines().size() == 2);
  CHECK(log.lines()[0] ==
        "warning: docker events lost: the daemon closed the stream; reconnecting");
  CHECK(log.lines()[1].starts_with("info: docker events back after "));
}

TEST_SUITE_END();
