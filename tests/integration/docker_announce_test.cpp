#include "support/dockerd.hpp"
#include "support/etcd_server.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace herald::test;
using namespace std::chrono_literals;

// `herald announce --docker` and `herald announce --docker-events` against the real Docker engine
// and a real etcd. Containers publish on 127.0.0.1 only (`-p 127.0.0.1::8080`), so the announced
// address is 127.0.0.1:<ephemeral port>.

TEST_SUITE_BEGIN("docker");

namespace {

using Clock = std::chrono::steady_clock;

const std::string k_key = "/services/web/web/web@1";

/// A name unique to this test process and call, for prefixes, services and nodes.
std::string unique(const std::string& tag) {
  static int counter = 0;
  return tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

/// The environment of every herald run: the daemon under test, nothing inherited that would
/// change herald's behaviour.
std::map<std::string, std::string> herald_env(const TempDir& dir, const DockerCli& daemon) {
  return {{"DOCKER_HOST", daemon.host()},
          {"DOCKER_API_VERSION", ""},
          {"HERALD_ENVIRONMENT_FILE", dir.file("no-environment")},
          {"COREOS_PRIVATE_IPV4", ""},
          {"NOTIFY_SOCKET", ""},
          {"WATCHDOG_USEC", ""},
          {"JOURNAL_STREAM", ""},
          {"HERALD_REGISTRY", ""},
          {"ETCDCTL_ENDPOINTS", ""},
          {"HERALD_LOG_FORMAT", "text"}};
}

std::vector<std::string> announce_docker(const EtcdServer& etcd, const std::string& container,
                                         std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{herald_bin(), "--registry", etcd.v3_url(), "announce",
                                "web@1",      "--docker",   container,     "--container-port",
                                "8080",       "--ttl",      "30s"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

std::string loopback(int port) {
  return "127.0.0.1:" + std::to_string(port);
}

/// Every key under `prefix` in etcd's v3 keyspace with its value.
std::map<std::string, std::string> etcd_keys(const EtcdServer& etcd, const std::string& prefix) {
  std::istringstream in(etcd.etcdctl({"get", "--prefix", prefix}));
  std::map<std::string, std::string> out;
  for (std::string key, value; std::getline(in, key) && std::getline(in, value);) {
    out[key] = value;
  }
  return out;
}

/// A container that sleeps with 8080 published on 127.0.0.1, started with `run_args`.
std::unique_ptr<TestContainer> sleeper(const DockerCli& daemon, std::vector<std::string> run_args) {
  run_args.insert(run_args.begin(), {"-p", "127.0.0.1::8080"});
  return std::make_unique<TestContainer>(daemon, run_args,
                                         std::vector<std::string>{"sleep", "300"});
}

/// How long until `done` holds, polling every 10 ms for at most `limit`; nullopt on timeout.
template <class Predicate>
std::optional<std::chrono::milliseconds> time_until(Predicate done,
                                                    std::chrono::milliseconds limit) {
  auto start = Clock::now();
  while (Clock::now() - start < limit) {
    if (done()) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    }
    std::this_thread::sleep_for(10ms);
  }
  return std::nullopt;
}

/// The one line herald printed on stderr, for the bad-input cases.
std::string only_line(const std::string& err) {
  std::string text = err;
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  CHECK_MESSAGE(text.find('\n') == std::string::npos, "more than one line: " << err);
  return text;
}

} // namespace

TEST_CASE("announce --docker announces the loopback port a container publishes, removes it on "
          "SIGTERM") {
  Dockerd dockerd;
  ensure_test_image(dockerd);
  EtcdServer etcd;
  TempDir dir;
  auto container = sleeper(dockerd, {});
  int port = container->host_port(8080);
  REQUIRE(port > 0);

  Process herald(announce_docker(etcd, container->name()), herald_env(dir, dockerd));
  CHECK(eventually([&] { return etcd.get3(k_key) == loopback(port); }, 10s));
  herald.signal(SIGTERM);
  CHECK(herald.wait(10s) == 0);
  CHECK_FALSE(etcd.get3(k_key).has_value());
  INFO(herald.err());
}

TEST_CASE("announce --docker waits for a created container to start, then announces it") {
  Dockerd dockerd;
  ensure_test_image(dockerd);
  EtcdServer etcd;
  TempDir dir;
  std::string name = test_container_name("created");
  dockerd.docker({"create", "--name", name, "--label", "herald.test=1", "--label",
                  "herald.test.pid=" + std::to_string(::getpid()), "-p", "127.0.0.1::8080",
                  k_test_image, "sleep", "300"});
  struct Remove {
    const DockerCli& d;
    std::string n;
    ~Remove() { d.try_docker({"rm", "-f", n}); }
  } remove{dockerd, name};

  Process herald(announce_docker(etcd, name), herald_env(dir, dockerd));
  CHECK(eventually([&] { return herald.err().find("waiting for container") != std::string::npos; },
                   10s));
  CHECK_FALSE(etcd.get3(k_key).has_value());
  dockerd.docker({"start", name});
  std::string published = dockerd.docker({"port", name, "8080/tcp"});
  CHECK(eventually([&] { return etcd.get3(k_key) == published; }, 10s));
  herald.signal(SIGTERM);
  CHECK(herald.wait(10s) == 0);
  INFO(herald.err());
}

TEST_CASE("announce --docker --follow re-announces a restart on a new host port") {
  Dockerd dockerd;
  ensure_test_image(dockerd);
  EtcdServer etcd;
  TempDir dir;
  auto container = sleeper(dockerd, {});
  int before = container->host_port(8080);

  Process herald(announce_docker(etcd, container->name(), {"--follow"}), herald_env(dir, dockerd));
  REQUIRE(eventually([&] { return etcd.get3(k_key) == loopback(before); }, 10s));
  dockerd.docker({"restart", "-t", "0", container->name()});
  int after = container->host_port(8080);
  // Docker hands out ephemeral ports in sequence, so the restart moves to another one.
  REQUIRE(after != before);
  CHECK(eventually([&] { return etcd.get3(k_key) == loopback(after); }, 5s));
  CHECK(herald.running());
  herald.signal(SIGTERM);
  CHECK(herald.wait(10s) == 0);
  CHECK_FALSE(etcd.get3(k_key).has_value());
  INFO(herald.err());
}

TEST_CASE("announce --docker withdraws within 1 s when the container dies, then exits 0") {
  Dockerd dockerd;
  ensure_test_image(dockerd);
  EtcdServer etcd;
  TempDir dir;
  auto container = sleeper(dockerd, {});
  int port = container->host_port(8080);

  Process herald(announce_docker(etcd, container->name()), herald_env(dir, dockerd));
  REQUIRE(eventually([&] { return etcd.get3(k_key) == loopback(port); }, 10s));
  dockerd.docker({"kill", container->name()});
  auto withdrawn = time_until([&] { return !etcd.get3(k_key).has_value(); }, 5s);
  REQUIRE(withdrawn.has_value());
  MESSAGE("withdrawn " << withdrawn->count() << " ms after docker kill returned");
  CHECK(*withdrawn < 1000ms);
  // Without --follow the sidekick's work ends with its container.
  CHECK(herald.wait(10s) == 0);
  INFO(herald.err());
}

TEST_CASE("announce --docker: no such container is one line and exit 65") {
  Dockerd dockerd;
  EtcdServer etcd;
  TempDir dir;
  std::string name = test_container_name("missing");
  RunResult r = run(announce_docker(etcd, name), herald_env(dir, dockerd), 20s);
  CHECK(r.status == 65);
  std::string line = only_line(r.err);
  CHECK(line.find("no such container '" + name + "'") != std::string::npos);
  CHECK_FALSE(etcd.get3(k_key).has_value());
}

TEST_CASE("announce --docker: a container that does not publish the port is one line and exit "
          "65") {
  Dockerd dockerd;
  ensure_test_image(dockerd);
  EtcdServer etcd;
  TempDir dir;
  auto container = sleeper(dockerd, {});
  std::vector<std::string> argv{herald_bin(), "--registry", etcd.v3_url(),     "announce",
                                "web@1",      "--docker",   container->name(), "--container-port",
                                "9090"};
  RunResult r = run(argv, herald_env(dir, dockerd), 20s);
  CHECK(r.status == 65);
  std::string line = only_line(r.err);
  CHECK(line.find("does not publish port 9090/tcp") != std::string::npos);
  CHECK_FALSE(etcd.get3(k_key).has_value());
}

TEST_CASE("announce --docker: a socket the user may not read is one line and exit 78") {
  Dockerd dockerd;
  if (dockerd.host().rfind("unix://", 0) != 0 || ::geteuid() != 0 ||
      find_program("setpriv").empty()) {
    skip("needs root, setpriv and a unix-socket daemon to try the socket as another user");
  }
  EtcdServer etcd;
  TempDir dir;
  std::vector<std::string> argv{find_program("setpriv"), "--reuid=65534", "--regid=65534",
                                "--clear-groups"};
  auto rest = announce_docker(etcd, "whatever");
  argv.insert(argv.end(), rest.begin(), rest.end());
  RunResult r = run(argv, herald_env(dir, dockerd), 20s);
  if (r.err.find("Permission denied") != std::string::npos &&
      r.err.find("herald") == std::string::npos) {
    skip("the herald binary is not executable by nobody here: " + r.err);
  }
  CHECK(r.status == 78);
  std::string line = only_line(r.err);
  CHECK(line.find("permission denied") != std::string::npos);
  CHECK(line.find("docker group") != std::string::npos);
}

TEST_CASE("announce --docker: an API version the daemon no longer speaks is one line and exit 78") {
  Dockerd dockerd;
  EtcdServer etcd;
  TempDir dir;
  auto env = herald_env(dir, dockerd);
  // Older than every daemon's minimum, so the daemon itself refuses it.
  env["DOCKER_API_VERSION"] = "1.5";
  RunResult r = run(announce_docker(etcd, "whatever"), env, 20s);
  CHECK(r.status == 78);
  std::string line = only_line(r.err);
  CHECK(line.find("client version 1.5 is too old") != std::string::npos);
}

// --- registrator mode -------------------------------------------------------------------------

namespace {

/// `herald announce --docker-events` with its own prefix and node name.
struct RegistratorRun {
  std::string prefix = "/services/" + unique("reg");
  std::string node = unique("node");
  std::vector<std::string> timing = {"--ttl", "60s"};

  std::vector<std::string> argv(const EtcdServer& etcd, std::vector<std::string> extra = {}) const {
    return argv(etcd.v3_url(), std::move(extra));
  }
  std::vector<std::string> argv(const std::string& registry,
                                std::vector<std::string> extra = {}) const {
    std::vector<std::string> out{herald_bin(), "--registry",      registry,
                                 "announce",   "--docker-events", "--prefix",
                                 prefix,       "--node",          node};
    out.insert(out.end(), timing.begin(), timing.end());
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
  }
  std::string key(const std::string& service, const std::string& container) const {
    return prefix + "/" + service + "/" + service + "@" + node + ":" + container + ":8080";
  }
  /// Where it announces itself while it follows engine `engine_id`.
  std::string presence_key(const std::string& engine_id) const {
    return "/herald/registrators" + prefix + "/" + engine_id + "/" + node;
  }
};

/// What the registry should hold for `containers` of service `service`: key -> 127.0.0.1:port.
std::map<std::string, std::string>
expected_keys(const RegistratorRun& reg, const std::string& service,
              const std::vector<std::unique_ptr<TestContainer>>& containers) {
  std::map<std::string, std::string> out;
  for (const auto& c : containers) {
    if (c) {
      out[reg.key(service, c->name())] = loopback(c->host_port(8080));
    }
  }
  return out;
}

} // namespace

TEST_CASE("announce --docker-events: 10 containers started and stopped in a burst match docker "
          "ps within 1 s") {
  Dockerd dockerd;
  ensure_test_image(dockerd);
  EtcdServer etcd;
  TempDir dir;
  RegistratorRun reg;
  std::string service = unique("burst");
  std::string service_dir = reg.prefix + "/" + service + "/";
  Process herald(reg.argv(etcd), herald_env(dir, dockerd));
  REQUIRE(eventually([&] { return herald.err().find("resynced") != std::string::npos; }, 15s));

  constexpr int k_count = 10;
  std::vector<std::unique_ptr<TestContainer>> containers(k_count);
  {
    std::vector<std::future<std::unique_ptr<TestContainer>>> starting;
    for (int i = 0; i < k_count; ++i) {
      starting.push_back(std::async(std::launch::async, [&] {
        return sleeper(dockerd, {"-e", "SERVICE_NAME=" + service});
      }));
    }
    for (int i = 0; i < k_count; ++i) {
      containers[i] = starting[i].get();
    }
  }
  auto want = expected_keys(reg, service, containers);
  REQUIRE(want.size() == k_count);
  auto started = time_until([&] { return etcd_keys(etcd, service_dir) == want; }, 5s);
  INFO("registered: " << etcd_keys(etcd, service_dir).size() << "\n" << herald.err());
  REQUIRE(started.has_value());
  MESSAGE("10 starts: registry matched " << started->count() << " ms after the last docker run");
  CHECK(*started < 1000ms);

  // Stop half of them at once; the registry must drop exactly those.
  {
    std::vector<std::future<RunResult>> stopping;
    for (int i = 0; i < k_count; i += 2) {
      stopping.push_back(std::async(std::launch::async, [&, i] {
        return dockerd.try_docker({"kill", containers[i]->name()});
      }));
    }
    for (auto& f : stopping) {
      CHECK(f.get().status == 0);
    }
  }
  std::map<std::string, std::string> still;
  for (int i = 1; i < k_count; i += 2) {
    still[reg.key(service, containers[i]->name())] = want[reg.key(service, containers[i]->name())];
  }
  // docker ps agrees on what runs.
  std::string ps = dockerd.docker({"ps", "--filter", "status=running", "--format", "{{.Names}}"});
  for (int i = 0; i < k_count; ++i) {
    CHECK((ps.find(containers[i]->name()) != std::string::npos) == (i % 2 == 1));
  }
  auto stopped = time_until([&] { return etcd_keys(etcd, service_dir) == still; }, 5s);
  REQUIRE(stopped.has_value());
  MESSAGE("5 kills: registry matched " << stopped->count() << " ms after the last docker kill");
  CHECK(*stopped < 1000ms);

  herald.signal(SIGTERM);
  CHECK(herald.wait(15s) == 0);
  CHECK(etcd_keys(etcd, service_dir).empty());
}

TEST_CASE("announce --docker-events resyncs after a restart: registers what runs, removes its "
          "stale keys") {
  Dockerd dockerd;
  ensure_test_image(dockerd);
  EtcdServer etcd;
  TempDir dir;
  RegistratorRun reg;
  std::string service = unique("resync");
  std::string service_dir = reg.prefix + "/" + service + "/";
  std::vector<std::unique_ptr<TestContainer>> containers;
  containers.push_back(sleeper(dockerd, {"-e", "SERVICE_NAME=" + service}));
  containers.push_back(sleeper(dockerd, {"--label", "herald.service=" + service}));
  // Another node's registration under the same prefix is not this registrator's to remove.
  std::string foreign = reg.prefix + "/" + service + "/" + service + "@other-node:x:8080";
  etcd.etcdctl({"put", foreign, "10.9.9.9:1"});
  {
    Process first(reg.argv(etcd), herald_env(dir, dockerd));
    auto want = expected_keys(reg, service, containers);
    want[foreign] = "10.9.9.9:1";
    REQUIRE(eventually([&] { return etcd_keys(etcd, service_dir) == want; }, 15s));
    // A crash: nothing is deregistered.
    first.signal(SIGKILL);
    first.wait(10s);
  }
  // While herald is down one container goes away and another one starts.
  containers[0].reset();
  containers.push_back(sleeper(dockerd, {"-e", "SERVICE_NAME=" + service}));
  auto want = expected_keys(reg, service, containers);
  want[foreign] = "10.9.9.9:1";
  CHECK(etcd_keys(etcd, service_dir) != want);

  Process second(reg.argv(etcd), herald_env(dir, dockerd));
  // Well within the 60 s TTL: the stale key is removed by the resync, not by expiry.
  CHECK(eventually([&] { return etcd_keys(etcd, service_dir) == want; }, 10s));
  INFO(second.err());
  second.signal(SIGTERM);
  CHECK(second.wait(15s) == 0);
}

TEST_CASE("announce --docker-events follows a Docker daemon restart mid-stream") {
  PrivateDockerd dockerd;
  ensure_test_image(dockerd);
  EtcdServer etcd;
  TempDir dir;
  RegistratorRun reg;
  std::string service = unique("daemon");
  std::string service_dir = reg.prefix + "/" + service + "/";
  // The private daemon has no bridge: host networking, so the container port is the host port
  // and the address is the node address given with --host.
  auto host_net = [&](int port) {
    return std::make_unique<TestContainer>(dockerd,
                                           std::vector<std::string>{"--network", "host", "--expose",
                                                                    std::to_string(port), "-e",
                                                                    "SERVICE_NAME=" + service},
                                           std::vector<std::string>{"sleep", "300"});
  };
  auto key_of = [&](const TestContainer& c, int port) {
    return reg.prefix + "/" + service + "/" + service + "@" + reg.node + ":" + c.name() + ":" +
           std::to_string(port);
  };
  Process herald(reg.argv(etcd, {"--host", "127.0.0.1"}), herald_env(dir, dockerd));
  auto before = host_net(18080);
  REQUIRE(eventually(
      [&] {
        return etcd_keys(etcd, service_dir) ==
               std::map<std::string, std::string>{{key_of(*before, 18080), "127.0.0.1:18080"}};
      },
      15s));

  dockerd.stop(); // its containers stop with it
  dockerd.start();
  CHECK(eventually([&] { return etcd_keys(etcd, service_dir).empty(); }, 15s));
  auto after = host_net(18081);
  CHECK(eventually(
      [&] {
        return etcd_keys(etcd, service_dir) ==
               std::map<std::string, std::string>{{key_of(*after, 18081), "127.0.0.1:18081"}};
      },
      15s));
  CHECK(herald.running());
  INFO(herald.err());
  herald.signal(SIGTERM);
  CHECK(herald.wait(15s) == 0);
}

TEST_CASE("announce --docker-events announces itself within 1 s, naming its engine, and is gone "
          "on SIGTERM") {
  Dockerd dockerd;
  EtcdServer etcd;
  TempDir dir;
  RegistratorRun reg;
  std::string engine = dockerd.docker({"info", "--format", "{{.ID}}"});
  std::string key = reg.presence_key(engine);
  Process herald(reg.argv(etcd), herald_env(dir, dockerd));
  auto seen = time_until([&] { return etcd.get3(key).has_value(); }, 10s);
  INFO(herald.err());
  REQUIRE(seen.has_value());
  MESSAGE("presence written " << seen->count() << " ms after the registrator started");
  CHECK(*seen < 1000ms);

  auto value = nlohmann::json::parse(etcd.get3(key).value_or("null"), nullptr, false);
  REQUIRE(value.is_object());
  CHECK(value["engine_id"] == engine);
  CHECK(value["engine_name"] == dockerd.docker({"info", "--format", "{{.Name}}"}));
  CHECK(value["node"] == reg.node);
  CHECK(value["prefix"] == reg.prefix);
  CHECK(value["pid"] == herald.pid());
  CHECK_FALSE(value["version"].get<std::string>().empty());
  auto ttl = etcd.ttl3(key);
  REQUIRE(ttl.has_value());
  CHECK(*ttl > 0);
  CHECK(*ttl <= 60);
  // It is no instance: neither under its prefix nor from the top.
  for (const std::string& prefix : {reg.prefix, std::string("/")}) {
    RunResult ls = run({herald_bin(), "--registry", etcd.v3_url(), "route", "ls", "--all",
                        "--prefix", prefix, "-o", "json"},
                       herald_env(dir, dockerd));
    CHECK_MESSAGE(ls.status == 0, ls.err);
    // (The other docker tests' containers are instances under this node's name: only the
    // presence key must not be one.)
    CHECK_MESSAGE(ls.out.find("registrator") == std::string::npos, ls.out);
  }

  herald.signal(SIGTERM);
  CHECK(herald.wait(15s) == 0);
  CHECK_FALSE(etcd.get3(key).has_value());
}

TEST_CASE("announce --docker-events writes its presence again after etcd restarts, on v3 and v2") {
  Dockerd dockerd;
  EtcdServer etcd;
  TempDir dir;
  std::string engine = dockerd.docker({"info", "--format", "{{.ID}}"});
  for (bool v3 : {true, false}) {
    CAPTURE(v3);
    RegistratorRun reg;
    reg.timing = {"--ttl", "3s", "--refresh", "1s"};
    std::string key = reg.presence_key(engine);
    auto present = [&] { return (v3 ? etcd.get3(key) : etcd.get2(key)).has_value(); };
    Process herald(reg.argv(v3 ? etcd.v3_url() : etcd.v2_url()), herald_env(dir, dockerd));
    REQUIRE(eventually(present, 10s));
    etcd.stop();
    sleep_ms(4000); // longer than the TTL: the key cannot simply survive on the server
    CHECK(herald.running());
    etcd.start();
    // One refresh period (the retry backoff is capped by it) plus room for a busy machine.
    CHECK(eventually(present, 3s));
    // It stays: kept alive after the outage, not written once.
    sleep_ms(3500);
    CHECK(present());
    herald.signal(SIGTERM);
    CHECK(herald.wait(15s) == 0);
    CHECK_FALSE(present());
    INFO(herald.err());
  }
}

TEST_SUITE_END();
