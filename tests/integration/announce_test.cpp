#include "herald/core/base64.hpp"
#include "support/etcd_server.hpp"
#include "support/listener.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <future>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

using namespace herald::test;
using namespace std::chrono_literals;

// `herald announce` / `herald deregister` as a sidekick runs them, against a real etcd, each
// behaviour for both the v3 (JSON gateway) and the v2 keys API.

namespace {

using Clock = std::chrono::steady_clock;

const std::string k_key = "/services/web/web/web@1";

/// Which API a case runs against.
enum class Api { v3, v2 };

const char* name_of(Api api) {
  return api == Api::v3 ? "etcd v3" : "etcd v2";
}

std::string url_of(const EtcdServer& server, Api api) {
  return api == Api::v3 ? server.v3_url() : server.v2_url();
}

std::optional<std::string> value_of(const EtcdServer& server, Api api, const std::string& key) {
  return api == Api::v3 ? server.get3(key) : server.get2(key);
}

std::optional<long> ttl_of(const EtcdServer& server, Api api, const std::string& key) {
  return api == Api::v3 ? server.ttl3(key) : server.ttl2(key);
}

/// The environment every herald run gets: nothing inherited that would change its behaviour
/// (a host from this machine's /etc/environment, systemd's notify socket, another registry).
std::map<std::string, std::string> clean_env(const TempDir& dir) {
  return {{"HERALD_ENVIRONMENT_FILE", dir.file("no-environment")},
          {"COREOS_PRIVATE_IPV4", ""},
          {"NOTIFY_SOCKET", ""},
          {"WATCHDOG_USEC", ""},
          {"JOURNAL_STREAM", ""},
          {"HERALD_REGISTRY", ""},
          {"ETCDCTL_ENDPOINTS", ""},
          {"HERALD_LOG_FORMAT", "text"}};
}

std::vector<std::string> announce_argv(const std::string& url, std::vector<std::string> args) {
  std::vector<std::string> argv{herald_bin(), "--registry", url, "announce", "web@1"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

/// What a member says about a key from its own copy of the data (no quorum needed, so it still
/// answers while the cluster elects a new leader): true present, false absent, nullopt when it
/// did not answer.
std::optional<bool> local_presence(const EtcdServer& member, Api api, const std::string& key) {
  if (api == Api::v3) {
    nlohmann::json req{{"key", herald::base64_encode(key)}, {"serializable", true}};
    auto reply = http_request(member.client_port(), "POST", "/v3/kv/range", req.dump(), 500);
    auto j = nlohmann::json::parse(reply.body, nullptr, false);
    if (reply.status != 200 || j.is_discarded()) {
      return std::nullopt;
    }
    return j.contains("kvs") && !j["kvs"].empty();
  }
  auto reply = http_request(member.client_port(), "GET", "/v2/keys" + key, "", 500);
  if (reply.status == 200) {
    return true;
  }
  if (reply.status == 404) {
    return false;
  }
  return std::nullopt;
}

/// A unix datagram socket standing in for systemd's NOTIFY_SOCKET.
class NotifySocket {
public:
  explicit NotifySocket(const std::string& path) {
    m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(m_fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof(addr.sun_path));
    path.copy(addr.sun_path, path.size());
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~NotifySocket() { ::close(m_fd); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  /// The next message, or nullopt after `timeout`.
  std::optional<std::string> receive(std::chrono::milliseconds timeout) {
    pollfd pfd{m_fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) {
      return std::nullopt;
    }
    char buffer[4096];
    auto n = ::recv(m_fd, buffer, sizeof(buffer), 0);
    return n < 0 ? std::nullopt : std::optional<std::string>(std::string(buffer, n));
  }

private:
  int m_fd = -1;
};

} // namespace

TEST_SUITE_BEGIN("integration");

TEST_CASE("announce makes the key with its value and TTL") {
  EtcdServer server;
  TempDir dir;
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    Process announce(
        announce_argv(url_of(server, api), {"--addr", "10.0.0.5:3000", "--ttl", "10s"}),
        clean_env(dir));
    REQUIRE(eventually([&] { return value_of(server, api, k_key).has_value(); }, 5s));
    CHECK(value_of(server, api, k_key) == std::optional<std::string>("10.0.0.5:3000"));
    auto ttl = ttl_of(server, api, k_key);
    REQUIRE(ttl.has_value());
    CHECK(*ttl > 0);
    CHECK(*ttl <= 10);
    CHECK(announce.running());
    announce.signal(SIGTERM);
    CHECK(announce.wait(5s) == std::optional<int>(0));
    CHECK(announce.err().find("registered web@1 at /services/web/web/web@1 = 10.0.0.5:3000 "
                              "(ttl 10s)") != std::string::npos);
  }
}

TEST_CASE("announce --value json with --port and --host stores host, port, tags and meta") {
  EtcdServer server;
  TempDir dir;
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    auto r = run(announce_argv(url_of(server, api),
                               {"--port", "3000", "--host", "10.0.0.9", "--value", "json", "--tag",
                                "blue", "--tag", "canary", "--meta", "version=1.4", "--once"}),
                 clean_env(dir));
    CHECK(r.status == 0);
    auto value = value_of(server, api, k_key);
    REQUIRE(value.has_value());
    auto j = nlohmann::json::parse(*value);
    CHECK(j["host"] == "10.0.0.9");
    CHECK(j["port"] == 3000);
    CHECK(j["tags"] == nlohmann::json::array({"blue", "canary"}));
    CHECK(j["meta"]["version"] == "1.4");
  }
}

TEST_CASE("announce takes its host from COREOS_PRIVATE_IPV4 in the environment file") {
  EtcdServer server;
  TempDir dir;
  auto env = clean_env(dir);
  env["HERALD_ENVIRONMENT_FILE"] = dir.write("environment", "COREOS_PRIVATE_IPV4=10.1.2.3\n");
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    auto r = run(announce_argv(url_of(server, api), {"--port", "8080", "--once"}), env);
    CHECK(r.status == 0);
    CHECK(value_of(server, api, k_key) == std::optional<std::string>("10.1.2.3:8080"));
  }
}

TEST_CASE("announce removes the key at once on SIGTERM and exits 0") {
  EtcdServer server;
  TempDir dir;
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    Process announce(announce_argv(url_of(server, api), {"--addr", "10.0.0.5:3000"}),
                     clean_env(dir));
    REQUIRE(eventually([&] { return value_of(server, api, k_key).has_value(); }, 5s));
    auto start = Clock::now();
    announce.signal(SIGTERM);
    auto status = announce.wait(5s);
    auto exited = Clock::now() - start;
    CHECK(status == std::optional<int>(0));
    CHECK_FALSE(value_of(server, api, k_key).has_value());
    CHECK(exited < 1s);
    MESSAGE(name_of(api) << ": SIGTERM to exit with the key gone: "
                         << std::chrono::duration_cast<std::chrono::milliseconds>(exited).count()
                         << " ms");
    CHECK(announce.err().find("deregistered web@1") != std::string::npos);
  }
}

