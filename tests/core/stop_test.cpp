#include "herald/core/stop.hpp"

#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <thread>

using namespace std::chrono_literals;

TEST_SUITE_BEGIN("core");

TEST_CASE("StopToken wait_for times out when nobody asks to stop") {
  herald::StopToken token;
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(token.wait_for(30ms));
  CHECK(std::chrono::steady_clock::now() - start >= 30ms);
  CHECK_FALSE(token.requested());
}

TEST_CASE("StopToken wakes a waiter as soon as a stop is requested") {
  herald::StopToken token;
  std::thread other([&] {
    std::this_thread::sleep_for(20ms);
    token.request();
  });
  auto start = std::chrono::steady_clock::now();
  CHECK(token.wait_for(10s));
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  other.join();
}

TEST_CASE("SIGTERM requests a stop through install_stop_signals") {
  herald::StopToken token;
  herald::install_stop_signals(token);
  std::raise(SIGTERM);
  CHECK(token.requested());
  CHECK(token.signal() == SIGTERM);
}

TEST_CASE("SIGHUP requests a stop like SIGTERM: a hung-up session ends long-running commands") {
  herald::StopToken token;
  herald::install_stop_signals(token);
  std::raise(SIGHUP);
  CHECK(token.requested());
  CHECK(token.signal() == SIGHUP);
}

TEST_SUITE_END();
