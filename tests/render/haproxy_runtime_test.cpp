#include "herald/core/error.hpp"
#include "herald/render/haproxy_runtime.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <functional>
#include <map>
#include <string>
#include <vector>

using herald::Error;
using herald::ErrorKind;
using herald::render::apply_runtime_plan;
using herald::render::diff_haproxy_configs;
using herald::render::HaproxyRuntimePlan;
using herald::render::RuntimeApplyOptions;
using Words = std::vector<std::string>;

namespace {

const char* const k_stat_header =
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ\n";

/// A stand-in for haproxy's CLI: records every command and answers as haproxy 2.6 does (the
/// answers recorded from a real one), unless `answers` overrides a command.
struct FakeHaproxy {
  Words commands;
  std::map<std::string, std::string> answers;
  /// What `show stat` reports as scur for a server, per call.
  std::function<int(const std::string& server)> sessions = [](const std::string&) { return 0; };

  std::string operator()(const std::string& command) {
    commands.push_back(command);
    if (auto it = answers.find(command); it != answers.end()) {
      return it->second;
    }
    if (command.starts_with("add server ")) {
      return "New server registered.\n\n";
    }
    if (command.starts_with("del server ")) {
      return "Server deleted.\n";
    }
    if (command.starts_with("set server ") && command.find(" addr ") != std::string::npos) {
      return "IP changed from '10.0.0.1' to '10.0.0.7', port changed from '8001' to '9001' by "
             "'stats socket command'\n\n";
    }
    if (command.starts_with("show stat ")) {
      std::string backend = command.substr(10, command.find(' ', 10) - 10);
      std::string out = k_stat_header;
      for (std::string server : {"web-1", "web-2"}) {
        out += backend + "," + server + ",0,0," + std::to_string(sessions(server)) +
               ",0,,0,0,0,,0,,0\n";
      }
      return out + "\n";
    }
    return "\n";
  }
};

HaproxyRuntimePlan plan_of(const std::string& before, const std::string& after) {
  auto diff = diff_haproxy_configs(before, after);
  INFO(diff.reason);
  REQUIRE(diff.plan);
  return *diff.plan;
}

std::string backend(const std::string& servers) {
  return "backend web\n    balance roundrobin\n    default-server inter 2s\n" + servers;
}

const std::string k_two = "    server web-1 10.0.0.1:8001 check\n"
                          "    server web-2 10.0.0.2:8002 check\n";

std::string error_of(const HaproxyRuntimePlan& plan, FakeHaproxy& fake,
                     RuntimeApplyOptions options = {}) {
  try {
    apply_runtime_plan(plan, std::ref(fake), options);
  } catch (const Error& e) {
    return std::string(to_string(e.kind())) + ": " + e.what();
  }
  return "";
}

} // namespace

TEST_SUITE_BEGIN("render");

TEST_CASE("haproxy runtime: a new server is added with its options, health checks enabled, then "
          "enabled, a removed one drained, put in maintenance and deleted") {
  auto plan = plan_of(backend(k_two), backend("    server web-1 10.0.0.1:8001 check\n"
                                              "    server web-3 10.0.0.3:8003 check weight 5\n"));
  FakeHaproxy fake;
  CHECK(error_of(plan, fake) == "");
  CHECK(fake.commands == Words{"add server web/web-3 10.0.0.3:8003 inter 2s check weight 5",
                               "enable health web/web-3", "enable server web/web-3",
                               "set server web/web-2 state drain", "show stat web 4 -1",
                               "set server web/web-2 state maint", "del server web/web-2"});
}

TEST_CASE("haproxy runtime: an unchecked server gets no enable health, a new address is set") {
  auto plan = plan_of(backend(k_two), backend("    server web-1 10.0.0.7:9001 check\n"
                                              "    server web-2 10.0.0.2:8002 check\n"
                                              "    server web-3 [::1]:8003\n"));
  FakeHaproxy fake;
  CHECK(error_of(plan, fake) == "");
  CHECK(fake.commands == Words{"add server web/web-3 [::1]:8003 inter 2s",
                               "enable server web/web-3",
                               "set server web/web-1 addr 10.0.0.7 port 9001"});
}

