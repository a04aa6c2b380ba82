#include "herald/core/error.hpp"
#include "herald/launch/flights.hpp"
#include "herald/launch/metrics.hpp"
#include "support/log_capture.hpp"

#include <atomic>
#include <doctest/doctest.h>
#include <mutex>
#include <regex>
#include <thread>
#include <vector>

using namespace herald;
using namespace herald::launch;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("launch");

namespace {

/// A gate the StartFn waits at until the test opens it (or the flights stop).
struct Gate {
  std::atomic<bool> open{false};
  void wait(const StopToken& stop) {
    for (int i = 0; i < 1000 && !open.load() && !stop.requested(); ++i) {
      stop.wait_for(5ms);
    }
  }
};

} // namespace

TEST_CASE("launch flights start an app once however many ask") {
  Gate gate;
  std::atomic<int> calls{0};
  Flights flights(
      [&](const std::string& app, const StopToken& stop) {
        ++calls;
        gate.wait(stop);
        return app + ".internal:8080";
      },
      FlightOptions{});
  std::atomic<int> began_count{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&] {
      bool began = false;
      auto status = flights.begin("web", began);
      CHECK(status.state == Status::State::starting);
      if (began) {
        ++began_count;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  CHECK(began_count == 1);
  CHECK(flights.count() == 1);
  CHECK(flights.wait("web", 20ms).state == Status::State::starting);
  gate.open = true;
  auto ready = flights.wait("web", 5s);
  CHECK(ready.state == Status::State::ready);
  CHECK(ready.address == "web.internal:8080");
  bool began = true;
  CHECK(flights.begin("web", began).state == Status::State::ready);
  CHECK_FALSE(began);
  CHECK(calls == 1);
  CHECK(flights.count() == 1);
  CHECK_FALSE(flights.status("other").has_value());
  CHECK_THROWS_AS(flights.wait("other", 1ms), Error);
}

TEST_CASE("launch flights back off after a failure and double the wait") {
  test::LogCapture log;
  std::atomic<int> calls{0};
  FlightOptions options;
  options.backoff = 150ms;
  options.max_backoff = 10s;
  Flights flights(
      [&](const std::string&, const StopToken&) -> std::string {
        ++calls;
        throw Error(ErrorKind::unavailable, "docker: cannot connect\n[forged] line");
      },
      options);
  bool began = false;
  flights.begin("web", began);
  CHECK(began);
  auto failed = flights.wait("web", 5s);
  REQUIRE(failed.state == Status::State::failed);
  CHECK(std::regex_match(failed.reference, std::regex("L-[0-9a-f]{8}")));
  CHECK(failed.error.find("cannot connect") != std::string::npos);
  CHECK(failed.retry_at - failed.since == 150ms);
  CHECK(flights.count() == 0); // a failed app does not count against the cap

  // Within the backoff: the same failure, no new start.
  auto again = flights.begin("web", began);
  CHECK_FALSE(began);
  CHECK(again.reference == failed.reference);
  CHECK(calls == 1);

  // One log line names the reference, the app and the escaped error.
  CHECK(log.count(failed.reference) == 1);
  CHECK(log.count("[forged] line") == 1);
  for (const auto& line : log.lines()) {
    CHECK(line.find('\n') == std::string::npos);
  }

  // After it: started again; the next backoff is twice as long.
  std::this_thread::sleep_until(failed.retry_at + 5ms);
  flights.begin("web", began);
  CHECK(began);
  auto second = flights.wait("web", 5s);
  REQUIRE(second.state == Status::State::failed);
  CHECK(second.retry_at - second.since == 300ms);
  CHECK(second.reference != failed.reference);
  CHECK(calls == 2);
}

TEST_CASE("launch flights run at most max_concurrent starts at once") {
  Gate gate;
  std::atomic<int> calls{0};
  FlightOptions options;
  options.max_concurrent = 1;
  Flights flights(
      [&](const std::string& app, const StopToken& stop) {
        ++calls;
        gate.wait(stop);
        return app + ":1";
      },
      options);
  bool began = false;
  flights.begin("a", began);
  flights.begin("b", began);
  CHECK(flights.wait("b", 50ms).state == Status::State::starting);
  CHECK(calls == 1);
  gate.open = true;
  CHECK(flights.wait("a", 5s).state == Status::State::ready);
  CHECK(flights.wait("b", 5s).state == Status::State::ready);
  CHECK(calls == 2);
  CHECK(flights.count() == 2);
  flights.forget("a");
  CHECK(flights.count() == 1);
  CHECK_FALSE(flights.status("a").has_value());
}

TEST_CASE("launch flights count launches and cancel starts when stopped") {
  Metrics metrics;
  std::atomic<bool> saw_stop{false};
  std::atomic<bool> entered{false};
  auto flights = std::make_unique<Flights>(
      [&](const std::string&, const StopToken& stop) -> std::string {
        entered = true;
        stop.wait_for(10s);
        saw_stop = stop.requested();
        throw Error(ErrorKind::cancelled, "stopped");
      },
      FlightOptions{});
  flights->set_metrics(&metrics);
  bool began = false;
  flights->begin("web", began);
  CHECK(metrics.text().find("herald_launch_starts_in_flight 1") != std::string::npos);
  for (int i = 0; i < 500 && !entered; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  auto started = std::chrono::steady_clock::now();
  flights.reset();
  CHECK(std::chrono::steady_clock::now() - started < 3s);
  CHECK(saw_stop);
  CHECK(metrics.text().find("herald_launch_starts_in_flight 0") != std::string::npos);
  CHECK(metrics.text().find("herald_launch_launches_total{result=\"failed\"} 1") !=
        std::string::npos);
}

TEST_SUITE_END();
