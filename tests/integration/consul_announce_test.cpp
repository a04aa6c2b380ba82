#include "support/consul_double.hpp"
#include "support/listener.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

using namespace herald::test;
using namespace std::chrono_literals;
using nlohmann::json;

// `herald announce` / `herald deregister` on Consul, the built binary against the Consul test
// double: an instance is a service with a TTL check kept passing, withdrawn by turning the check
// critical, deregistered on SIGTERM.

namespace {

std::map<std::string, std::string> clean_env(const TempDir& dir) {
  return {{"HERALD_ENVIRONMENT_FILE", dir.file("no-environment")},
          {"COREOS_PRIVATE_IPV4", ""},
          {"NOTIFY_SOCKET", ""},
          {"WATCHDOG_USEC", ""},
          {"JOURNAL_STREAM", ""},
          {"HERALD_REGISTRY", ""},
          {"ETCDCTL_ENDPOINTS", ""},
          {"CONSUL_HTTP_ADDR", ""},
          {"CONSUL_HTTP_TOKEN", ""},
          {"CONSUL_HTTP_TOKEN_FILE", ""},
          {"HERALD_LOG_FORMAT", "text"}};
}

std::vector<std::string> announce_argv(const ConsulDouble& consul, std::vector<std::string> args) {
  std::vector<std::string> argv{herald_bin(), "announce", "web@1", "--registry", consul.url()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

json get_json(const ConsulDouble& consul, const std::string& path) {
  auto reply = http_request(consul.port(), "GET", path, "", 2000);
  if (reply.status != 200 || reply.body.empty()) {
    return nullptr;
  }
  return json::parse(reply.body, nullptr, false);
}

/// The agent's view of check service:web@1, or null when the agent has no such check.
json web1_check(const ConsulDouble& consul) {
  json checks = get_json(consul, "/v1/agent/checks");
  if (!checks.is_object() || !checks.contains("service:web@1")) {
    return nullptr;
  }
  return checks["service:web@1"];
}

std::string web1_status(const ConsulDouble& consul) {
  json check = web1_check(consul);
  return check.is_object() ? check["Status"].get<std::string>() : std::string();
}

bool web1_registered(const ConsulDouble& consul) {
  json services = get_json(consul, "/v1/agent/services");
  return services.is_object() && services.contains("web@1");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_SUITE_BEGIN("integration");

TEST_CASE("announce on consul registers a service with tags, meta and a passing TTL check") {
  ConsulDouble consul;
  TempDir dir;
  Process announce(announce_argv(consul, {"--addr", "127.0.0.1:3000", "--ttl", "3s", "--tag", "a",
                                          "--meta", "k=v"}),
                   clean_env(dir));
  REQUIRE_MESSAGE(eventually([&] { return web1_status(consul) == "passing"; }, 5s), announce.err());

  json entries = get_json(consul, "/v1/health/service/web?passing");
  REQUIRE(entries.is_array());
  REQUIRE(entries.size() == 1);
  const json& service = entries[0]["Service"];
  CHECK(service["ID"] == "web@1");
  CHECK(service["Service"] == "web");
  CHECK(service["Address"] == "127.0.0.1");
  CHECK(service["Port"] == 3000);
  CHECK(service["Tags"] == json::array({"a"}));
  CHECK(service["Meta"] == json{{"k", "v"}});
  CHECK(web1_check(consul)["Type"] == "ttl");

  // Refreshed at TTL/3: still passing well past the 3 s TTL.
  sleep_ms(4500);
  CHECK(web1_status(consul) == "passing");
  CHECK(announce.running());
}

TEST_CASE("announce on consul deregisters the service on SIGTERM and exits 0") {
  ConsulDouble consul;
  TempDir dir;
  Process announce(announce_argv(consul, {"--addr", "127.0.0.1:3000", "--ttl", "3s"}),
                   clean_env(dir));
  REQUIRE_MESSAGE(eventually([&] { return web1_status(consul) == "passing"; }, 5s), announce.err());
  announce.signal(SIGTERM);
  CHECK(announce.wait(5s) == std::optional<int>(0));
  CHECK_FALSE(web1_registered(consul));
  CHECK(contains(announce.err(), "deregistered web@1"));
}

TEST_CASE("announce on consul SIGKILLed: the TTL check lapses to critical") {
  ConsulDouble consul;
  TempDir dir;
  Process announce(announce_argv(consul, {"--addr", "127.0.0.1:3000", "--ttl", "2s"}),
                   clean_env(dir));
  REQUIRE_MESSAGE(eventually([&] { return web1_status(consul) == "passing"; }, 5s), announce.err());
  announce.signal(SIGKILL);
  announce.wait(5s);
  auto killed = std::chrono::steady_clock::now();
  CHECK(eventually([&] { return web1_status(consul) == "critical"; }, 6s));
  CHECK(std::chrono::steady_clock::now() - killed >= 1s); // not before the TTL ran out
  CHECK(contains(web1_check(consul)["Output"].get<std::string>(), "TTL expired"));
  CHECK(web1_registered(consul)); // critical, not removed: DeregisterCriticalServiceAfter >= 1m
}

TEST_CASE("a failing --check-tcp turns the consul check critical with the probe's output") {
  ConsulDouble consul;
  TempDir dir;
  Listener app;
  int port = app.port();
  Process announce(
      announce_argv(consul, {"--addr", "127.0.0.1:" + std::to_string(port), "--ttl", "3s",
                             "--check-tcp", "127.0.0.1:" + std::to_string(port), "--check-interval",
                             "200ms", "--check-timeout", "150ms", "--rise", "1", "--fall", "1"}),
      clean_env(dir));
  REQUIRE_MESSAGE(eventually([&] { return web1_status(consul) == "passing"; }, 5s), announce.err());

  app.close();
  REQUIRE_MESSAGE(eventually([&] { return web1_status(consul) == "critical"; }, 5s),
                  announce.err());
  std::string output = web1_check(consul)["Output"].get<std::string>();
  CHECK(contains(output, "health check failed"));
  CHECK(contains(output, std::to_string(port)));
  CHECK(web1_registered(consul)); // withdrawn, not removed
  json routable = get_json(consul, "/v1/health/service/web?passing");
  CHECK(routable.is_array());
  CHECK(routable.empty());

  app.reopen();
  CHECK(eventually([&] { return web1_status(consul) == "passing"; }, 5s));

  // Withdrawn again, then stopped: the critical service does not outlive its sidekick.
  app.close();
  REQUIRE(eventually([&] { return web1_status(consul) == "critical"; }, 5s));
  announce.signal(SIGTERM);
  CHECK(announce.wait(5s) == std::optional<int>(0));
  CHECK_FALSE(web1_registered(consul));
}

TEST_CASE("announce registers again at the next pass when a restarted consul forgot the service") {
  ConsulDouble consul;
  TempDir dir;
  Process announce(announce_argv(consul, {"--addr", "127.0.0.1:3000", "--ttl", "3s"}),
                   clean_env(dir));
  REQUIRE_MESSAGE(eventually([&] { return web1_status(consul) == "passing"; }, 5s), announce.err());
  consul.restart(); // a fresh double: the service is gone (a check here would race the sidekick)
  // The next pass (every second) answers 404 and the service is registered again; the bound is
  // generous because a restart under a loaded sanitizer build can take seconds.
  CHECK_MESSAGE(eventually([&] { return web1_status(consul) == "passing"; }, 20s), announce.err());
  json service = get_json(consul, "/v1/agent/services")["web@1"];
  CHECK(service["Port"] == 3000);
  CHECK(contains(announce.err(), "was gone from the registry"));
  CHECK(announce.running());
}

TEST_CASE("herald deregister removes a consul service, then succeeds or fails with --strict") {
  ConsulDouble consul;
  TempDir dir;
  auto once = run(announce_argv(consul, {"--addr", "127.0.0.1:3000", "--ttl", "30s", "--once"}),
                  clean_env(dir));
  REQUIRE_MESSAGE(once.status == 0, once.err);
  CHECK(web1_status(consul) == "passing");

  auto removed =
      run({herald_bin(), "--registry", consul.url(), "deregister", "web@1"}, clean_env(dir));
  CHECK(removed.status == 0);
  CHECK_FALSE(web1_registered(consul));

  auto again =
      run({herald_bin(), "--registry", consul.url(), "deregister", "web@1"}, clean_env(dir));
  CHECK(again.status == 0);
  CHECK(contains(again.err, "was not registered"));
  auto strict = run({herald_bin(), "--registry", consul.url(), "deregister", "web@1", "--strict"},
                    clean_env(dir));
  CHECK(strict.status == 1);
}

TEST_CASE("announce on an ACL consul: refused in one line without a token, works with the file") {
  const std::string token = "b3f1a2c4-announce-secret";
  ConsulDoubleOptions options;
  options.acl_token = token;
  ConsulDouble consul(options);
  TempDir dir;

  auto refused = run(announce_argv(consul, {"--addr", "127.0.0.1:3000", "--once"}), clean_env(dir));
  CHECK(refused.status == 78);
  CHECK(contains(refused.err, "without an ACL token"));
  CHECK(std::count(refused.err.begin(), refused.err.end(), '\n') == 1);

  auto env = clean_env(dir);
  env["CONSUL_HTTP_TOKEN_FILE"] = dir.write("token", token + "\n");
  env["CONSUL_HTTP_TOKEN"] = "stale-token"; // the file wins, as with Consul's own client
  Process announce(announce_argv(consul, {"--addr", "127.0.0.1:3000", "--ttl", "3s"}), env);
  CHECK_MESSAGE(eventually([&] { return contains(announce.err(), "registered web@1"); }, 5s),
                announce.err());
  announce.signal(SIGTERM);
  CHECK(announce.wait(5s) == std::optional<int>(0));
  CHECK(contains(announce.err(), "deregistered web@1"));
  CHECK_FALSE(contains(announce.err(), token));
  CHECK_FALSE(contains(refused.err, token));
}