TEST_CASE("haproxy runtime: removal waits for sessions to end, and shuts down what is left after "
          "the drain timeout") {
  auto plan = plan_of(backend(k_two), backend("    server web-1 10.0.0.1:8001 check\n"));
  SUBCASE("the sessions end while draining") {
    FakeHaproxy fake;
    int calls = 0;
    fake.sessions = [&](const std::string& server) { return server == "web-2" && ++calls < 3; };
    RuntimeApplyOptions options;
    options.poll_interval = std::chrono::milliseconds(1);
    CHECK(error_of(plan, fake, options) == "");
    CHECK(fake.commands == Words{"set server web/web-2 state drain", "show stat web 4 -1",
                                 "show stat web 4 -1", "show stat web 4 -1",
                                 "set server web/web-2 state maint", "del server web/web-2"});
  }
  SUBCASE("a session outlives the drain timeout") {
    FakeHaproxy fake;
    fake.sessions = [](const std::string& server) { return server == "web-2" ? 1 : 0; };
    RuntimeApplyOptions options;
    options.drain_timeout = std::chrono::milliseconds(0);
    CHECK(error_of(plan, fake, options) == "");
    CHECK(fake.commands == Words{"set server web/web-2 state drain", "show stat web 4 -1",
                                 "set server web/web-2 state maint",
                                 "shutdown sessions server web/web-2", "del server web/web-2"});
  }
  SUBCASE("del server retries while a connection is still attached, briefly") {
    FakeHaproxy fake;
    fake.answers["del server web/web-2"] =
        "Server still has connections attached to it, cannot remove it.\n";
    CHECK(error_of(plan, fake)
              .find("failed: haproxy answered \"Server still has connections "
                    "attached to it, cannot remove it.\" to \"del server "
                    "web/web-2\"") == 0);
    CHECK(std::count(fake.commands.begin(), fake.commands.end(), "del server web/web-2") == 20);
  }
}

TEST_CASE("haproxy runtime: every answer is checked and the first unexpected one is an error "
          "naming the command") {
  auto plan = plan_of(backend(k_two), backend(k_two + "    server web-3 10.0.0.3:8003 check\n"));
  FakeHaproxy unknown;
  unknown.answers["add server web/web-3 10.0.0.3:8003 inter 2s check"] = "No such backend.\n";
  CHECK(error_of(plan, unknown) ==
        "failed: haproxy answered \"No such backend.\" to \"add server web/web-3 10.0.0.3:8003 "
        "inter 2s check\"");
  CHECK(unknown.commands.size() == 1);

  FakeHaproxy empty; // an empty answer is no "New server registered."
  empty.answers["add server web/web-3 10.0.0.3:8003 inter 2s check"] = "";
  CHECK(error_of(plan, empty).find("haproxy answered nothing to \"add server") !=
        std::string::npos);

  FakeHaproxy denied; // a socket without level admin
  denied.answers["enable health web/web-3"] = "Permission denied\n\n";
  CHECK(error_of(plan, denied) ==
        "failed: haproxy answered \"Permission denied\" to \"enable health web/web-3\"");

  auto removal = plan_of(backend(k_two), backend("    server web-1 10.0.0.1:8001 check\n"));
  FakeHaproxy no_stat;
  no_stat.answers["show stat web 4 -1"] = "Unknown command.\n";
  CHECK(error_of(removal, no_stat) ==
        "failed: haproxy answered \"Unknown command.\" to \"show stat web 4 -1\"");

  auto readdress = plan_of(backend(k_two), backend("    server web-1 10.0.0.7:8001 check\n"
                                                   "    server web-2 10.0.0.2:8002 check\n"));
  FakeHaproxy bad_addr;
  bad_addr.answers["set server web/web-1 addr 10.0.0.7 port 8001"] =
      "Invalid addr '10.0.0.7' by 'stats socket command'\n";
  CHECK(error_of(readdress, bad_addr).find("haproxy answered \"Invalid addr") != std::string::npos);
}

TEST_CASE("haproxy runtime: the stats socket client refuses what the CLI would split, and names "
          "a socket it cannot reach") {
  herald::test::TempDir dir;
  auto send = herald::render::stats_socket(dir.file("none.sock"), std::chrono::milliseconds(500));
  try {
    send("show info");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::unavailable);
    CHECK(std::string(e.what()).find("none.sock: cannot connect") != std::string::npos);
  }
  for (std::string bad : {"show info;show stat", "show info\nshow stat", "show\rinfo"}) {
    try {
      send(bad);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::internal);
      CHECK(std::string(e.what()).find("refusing to send") == 0);
    }
  }
}

TEST_SUITE_END();
