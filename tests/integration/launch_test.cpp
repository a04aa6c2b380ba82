#include "integration/launch_world.hpp"
#include "support/dockerd.hpp"
#include "support/etcd_server.hpp"
#include "support/nginx.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace herald::test;
using namespace std::chrono_literals;

// `herald launch` and `herald launch serve` end to end: a real etcd, herald's registrator on the
// shared Docker engine, nginx kept in step by `herald render --watch` from the bundled
// nginx-path.tmpl, and the launcher announced where that template looks. Apps are path-routed
// (/APP/); the on-demand ones come from a template "{name}-PID" whose env names the app, so
// every name is this test's own on the shared engine. Every app's containers are removed at the
// end, whatever happened.

TEST_SUITE_BEGIN("docker");

TEST_CASE("launch serve starts an unknown app behind nginx on its first request, once for 200 "
          "requests, and answers a refused name with nginx's own 404") {
  LaunchWorld world;
  // Naming the apps: other tests' instances on the shared engine are not this file's to prune.
  RunResult up = world.herald({"cluster", "up", "-f", world.dir.file("cluster.yaml"),
                               world.app("a"), world.app("b"), world.app("c")});
  REQUIRE_MESSAGE(up.status == 0, up.err);
  world.start_router();
  world.start_launcher();
  for (const char* base : {"a", "b", "c"}) {
    std::string name = world.app(base);
    REQUIRE_MESSAGE(eventually([&] { return world.through_router(name) == name + "\n"; }, 30s),
                    name << " not routed: " << world.render->err());
  }
  // nginx routes an unknown path to the launcher once its announcement is rendered.
  std::string d = world.app("d");
  Answer first;
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        first = world.curl_get_router("/" + d + "/", {"Accept: text/html"});
                        return first.status == 503;
                      },
                      20s),
                  "status " << first.status << "; launcher: " << world.launcher->err());
  CHECK(first.body.find(d) != std::string::npos);
  CHECK(first.body.find("http-equiv=\"refresh\"") != std::string::npos);
  CHECK(first.content_type.find("text/html") != std::string::npos);
  CHECK(first.retry_after == " 2");
  // An API client gets JSON.
  Answer api = world.curl_get_router("/" + d + "/x", {"Accept: application/json"});
  CHECK(api.status == 503);
  CHECK(nlohmann::json::parse(api.body).value("app", "") == d);
  // Within the app's start time, the same URL answers from the app.
  CHECK_MESSAGE(eventually([&] { return world.through_router(d) == d + "\n"; }, 60s),
                world.launcher->err());

  // 200 concurrent first requests for e start it once.
  std::string e = world.app("e");
  std::vector<std::string> argv{
      "curl", "-s", "-w", "%{http_code}\\n", "-Z", "--parallel-max", "200", "--max-time", "30"};
  for (int i = 0; i < 200; ++i) {
    argv.insert(argv.end(),
                {"-o", "/dev/null",
                 "http://127.0.0.1:" + std::to_string(world.nginx->port()) + "/" + e + "/"});
  }
  RunResult burst = run(argv, {}, 60s);
  std::vector<std::string> codes = nonempty_lines(burst.out);
  CHECK(codes.size() == 200);
  CHECK_MESSAGE(
      std::all_of(codes.begin(), codes.end(),
                  [](const std::string& c) { return c == "503" || c == "307" || c == "200"; }),
      burst.out);
  CHECK_MESSAGE(eventually([&] { return world.through_router(e) == e + "\n"; }, 60s),
                world.launcher->err());
  CHECK(world.containers_of(e) == 1);

  // A name no pattern allows, and a denied one: nginx's plain 404, nothing started.
  for (const std::string& path :
       std::vector<std::string>{"/zzz/", "/" + world.app("g") + "/", "/A-B/"}) {
    Answer refused = world.curl_get_router(path, {"Accept: text/html"});
    CHECK_MESSAGE(refused.status == 404, path);
    CHECK(refused.body.find("<center>nginx</center>") != std::string::npos);
  }
  CHECK(world.containers_of(world.app("g")) == 0);

  // The metrics count two launches (e's once its settle time passed: the router may route a
  // new instance a moment before the launch counts it as up).
  HttpReply metrics;
  eventually(
      [&] {
        metrics = http_request(world.launcher_port, "GET", "/metrics");
        return metrics.body.find("herald_launch_starts_in_flight 0") != std::string::npos;
      },
      10s);
  CHECK(metrics.status == 200);
  CHECK_MESSAGE(metrics.body.find("herald_launch_launches_total{result=\"ok\"} 2") !=
                    std::string::npos,
                metrics.body);

  // cluster up keeps the launched apps; down removes them with the rest.
  // (Naming the apps: other tests' instances on the shared engine are not this file's.)
  std::vector<std::string> apps;
  for (const char* base : {"a", "b", "c", "d", "e"}) {
    apps.push_back(world.app(base));
  }
  std::vector<std::string> plan_args{"cluster", "plan", "-f", world.dir.file("cluster.yaml")};
  plan_args.insert(plan_args.end(), apps.begin(), apps.end());
  RunResult plan = world.herald(plan_args);
  CHECK_MESSAGE(plan.status == 0, plan.out << plan.err);
  std::vector<std::string> down_args{"cluster", "down", "-f", world.dir.file("cluster.yaml")};
  down_args.insert(down_args.end(), apps.begin(), apps.end());
  RunResult down = world.herald(down_args);
  CHECK_MESSAGE(down.status == 0, down.err);
  CHECK(world.containers_of(d) == 0);
  CHECK(world.containers_of(e) == 0);
}

