#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/registry/backends.hpp"
#include "herald/registry/opener.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <memory>
#include <string>
#include <vector>

using namespace herald;
using namespace herald::registry;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("registry");

TEST_CASE("an Opener binds each connection to the stop token it is given") {
  std::vector<Options> seen;
  Options options;
  options.token = std::string("token");
  options.request_timeout = 5000ms;
  Opener opener(
      [&](const Options& with) {
        seen.push_back(with);
        return make_memory_registry();
      },
      options);
  StopToken first;
  StopToken second;
  opener.open(first);
  opener.open(second);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].stop == &first);
  CHECK(seen[1].stop == &second);
  CHECK(seen[0].token == "token");
  CHECK(seen[0].request_timeout == 5000ms);
}

TEST_CASE("an Opener's connection after the stop is bound to no token and has short timeouts") {
  Options seen;
  Options options;
  options.connect_timeout = 4000ms;
  options.request_timeout = 30000ms;
  StopToken stop;
  options.stop = &stop;
  Opener opener(
      [&](const Options& with) {
        seen = with;
        return make_memory_registry();
      },
      options);
  opener.open_after_stop();
  CHECK(seen.stop == nullptr);
  CHECK(seen.connect_timeout == 1000ms);
  CHECK(seen.request_timeout == 2000ms);

  // Timeouts already shorter stay as they are.
  options.connect_timeout = 300ms;
  options.request_timeout = 500ms;
  Opener quick(
      [&](const Options& with) {
        seen = with;
        return make_memory_registry();
      },
      options);
  quick.open_after_stop();
  CHECK(seen.connect_timeout == 300ms);
  CHECK(seen.request_timeout == 500ms);
}

TEST_CASE("an Opener of a URL opens its backend, and an empty one opens nothing") {
  Opener etcd("etcd2://127.0.0.1:1", Options{}); // no request until used
  StopToken stop;
  CHECK(etcd.open(stop)->backend() == "etcd2");
  Opener none;
  CHECK_FALSE(static_cast<bool>(none));
  CHECK_THROWS_AS(none.open(stop), Error);
}

TEST_SUITE_END();
