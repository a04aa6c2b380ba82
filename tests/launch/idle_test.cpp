#include "herald/launch/idle.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <cstdio>
#include <doctest/doctest.h>
#include <fstream>
#include <string>
#include <vector>

using namespace herald::launch;
using namespace std::chrono_literals;
using herald::test::TempDir;

namespace {

void append(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::app);
  out << text;
}

} // namespace

TEST_SUITE_BEGIN("launch");

TEST_CASE("launch idle: an access log line names its app by path or by host, and nothing else") {
  CHECK(app_of_log_line("1733600000.123 localhost /web/x?y=1", RoutingMode::path, "") == "web");
  CHECK(app_of_log_line("1733600000.123 web.example.com /x", RoutingMode::host, "example.com") ==
        "web");
  CHECK_FALSE(app_of_log_line("1733600000.123 localhost /", RoutingMode::path, ""));
  CHECK_FALSE(app_of_log_line("1733600000.123 localhost /Web/", RoutingMode::path, ""));
  CHECK_FALSE(app_of_log_line("1733600000.123 localhost /%2e%2e/", RoutingMode::path, ""));
  CHECK_FALSE(app_of_log_line("garbage", RoutingMode::path, ""));
  CHECK_FALSE(app_of_log_line("1 other.org /x", RoutingMode::host, "example.com"));
  CHECK_FALSE(app_of_log_line("1 a.b.example.com /x", RoutingMode::host, "example.com"));
}

TEST_CASE("launch idle: the access log is read from its end, then line by line, across a "
          "rotation and a truncation") {
  TempDir dir;
  std::string path = dir.file("access.log");
  AccessLog log(path, RoutingMode::path, "");
  CHECK(log.read_new().empty()); // no file yet
  append(path, "1 h /created/\n");
  CHECK(log.read_new() == std::vector<std::string>{"created"}); // created later: from its start

  AccessLog late(path, RoutingMode::path, "");
  CHECK(late.read_new().empty()); // an existing file: from its end
  append(path, "1 h /a/\n1 h /b/x\n1 h /a/y\n1 h /b");
  CHECK(late.read_new() == std::vector<std::string>{"a", "b"});
  append(path, "x/\n"); // the end of a line written in two parts: /bx/
  CHECK(late.read_new() == std::vector<std::string>{"bx"});

  // Rotated: renamed away, a new file in its place.
  std::rename(path.c_str(), dir.file("access.log.1").c_str());
  append(path, "1 h /c/\n");
  CHECK(late.read_new() == std::vector<std::string>{"c"});
  // Truncated in place (copytruncate), seen once the file is shorter than what was read.
  { std::ofstream truncate(path, std::ios::trunc); }
  append(path, "1 h /d\n");
  CHECK(late.read_new() == std::vector<std::string>{"d"});
  // An overlong line is dropped, the next one is read.
  append(path, "1 h /" + std::string(20000, 'e') + "/\n1 h /f/\n");
  CHECK(late.read_new() == std::vector<std::string>{"f"});
}

TEST_CASE("launch idle: an app is idle after the idle time without a request, counted from "
          "when it is first seen running") {
  IdleTracker tracker(10s);
  auto t0 = std::chrono::steady_clock::now();
  CHECK(tracker.idle({"a", "b"}, t0).empty()); // first seen: counts from now
  tracker.seen("a", t0 + 8s);
  CHECK(tracker.idle({"a", "b"}, t0 + 9s).empty());
  CHECK(tracker.idle({"a", "b"}, t0 + 10s) == std::vector<std::string>{"b"});
  tracker.forget("b");
  CHECK(tracker.idle({"a", "b"}, t0 + 12s).empty()); // b seen again as new
  CHECK(tracker.idle({"a", "b"}, t0 + 18s) == std::vector<std::string>{"a"});
  // Not running any more: forgotten, a new run counts from its start.
  CHECK(tracker.idle({"b"}, t0 + 19s).empty());
  CHECK(tracker.idle({"a", "b"}, t0 + 22s) == std::vector<std::string>{"b"});
}
