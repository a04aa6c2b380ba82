#include "herald/core/error.hpp"
#include "herald/launch/policy.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <sys/stat.h>

using namespace herald;
using namespace herald::launch;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("launch");

namespace {

/// A clock the test moves.
struct FakeClock {
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();
  SteadyNow fn() {
    return [this] { return now; };
  }
};

int count_lines(const std::string& path) {
  std::ifstream in(path);
  int n = 0;
  std::string line;
  while (std::getline(in, line)) {
    ++n;
  }
  return n;
}

} // namespace

TEST_CASE("launch app names are strict lower-case DNS labels") {
  CHECK(valid_app_name("web"));
  CHECK(valid_app_name("a"));
  CHECK(valid_app_name("web-2"));
  CHECK(valid_app_name("0"));
  CHECK(valid_app_name(std::string(63, 'a')));
  CHECK_FALSE(valid_app_name(std::string(64, 'a')));
  CHECK_FALSE(valid_app_name(""));
  CHECK_FALSE(valid_app_name("-web"));
  CHECK_FALSE(valid_app_name("web-"));
  CHECK_FALSE(valid_app_name("Web"));
  CHECK_FALSE(valid_app_name("we_b"));
  CHECK_FALSE(valid_app_name("web.x"));
  CHECK_FALSE(valid_app_name(".."));
  CHECK_FALSE(valid_app_name("%2e%2e"));
  CHECK_FALSE(valid_app_name(std::string("we\0b", 4)));
  CHECK_FALSE(valid_app_name("w\xd0\xb5"
                             "b")); // Cyrillic 'е'
}

TEST_CASE("launch app names come raw from the first path segment") {
  CHECK(app_from_path("/web/x?y") == "web");
  CHECK(app_from_path("/web") == "web");
  CHECK(app_from_path("/web?x=1") == "web");
  CHECK(app_from_path("/web#frag") == "web");
  CHECK(app_from_path("/D/x") == "D"); // raw: valid_app_name refuses it later
  CHECK(app_from_path("/%77eb/") == "%77eb");
  CHECK(app_from_path("/../etc") == "..");
  CHECK_FALSE(app_from_path("/").has_value());
  CHECK_FALSE(app_from_path("//web").has_value());
  CHECK_FALSE(app_from_path("").has_value());
  CHECK_FALSE(app_from_path("web/").has_value());
  CHECK_FALSE(app_from_path("http://example.com/web").has_value());
  CHECK_FALSE(app_from_path("/?x").has_value());
}

TEST_CASE("launch app names come from exactly one label of the Host before the domain") {
  CHECK(app_from_host("web.example.com", "example.com") == "web");
  CHECK(app_from_host("web.example.com:8080", "example.com") == "web");
  CHECK(app_from_host("WEB.Example.COM", "example.com") == "web");
  CHECK(app_from_host("web.example.com.", "example.com") == "web");
  CHECK(app_from_host("web.example.com", ".example.com.") == "web");
  CHECK_FALSE(app_from_host("example.com", "example.com").has_value());
  CHECK_FALSE(app_from_host(".example.com", "example.com").has_value());
  CHECK_FALSE(app_from_host("a.web.example.com", "example.com").has_value());
  CHECK_FALSE(app_from_host("webexample.com", "example.com").has_value());
  CHECK_FALSE(app_from_host("web.example.org", "example.com").has_value());
  CHECK_FALSE(app_from_host("web.example.com.evil.net", "example.com").has_value());
  CHECK_FALSE(app_from_host("web.example.com:", "example.com").has_value());
  CHECK_FALSE(app_from_host("web.example.com:80x", "example.com").has_value());
  CHECK_FALSE(app_from_host("[::1]:80", "example.com").has_value());
  CHECK_FALSE(app_from_host("", "example.com").has_value());
  CHECK_FALSE(app_from_host("web.example.com", "").has_value());
}