TEST_CASE("announce stops on SIGINT like on SIGTERM") {
  EtcdServer server;
  TempDir dir;
  Process announce(announce_argv(server.v3_url(), {"--addr", "10.0.0.5:3000"}), clean_env(dir));
  REQUIRE(eventually([&] { return server.get3(k_key).has_value(); }, 5s));
  announce.signal(SIGINT);
  CHECK(announce.wait(5s) == std::optional<int>(0));
  CHECK_FALSE(server.get3(k_key).has_value());
}

TEST_CASE("announce treats SIGHUP (a closed terminal or ssh session) like SIGTERM") {
  EtcdServer server;
  TempDir dir;
  Process announce(announce_argv(server.v3_url(), {"--addr", "10.0.0.5:3000"}), clean_env(dir));
  REQUIRE(eventually([&] { return server.get3(k_key).has_value(); }, 5s));
  announce.signal(SIGHUP);
  CHECK(announce.wait(5s) == std::optional<int>(0));
  CHECK_FALSE(server.get3(k_key).has_value());
  CHECK(announce.err().find("deregistered web@1") != std::string::npos);
}

TEST_CASE("a killed announce leaves its key to expire after the TTL") {
  EtcdServer server;
  TempDir dir;
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    Process announce(announce_argv(url_of(server, api), {"--addr", "10.0.0.5:3000", "--ttl", "2s"}),
                     clean_env(dir));
    REQUIRE(eventually([&] { return value_of(server, api, k_key).has_value(); }, 5s));
    announce.signal(SIGKILL);
    announce.wait(5s);
    auto killed = Clock::now();
    CHECK(value_of(server, api, k_key).has_value()); // nobody deregistered it
    REQUIRE(eventually([&] { return !value_of(server, api, k_key).has_value(); }, 5s));
    auto lived = Clock::now() - killed;
    CHECK(lived > 500ms); // it lived on for (most of) its TTL...
    CHECK(lived < 4s);    // ...and not much longer
  }
}

