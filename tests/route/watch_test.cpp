#include "announce/doubles.hpp"
#include "herald/core/stop.hpp"
#include "herald/registry/memory/memory_registry.hpp"
#include "herald/route/watch.hpp"

#include <atomic>
#include <chrono>
#include <doctest/doctest.h>
#include <mutex>
#include <thread>

using namespace herald;
using namespace herald::route;
using namespace std::chrono_literals;
using registry::memory::MemoryRegistry;

TEST_SUITE_BEGIN("route");

TEST_CASE("watch_routes reports the listing and then each change of routes until stopped") {
  StopToken stop;
  MemoryRegistry reg(&stop);
  reg.put("/services/web/web/web@1", "10.0.0.1:80");
  std::mutex mutex;
  std::vector<std::size_t> sizes;
  std::atomic<int> calls{0};
  WatchOptions options;
  options.max_wait = 200ms;

  std::thread writer([&] {
    auto wait_calls = [&](int n) {
      for (int i = 0; i < 250 && calls.load() < n; ++i) {
        std::this_thread::sleep_for(20ms);
      }
    };
    wait_calls(1);
    reg.put("/services/other/x/x@1", "10.0.0.9:80");   // outside the prefix: no report
    reg.put("/services/web/web/web@1", "10.0.0.1:80"); // same value again: no report
    reg.put("/services/web/web/web@2", "10.0.0.2:80"); // a new route: one report
    wait_calls(2);
    std::this_thread::sleep_for(300ms); // longer than max_wait: an idle wait reports nothing
    stop.request();
  });
  auto started = std::chrono::steady_clock::now();
  watch_routes(
      reg, registry::InstanceQuery{}, stop,
      [&](const Listing& listing) {
        std::lock_guard lock(mutex);
        sizes.push_back(listing.instances.size());
        ++calls;
      },
      options);
  writer.join();
  CHECK(sizes == std::vector<std::size_t>{1, 2});
  CHECK(std::chrono::steady_clock::now() - started < 6s);
}

TEST_CASE("watch_routes rides out a lost registry with one line when lost and one when back") {
  StopToken stop;
  MemoryRegistry memory(&stop);
  memory.put("/services/web/web/web@1", "10.0.0.1:80");
  announce::test::SwitchableRegistry reg(memory);
  reg.down = true;
  announce::test::LogCapture log;
  std::atomic<int> calls{0};
  WatchOptions options;
  options.max_wait = 200ms;
  options.retry = RetryPolicy{5ms, 20ms};

  std::thread switcher([&] {
    for (int i = 0; i < 250 && reg.failures.load() < 5; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    reg.down = false;
    for (int i = 0; i < 250 && calls.load() < 1; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    stop.request();
  });
  watch_routes(
      reg, registry::InstanceQuery{}, stop, [&](const Listing&) { ++calls; }, options);
  switcher.join();
  CHECK(reg.failures.load() >= 5);
  CHECK(calls.load() == 1);
  CHECK(log.count("registry lost: ") == 1);
  CHECK(log.count("registry back after ") == 1);
  CHECK(log.lines().size() == 2);
}

TEST_CASE("watch_routes throws an error that retrying cannot fix") {
  StopToken stop;
  MemoryRegistry memory(&stop);
  announce::test::SwitchableRegistry reg(memory);
  reg.failure_kind = ErrorKind::config;
  reg.down = true;
  CHECK_THROWS_AS(watch_routes(reg, registry::InstanceQuery{}, stop, [](const Listing&) {}), Error);
  CHECK(reg.failures.load() == 1);
}

TEST_SUITE_END();