TEST_CASE("launch policy denies by default and deny wins over allow") {
  SUBCASE("an empty allow-list allows nothing") {
    Policy policy(PolicyOptions{});
    auto d = policy.check("web");
    CHECK_FALSE(d.allowed);
    CHECK(d.reason == Reason::not_allowed);
  }
  SUBCASE("exact names, globs and regexes") {
    PolicyOptions options;
    options.allow = {"web", "api-*", "/app[0-9]+/", "x?z", "[ab]c"};
    options.deny = {"api-internal", "/.*-admin/"};
    Policy policy(options);
    CHECK(policy.check("web").allowed);
    CHECK(policy.check("api-v1").allowed);
    CHECK(policy.check("app42").allowed);
    CHECK(policy.check("xyz").allowed);
    CHECK(policy.check("bc").allowed);
    CHECK_FALSE(policy.check("web2").allowed);   // exact
    CHECK_FALSE(policy.check("app42x").allowed); // the regex matches the whole name only
    CHECK_FALSE(policy.check("xapp42").allowed);
    CHECK(policy.check("api-internal").reason == Reason::denied);
    CHECK(policy.check("api-admin").reason == Reason::denied);
    CHECK(policy.check("Web").reason == Reason::bad_name);
    CHECK(policy.check("..").reason == Reason::bad_name);
    CHECK(policy.check("cc").reason == Reason::not_allowed);
  }
  SUBCASE("a glob or regex never lets an invalid name through") {
    PolicyOptions options;
    options.allow = {"*", "/.*/"};
    Policy policy(options);
    CHECK(policy.check("anything-valid").allowed);
    CHECK(policy.check("a.b").reason == Reason::bad_name);
    CHECK(policy.check("a/b").reason == Reason::bad_name);
    CHECK(policy.check("").reason == Reason::bad_name);
  }
  SUBCASE("an invalid regex is a config error naming it") {
    PolicyOptions options;
    options.allow = {"/a(/"};
    try {
      Policy policy(options);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::config);
      CHECK(std::string(e.what()).find("/a(/") != std::string::npos);
    }
  }
}

TEST_CASE("launch policy command decides, times out, and is cached") {
  test::TempDir dir;
  auto log = dir.file("calls");
  auto script = dir.write("policy.sh", "#!/bin/sh\n"
                                       "echo \"$1\" >> '" +
                                           log +
                                           "'\n"
                                           "case \"$1\" in\n"
                                           "  ok*) exit 0 ;;\n"
                                           "  slow*) sleep 5; exit 0 ;;\n"
                                           "  *) echo refused; exit 3 ;;\n"
                                           "esac\n");
  ::chmod(script.c_str(), 0755);
  FakeClock clock;
  PolicyOptions options;
  options.allow = {"*"};
  options.deny = {"denied"};
  options.policy_cmd = {script};
  options.policy_timeout = 300ms;
  Policy policy(options, clock.fn());

  auto ok = policy.check("ok-a");
  CHECK(ok.allowed);
  auto no = policy.check("nope");
  CHECK_FALSE(no.allowed);
  CHECK(no.reason == Reason::policy_cmd);
  CHECK(no.detail.find("exit 3") != std::string::npos);
  CHECK(count_lines(log) == 2);

  // Cached: a flood of requests for one name forks one process.
  for (int i = 0; i < 20; ++i) {
    CHECK(policy.check("ok-a").allowed);
    CHECK_FALSE(policy.check("nope").allowed);
  }
  CHECK(count_lines(log) == 2);

  // Deny and bad names never reach the command.
  CHECK(policy.check("denied").reason == Reason::denied);
  CHECK(policy.check("Bad").reason == Reason::bad_name);
  CHECK(count_lines(log) == 2);

  // After the cache time it asks again.
  clock.now += 31s;
  CHECK(policy.check("ok-a").allowed);
  CHECK(count_lines(log) == 3);

  // Killed after the timeout, which refuses.
  auto started = std::chrono::steady_clock::now();
  auto slow = policy.check("slow");
  CHECK_FALSE(slow.allowed);
  CHECK(slow.reason == Reason::policy_cmd);
  CHECK(std::chrono::steady_clock::now() - started < 3s);
}