TEST_CASE("the key is back within one refresh after etcd restarts on the same data dir") {
  EtcdServer server;
  TempDir dir;
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    Process announce(announce_argv(url_of(server, api),
                                   {"--addr", "10.0.0.5:3000", "--ttl", "3s", "--refresh", "1s"}),
                     clean_env(dir));
    REQUIRE(eventually([&] { return value_of(server, api, k_key).has_value(); }, 5s));
    server.stop();
    sleep_ms(4000); // longer than the TTL: the key cannot simply survive on the server
    CHECK(announce.running());
    server.start();
    auto started = Clock::now();
    // One refresh period (1s; the retry backoff is capped by it) plus room for a busy machine.
    CHECK(eventually(
        [&] { return value_of(server, api, k_key) == std::optional<std::string>("10.0.0.5:3000"); },
        3s));
    MESSAGE(name_of(api)
            << ": key back "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()
            << " ms after etcd answered again");
    // It stays: refreshed, not left to expire after one write.
    sleep_ms(3500);
    CHECK(value_of(server, api, k_key).has_value());
    announce.signal(SIGTERM);
    CHECK(announce.wait(5s) == std::optional<int>(0));
    std::string err = announce.err();
    INFO(err);
    CHECK(count_of(err, "registry lost:") == 1);
    CHECK(count_of(err, "registry back after") == 1);
    CHECK(count_of(err, "\n") <= 5); // registered, lost, back, (registered again), stopped
  }
}

TEST_CASE("the key never lapses when the cluster member herald talks to is killed") {
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    EtcdCluster cluster;
    TempDir dir;
    std::string url = api == Api::v3 ? cluster.v3_url() : cluster.v2_url();
    Process announce(
        announce_argv(url, {"--addr", "10.0.0.5:3000", "--ttl", "3s", "--refresh", "1s"}),
        clean_env(dir));
    REQUIRE(eventually([&] { return local_presence(cluster.member(1), api, k_key) == true; }, 10s));
    cluster.member(0).kill(); // the first endpoint of the list: the one in use
    int answers = 0;
    int absent = 0;
    auto until = Clock::now() + 7s; // more than twice the TTL
    while (Clock::now() < until) {
      for (int m : {1, 2}) {
        auto present = local_presence(cluster.member(m), api, k_key);
        if (present) {
          ++answers;
          absent += *present ? 0 : 1;
        }
      }
      sleep_ms(50);
    }
    CHECK(answers > 50);
    CHECK(absent == 0);
    CHECK(announce.running());
    announce.signal(SIGTERM);
    CHECK(announce.wait(5s) == std::optional<int>(0));
    CHECK(eventually([&] { return local_presence(cluster.member(1), api, k_key) == false; }, 3s));
  }
}