TEST_CASE("herald launch starts an app of the cluster file, says so in JSON, and refuses by the "
          "policy with exit 1") {
  LaunchWorld world;
  std::string file = world.dir.file("cluster.yaml");
  std::string f = world.app("f");
  RunResult launched = world.herald({"launch", f, "-f", file, "-o", "json", "--timeout", "60s"});
  REQUIRE_MESSAGE(launched.status == 0, launched.err);
  auto doc = nlohmann::json::parse(launched.out);
  CHECK(doc["app"] == f);
  CHECK(doc["already_running"] == false);
  CHECK(doc["started"] == 1);
  REQUIRE(doc["instances"].size() == 1);
  std::string address = doc["instances"][0]["address"];
  int port = std::atoi(address.substr(address.rfind(':') + 1).c_str());
  HttpReply answer = http_request(port, "GET", "/" + f + "/");
  CHECK(answer.status == 200);
  CHECK(answer.body == f + "\n");

  RunResult again = world.herald({"launch", f, "-f", file, "-o", "json"});
  REQUIRE_MESSAGE(again.status == 0, again.err);
  CHECK(nlohmann::json::parse(again.out)["already_running"] == true);
  CHECK(world.containers_of(f) == 1);

  RunResult denied = world.herald({"launch", world.app("g"), "-f", file});
  CHECK(denied.status == 1);
  CHECK(denied.err.find("denied") != std::string::npos);
  CHECK(denied.err.find("g-*") != std::string::npos);
  RunResult not_allowed = world.herald({"launch", "other", "-f", file});
  CHECK(not_allowed.status == 1);
  CHECK(not_allowed.err.find("not allowed") != std::string::npos);
  RunResult no_app = world.herald({"launch", "other", "--allow", "other", "-f", file});
  CHECK(no_app.status == 2);
  CHECK(no_app.err.find("no app") != std::string::npos);
  RunResult regular = world.herald({"launch", world.app("a"), "--allow", "*", "-f", file});
  CHECK(regular.status == 2);
  CHECK(world.containers_of(world.app("g")) == 0);
  RunResult down = world.herald({"cluster", "down", "-f", file, f});
  CHECK_MESSAGE(down.status == 0, down.err);
  CHECK(world.containers_of(f) == 0);
}

TEST_CASE("launch serve --idle-stop stops an app started on demand once the router's access log "
          "shows no request for it, and the next request starts it again") {
  LaunchWorld world;
  std::string access = world.dir.file("access.log");
  world.start_router({{"HERALD_ACCESS_LOG", access}});
  world.start_launcher({"--idle-stop", "6s", "--access-log", access});
  std::string d = world.app("d");
  // The first request starts it; within its start time it answers through nginx.
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        int status = world.curl_get_router("/" + d + "/").status;
                        return status == 503 || status == 200;
                      },
                      20s),
                  world.launcher->err());
  // Three answers in a row: an nginx worker of the config before d may still take a request
  // for a moment after the reload that routes it.
  int in_a_row = 0;
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        in_a_row = world.curl_get_router("/" + d + "/").body == d + "\n"
                                       ? in_a_row + 1
                                       : 0;
                        return in_a_row == 3;
                      },
                      60s),
                  world.launcher->err());
  // Used every second for longer than the idle time: it stays.
  for (int i = 0; i < 9; ++i) {
    Answer answer = world.curl_get_router("/" + d + "/");
    CHECK_MESSAGE(answer.body == d + "\n",
                  "request " << i << ": " << answer.status << " " << answer.body
                             << "\nrender: " << world.render->err()
                             << "\nconf: " << read_file(world.nginx->conf_d() + "/apps.conf")
                             << "\nagain: " << world.through_router(d)
                             << "\nlauncher: " << world.launcher->err());
    sleep_ms(1000);
  }
  CHECK(world.containers_of(d) == 1);
  CHECK(read_file(access).find(" /" + d + "/") != std::string::npos);
  // Then nobody asks: it goes (withdrawn, drained, stopped, removed).
  CHECK_MESSAGE(eventually([&] { return world.containers_of(d) == 0; }, 30s),
                world.launcher->err());
  CHECK(world.launcher->err().find(d + ": no request for 6s: stopping it") != std::string::npos);
  // And the next request starts it again.
  Answer last;
  CHECK_MESSAGE(eventually(
                    [&] {
                      last = world.curl_get_router("/" + d + "/");
                      return last.body == d + "\n";
                    },
                    60s),
                "last answer " << last.status << " " << last.body << "\nlauncher: "
                               << world.launcher->err() << "\nrender: " << world.render->err());
}