TEST_CASE("launch policy command that cannot run refuses") {
  PolicyOptions options;
  options.allow = {"*"};
  options.policy_cmd = {"/nonexistent/herald-policy"};
  Policy policy(options);
  auto d = policy.check("web");
  CHECK_FALSE(d.allowed);
  CHECK(d.reason == Reason::policy_cmd);
}

TEST_CASE("launch token bucket allows a burst, then the rate") {
  auto t0 = std::chrono::steady_clock::now();
  TokenBucket bucket(Rate{2, 3}, t0);
  CHECK(bucket.try_take(t0));
  CHECK(bucket.try_take(t0));
  CHECK(bucket.try_take(t0));
  CHECK_FALSE(bucket.try_take(t0));
  CHECK(bucket.wait_time(t0) == 500ms);
  CHECK_FALSE(bucket.try_take(t0 + 400ms));
  CHECK(bucket.try_take(t0 + 500ms));
  CHECK_FALSE(bucket.full(t0 + 500ms));
  CHECK(bucket.full(t0 + 10s));
  // Never more than the burst, however long it rested.
  CHECK(bucket.try_take(t0 + 10s));
  CHECK(bucket.try_take(t0 + 10s));
  CHECK(bucket.try_take(t0 + 10s));
  CHECK_FALSE(bucket.try_take(t0 + 10s));

  TokenBucket unlimited(Rate{0, 0}, t0);
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(unlimited.try_take(t0));
  }
}

TEST_CASE("launch policy admit applies the cap, the client rate and the overall rate") {
  FakeClock clock;
  PolicyOptions options;
  options.max_apps = 3;
  options.client_rate = {1, 2};
  options.overall_rate = {1, 3};
  Policy policy(options, clock.fn());

  auto cap = policy.admit("10.0.0.1", 3);
  CHECK(cap.reason == Reason::cap);
  CHECK(cap.retry_after.count() > 0);

  CHECK(policy.admit("10.0.0.1", 0).allowed);
  CHECK(policy.admit("10.0.0.1", 0).allowed);
  auto client = policy.admit("10.0.0.1", 0);
  CHECK(client.reason == Reason::client_rate);
  CHECK(client.retry_after == 1s);
  // Another client still has its burst; the overall bucket holds one more.
  CHECK(policy.admit("10.0.0.2", 0).allowed);
  auto overall = policy.admit("10.0.0.3", 0);
  CHECK(overall.reason == Reason::overall_rate);
  // A refusal by the overall bucket did not take the client's token.
  clock.now += 1s;
  CHECK(policy.admit("10.0.0.3", 0).allowed);

  SUBCASE("no cap and no rates") {
    PolicyOptions open;
    open.max_apps = 0;
    open.client_rate = {};
    open.overall_rate = {};
    Policy unlimited(open, clock.fn());
    for (int i = 0; i < 100; ++i) {
      REQUIRE(unlimited.admit("10.0.0.1", 1000).allowed);
    }
  }
}

TEST_CASE("launch policy keeps its per-client table bounded") {
  FakeClock clock;
  PolicyOptions options;
  options.max_apps = 0;
  options.client_rate = {0.001, 1};
  options.overall_rate = {};
  Policy policy(options, clock.fn());
  for (std::size_t i = 0; i < k_max_tracked_clients + 100; ++i) {
    REQUIRE(policy.admit("client-" + std::to_string(i), 0).allowed);
  }
  // Still answers (the table was cleared when full of busy buckets).
  CHECK(policy.admit("another", 0).allowed);
}

TEST_CASE("launch reasons have their metric label names") {
  CHECK(to_string(Reason::bad_name) == "bad_name");
  CHECK(to_string(Reason::not_allowed) == "not_allowed");
  CHECK(to_string(Reason::denied) == "denied");
  CHECK(to_string(Reason::policy_cmd) == "policy_cmd");
  CHECK(to_string(Reason::cap) == "cap");
  CHECK(to_string(Reason::client_rate) == "client_rate");
  CHECK(to_string(Reason::overall_rate) == "overall_rate");
}

TEST_SUITE_END();