TEST_CASE("a failing then passing health check withdraws then restores the key") {
  EtcdServer server;
  TempDir dir;
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    Listener app;
    Process announce(
        announce_argv(url_of(server, api),
                      {"--addr", "10.0.0.5:3000", "--ttl", "30s", "--check-tcp",
                       "127.0.0.1:" + std::to_string(app.port()), "--check-interval", "200ms",
                       "--check-timeout", "100ms", "--rise", "2", "--fall", "2"}),
        clean_env(dir));
    REQUIRE(eventually([&] { return value_of(server, api, k_key).has_value(); }, 5s));
    app.close();
    // Withdrawn after two failed checks, long before the 30s TTL could remove it.
    CHECK(eventually([&] { return !value_of(server, api, k_key).has_value(); }, 3s));
    app.reopen();
    CHECK(eventually([&] { return value_of(server, api, k_key).has_value(); }, 3s));
    announce.signal(SIGTERM);
    CHECK(announce.wait(5s) == std::optional<int>(0));
    std::string err = announce.err();
    INFO(err);
    CHECK(count_of(err, "withdrawn web@1: health check failed") == 1);
    CHECK(count_of(err, "restored web@1") == 1);
  }
}

TEST_CASE("an http health check gates the key on the answer of the URL") {
  EtcdServer server;
  TempDir dir;
  Listener closed;
  int port = closed.port();
  closed.close();
  // Nothing answers the URL: the key is never written, the sidekick keeps waiting.
  Process announce(
      announce_argv(server.v3_url(), {"--addr", "10.0.0.5:3000", "--check-http",
                                      "http://127.0.0.1:" + std::to_string(port) + "/health",
                                      "--check-interval", "100ms", "--check-timeout", "100ms"}),
      clean_env(dir));
  CHECK(eventually(
      [&] { return announce.err().find("not registering web@1") != std::string::npos; }, 5s));
  sleep_ms(500);
  CHECK_FALSE(server.get3(k_key).has_value());
  CHECK(announce.running());
  announce.signal(SIGTERM);
  CHECK(announce.wait(5s) == std::optional<int>(0));
}

TEST_CASE("announce --once exits 0 and leaves the key with its TTL") {
  EtcdServer server;
  TempDir dir;
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    auto r = run(
        announce_argv(url_of(server, api), {"--addr", "10.0.0.5:3000", "--ttl", "30s", "--once"}),
        clean_env(dir));
    CHECK(r.status == 0);
    CHECK(value_of(server, api, k_key) == std::optional<std::string>("10.0.0.5:3000"));
    auto ttl = ttl_of(server, api, k_key);
    REQUIRE(ttl.has_value());
    CHECK(*ttl > 20);
    CHECK(*ttl <= 30);
  }
}

TEST_CASE("announce --key writes the single-key layout") {
  EtcdServer server;
  TempDir dir;
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    auto r = run(announce_argv(url_of(server, api), {"--addr", "10.0.0.5:3000", "--key",
                                                     "/services/clusters/{app}", "--once"}),
                 clean_env(dir));
    CHECK(r.status == 0);
    CHECK(value_of(server, api, "/services/clusters/web") ==
          std::optional<std::string>("10.0.0.5:3000"));
    auto gone = run({herald_bin(), "--registry", url_of(server, api), "deregister", "web@1",
                     "--key", "/services/clusters/{app}", "--strict"},
                    clean_env(dir));
    CHECK(gone.status == 0);
    CHECK_FALSE(value_of(server, api, "/services/clusters/web").has_value());
  }
}

TEST_CASE("deregister removes a key, succeeds when it is gone, and exits 1 with --strict") {
  EtcdServer server;
  TempDir dir;
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    std::string url = url_of(server, api);
    REQUIRE(run(announce_argv(url, {"--addr", "10.0.0.5:3000", "--once"}), clean_env(dir)).status ==
            0);
    REQUIRE(value_of(server, api, k_key).has_value());
    auto removed = run({herald_bin(), "--registry", url, "deregister", "web@1"}, clean_env(dir));
    CHECK(removed.status == 0);
    CHECK_FALSE(value_of(server, api, k_key).has_value());

    auto again = run({herald_bin(), "--registry", url, "deregister", "web@1"}, clean_env(dir));
    CHECK(again.status == 0);
    CHECK(again.err.find("was not registered") != std::string::npos);

    auto strict =
        run({herald_bin(), "--registry", url, "deregister", "web@1", "--strict"}, clean_env(dir));
    CHECK(strict.status == 1);
    CHECK(strict.err.find("herald: deregister: web@1 is not registered at " + k_key) == 0);
  }
}

TEST_CASE("bad input gets one clear line, the documented exit code and writes nothing") {
  EtcdServer server;
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string says;
  };
  std::vector<Case> cases{
      {{"web", "--addr", "10.0.0.5:3000"}, 2, "APP@INSTANCE"},
      {{"web@1", "--port", "http"}, 2, "invalid port 'http'"},
      {{"web@1", "--addr", "10.0.0.5:3000", "--ttl", "soon"}, 2, "invalid duration 'soon'"},
      {{"web@1", "--addr", "10.0.0.5:3000", "--ttl", "1500ms"}, 2, "whole seconds"},
      {{"web@1", "--addr", "10.0.0.5:3000", "--ttl", "10s", "--refresh", "10s"},
       2,
       "--refresh 10s is not shorter than --ttl 10s"},
      {{"web@1", "--addr", "10.0.0.5:3000", "--check-http", "ftp://127.0.0.1/health"}, 2, "ftp://"},
      {{"web@1", "--addr", "10.0.0.5:3000", "--check-interval", "0s", "--check-tcp", "127.0.0.1:1"},
       2,
       "--check-interval"},
      {{"web@1", "--port", "3000"}, 78, "no address for web@1: pass --addr HOST:PORT, --host"},
      {{"web@1", "--addr", "10.0.0.5:3000", "--ttl", "2562046h", "--once"},
       2,
       "--ttl 2562046h is longer than the limit of 87600h"},
      {{"web@1", "--addr", "10.0.0.5:3000", "--refresh", "1ms"},
       2,
       "--refresh 1ms is below the floor of 1s"},
      {{"..@1", "--addr", "10.0.0.5:3000", "--once"}, 2, "must start with a letter or a digit"},
      {{"web@..", "--addr", "10.0.0.5:3000", "--once"}, 2, "must start with a letter or a digit"},
      {{std::string(210, 'a') + "@1", "--addr", "10.0.0.5:3000"},
       2,
       "is 210 characters long; the limit is 200"},
      {{"web@1", "--addr", "10.0.0.5:3000", "--check-tcp", "127.0.0.1:1", "--rise", "0"},
       2,
       "not in range 1 to 1000"},
  };
  for (Api api : {Api::v3, Api::v2}) {
    for (const auto& c : cases) {
      std::vector<std::string> argv{herald_bin(), "--registry", url_of(server, api), "announce"};
      argv.insert(argv.end(), c.args.begin(), c.args.end());
      auto r = run(argv, clean_env(dir));
      CAPTURE(name_of(api));
      CAPTURE(c.says);
      CAPTURE(r.err);
      CHECK(r.status == c.status);
      CHECK(r.err.find("herald:") == 0);
      CHECK(r.err.find(c.says) != std::string::npos);
      CHECK(count_of(r.err, "\n") == 1); // one line, not a help screen
    }
  }
  CHECK(server.etcdctl({"get", "--prefix", "/"}).empty());
  CHECK(http_request(server.client_port(), "GET", "/v2/keys/services").status == 404);
}

TEST_CASE("announce --once exits 69 when the registry cannot be reached") {
  TempDir dir;
  int port = free_port(); // nothing listens there
  for (const char* scheme : {"etcd://", "etcd2://"}) {
    CAPTURE(scheme);
    auto r = run(announce_argv(scheme + std::string("127.0.0.1:") + std::to_string(port),
                               {"--addr", "10.0.0.5:3000", "--once"}),
                 clean_env(dir));
    CHECK(r.status == 69);
    CHECK(r.err.find("herald: announce: ") == 0);
    CHECK(r.err.find(std::to_string(port)) != std::string::npos);
  }
}

TEST_CASE("a v2 refresh does not wake a watcher") {
  EtcdServer server;
  TempDir dir;
  Process announce(
      announce_argv(server.v2_url(), {"--addr", "10.0.0.5:3000", "--ttl", "3s", "--refresh", "1s"}),
      clean_env(dir));
  REQUIRE(eventually([&] { return server.get2(k_key).has_value(); }, 5s));
  auto reply = http_request(server.client_port(), "GET", "/v2/keys" + k_key);
  auto node = nlohmann::json::parse(reply.body)["node"];
  auto from = node["modifiedIndex"].get<long>() + 1;
  std::string path =
      "/v2/keys/services/web?wait=true&recursive=true&waitIndex=" + std::to_string(from);
  int port = server.client_port();
  // Long enough for three refreshes and the key's whole TTL: without refresh=true each
  // heartbeat would be a "set" event ending this long-poll.
  auto watch = std::async(std::launch::async,
                          [&] { return http_request(port, "GET", path, "", 3500).body; });
  std::string seen = watch.get();
  CHECK(seen.find("\"action\"") == std::string::npos);
  CHECK(server.get2(k_key).has_value()); // refreshed all along
  CHECK(server.ttl2(k_key).value_or(0) > 0);

  // A real change does wake it: the same watch from the same index sees the deregistration.
  auto after = std::async(std::launch::async,
                          [&] { return http_request(port, "GET", path, "", 5000).body; });
  sleep_ms(200);
  announce.signal(SIGTERM);
  CHECK(announce.wait(5s) == std::optional<int>(0));
  std::string woken = after.get();
  CHECK(woken.find("\"action\":\"delete\"") != std::string::npos);
}

TEST_CASE("announce tells systemd READY=1 after registering and pings the watchdog") {
  EtcdServer server;
  TempDir dir;
  NotifySocket notify(dir.file("notify"));
  auto env = clean_env(dir);
  env["NOTIFY_SOCKET"] = dir.file("notify");
  env["WATCHDOG_USEC"] = "400000"; // ping every 200 ms
  Process announce(announce_argv(server.v3_url(), {"--addr", "10.0.0.5:3000"}), env);
  std::vector<std::string> messages;
  bool ready = false;
  auto deadline = Clock::now() + 5s;
  while (!ready && Clock::now() < deadline) {
    if (auto m = notify.receive(500ms)) {
      messages.push_back(*m);
      if (m->find("READY=1") != std::string::npos) {
        ready = true;
        // READY comes after the key is in place, never before.
        CHECK(server.get3(k_key).has_value());
        CHECK(m->find("STATUS=registered web@1") != std::string::npos);
      }
    }
  }
  REQUIRE(ready);
  int pings = 0;
  auto window = Clock::now() + 1200ms;
  while (Clock::now() < window) {
    if (auto m = notify.receive(100ms); m && *m == "WATCHDOG=1") {
      ++pings;
    }
  }
  CHECK(pings >= 4);
  CHECK(pings <= 8);
  announce.signal(SIGTERM);
  CHECK(announce.wait(5s) == std::optional<int>(0));
  bool stopping = false;
  while (auto m = notify.receive(200ms)) {
    stopping = stopping || m->find("STOPPING=1") != std::string::npos;
  }
  CHECK(stopping);
}

TEST_CASE("announce --help shows examples") {
  auto r = run({herald_bin(), "announce", "--help"});
  CHECK(r.status == 0);
  CHECK(r.out.find("Examples:") != std::string::npos);
  CHECK(r.out.find("--check-http") != std::string::npos);
  auto d = run({herald_bin(), "deregister", "--help"});
  CHECK(d.status == 0);
  CHECK(d.out.find("Examples:") != std::string::npos);
  CHECK(d.out.find("--strict") != std::string::npos);
}

TEST_SUITE_END();
