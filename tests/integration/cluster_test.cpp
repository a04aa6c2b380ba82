#include "integration/docker_apps.hpp"
#include "support/dockerd.hpp"
#include "support/etcd_server.hpp"
#include "support/haproxy.hpp"
#include "support/nginx.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <doctest/doctest.h>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

using namespace herald::test;
using namespace std::chrono_literals;

// `herald cluster plan|up|status|down` end to end with the docker scheduler: the real Docker
// engine runs the instances, herald's registrator (`announce --docker-events`) registers them in
// a real etcd, and the test reads what the router would see with etcdctl and plain HTTP, not with
// herald's own registry code. Every command names the test's app, so `cluster up` never prunes
// what other tests run on the shared engine; the app's containers are removed at the end whatever
// happened.

TEST_SUITE_BEGIN("docker");

namespace {

/// The test's world: etcd, a registrator on the shared engine, a cluster file for one app.
struct ClusterWorld {
  Dockerd daemon;
  EtcdServer etcd;
  TempDir dir;
  std::string app = "c" + std::to_string(::getpid());
  /// The app's keys live under ROOT/services/web, the layout the bundled templates read.
  std::string root = "/" + app;
  std::string prefix = root + "/services/web";
  /// What a router's render reads with --prefix ROOT: this test's app only. The registrator
  /// registers every container of the shared engine, and the other docker tests' instances
  /// coming and going must not reach this test's router (its reloads, its drop guard).
  std::string app_keys() const { return "/services/web/" + app; }
  AppContainers containers{daemon, app};
  std::unique_ptr<Process> registrator;

  ClusterWorld() {
    ensure_test_image(daemon);
    registrator = start_registrator(daemon, etcd, prefix);
  }
  ~ClusterWorld() {
    if (registrator) {
      registrator->signal(SIGTERM);
      registrator->wait(10s);
    }
  }

  /// Writes cluster.yaml for `instances` of the app made from `image`.
  std::string file(const std::string& image, int instances, const std::string& drain = "2s") const {
    std::ostringstream yaml;
    yaml << "registry:\n"
         << "  url: " << etcd.v3_url() << "\n"
         << "  prefix: " << prefix << "\n"
         << "scheduler:\n"
         << "  kind: docker\n"
         << "  endpoint: " << daemon.host() << "\n"
         << "  host_ip: 127.0.0.1\n"
         << "apps:\n"
         << "  - name: " << app << "\n"
         << "    image: " << image << "\n"
         << "    port: 8080\n"
         << "    instances: " << instances << "\n"
         << "    routing: host\n"
         << "    health:\n"
         << "      path: /health\n"
         << "      interval: 500ms\n"
         << "      timeout: 400ms\n"
         << "    update:\n"
         << "      max_surge: 1\n"
         << "      max_unavailable: 0\n"
         << "      drain: " << drain << "\n";
    return dir.write("cluster.yaml", yaml.str());
  }

  /// `herald cluster ARGS -f cluster.yaml APP`.
  RunResult cluster(std::vector<std::string> args, std::chrono::seconds timeout = 120s) const {
    std::vector<std::string> argv{herald_bin(), "cluster"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"-f", dir.file("cluster.yaml"), app});
    return run(argv, {}, timeout);
  }

  /// What the router would see: the app's registered addresses (key -> host:port), read with
  /// etcdctl.
  std::map<std::string, std::string> routes() const {
    RunResult r = run(
        {"etcdctl", "--endpoints", etcd.client_url(), "get", "--prefix", prefix + "/" + app + "/"},
        {{"ETCDCTL_API", "3"}}, 10s);
    std::map<std::string, std::string> out;
    std::istringstream lines(r.out);
    std::string key;
    std::string value;
    while (std::getline(lines, key) && std::getline(lines, value)) {
      out[key] = value;
    }
    return out;
  }

  /// The bodies served at / by every registered address ("" for one that did not answer 200),
  /// sorted.
  std::vector<std::string> bodies_seen() const {
    std::vector<std::string> out;
    for (const auto& [key, address] : routes()) {
      auto colon = address.rfind(':');
      int port = colon == std::string::npos ? 0 : std::atoi(address.c_str() + colon + 1);
      HttpReply reply = http_request(port, "GET", "/", "", 2000);
      std::string body = reply.status == 200 ? reply.body : "";
      body.erase(std::remove(body.begin(), body.end(), '\n'), body.end());
      out.push_back(body);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  /// bodies_seen() joined with spaces, as repeat() makes them.
  std::string bodies() const {
    std::string out;
    for (const auto& body : bodies_seen()) {
      out += (out.empty() ? "" : " ") + (body.empty() ? std::string("(no answer)") : body);
    }
    return out;
  }

  nlohmann::json status() const {
    RunResult r = cluster({"status", "-o", "json"}, 60s);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    return nlohmann::json::parse(r.out);
  }
};

/// `body` `n` times, as "v1 v1 v1" (how the bodies are compared, so a failure shows them).
std::string repeat(const std::string& body, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += (i ? " " : "") + body;
  }
  return out;
}

/// While alive, reads what the router sees every 100 ms: the fewest addresses registered at
/// once, and every body or failure seen from a registered address.
class RouteWatch {
public:
  explicit RouteWatch(const ClusterWorld& world) : m_world(world) {
    m_thread = std::thread([this] {
      auto deadline = std::chrono::steady_clock::now() + 180s;
      while (!m_stop && std::chrono::steady_clock::now() < deadline) {
        auto seen = m_world.bodies_seen();
        {
          std::lock_guard lock(m_mutex);
          m_fewest = std::min(m_fewest, seen.size());
          for (const auto& body : seen) {
            ++m_bodies[body];
          }
          ++m_rounds;
        }
        sleep_ms(100);
      }
    });
  }
  ~RouteWatch() { stop(); }
  RouteWatch(const RouteWatch&) = delete;
  RouteWatch& operator=(const RouteWatch&) = delete;

  void stop() {
    m_stop = true;
    if (m_thread.joinable()) {
      m_thread.join();
    }
  }
  std::size_t fewest() const { return m_fewest; }
  int rounds() const { return m_rounds; }
  const std::map<std::string, int>& bodies() const { return m_bodies; }

private:
  const ClusterWorld& m_world;
  std::thread m_thread;
  std::atomic<bool> m_stop{false};
  std::mutex m_mutex;
  std::size_t m_fewest = SIZE_MAX;
  int m_rounds = 0;
  std::map<std::string, int> m_bodies;
};

} // namespace

TEST_CASE("cluster up brings an app up through docker, a second up does nothing, a new image "
          "rolls out with the app served throughout, a broken one stops the rollout, down "
          "removes it") {
  ClusterWorld world;
  std::string v1 = versioned_image(world.daemon, "v1");
  std::string v2 = versioned_image(world.daemon, "v2");
  std::string broken = versioned_image(world.daemon, "broken");

  // Nothing runs yet: the plan creates three, and says so with exit 2.
  world.file(v1, 3);
  RunResult plan = world.cluster({"plan", "-o", "json"});
  CHECK_MESSAGE(plan.status == 2, plan.err);
  auto planned = nlohmann::json::parse(plan.out);
  CHECK(planned["pending"] == true);
  REQUIRE(planned["changes"].size() == 3);
  for (const auto& change : planned["changes"]) {
    CHECK(change["action"] == "create");
    CHECK(change["app"] == world.app);
  }

  RunResult up = world.cluster({"up", "--timeout", "60s"});
  REQUIRE_MESSAGE(up.status == 0, up.out << up.err);
  CHECK(world.containers.ids().size() == 3);
  CHECK(world.bodies() == repeat("v1", 3));
  auto status = world.status();
  REQUIRE(status["apps"].size() == 1);
  CHECK(status["apps"][0]["settled"] == true);
  CHECK(status["apps"][0]["healthy"] == 3);
  CHECK(status["apps"][0]["current"] == 3);

  // A second run changes nothing and says so; the plan agrees (exit 0).
  auto ids = world.containers.ids();
  RunResult again = world.cluster({"up"});
  CHECK_MESSAGE(again.status == 0, again.err);
  CHECK(again.err.find("nothing to do") != std::string::npos);
  CHECK(world.containers.ids() == ids);
  CHECK(world.cluster({"plan"}).status == 0);

  // A new image: three replacements that give the reason, rolled out one at a time while the
  // app stays served: never fewer than three registered, every answer from v1 or v2.
  world.file(v2, 3);
  plan = world.cluster({"plan", "-o", "json"});
  CHECK(plan.status == 2);
  planned = nlohmann::json::parse(plan.out);
  REQUIRE(planned["changes"].size() == 3);
  for (const auto& change : planned["changes"]) {
    CHECK(change["action"] == "replace");
    CHECK(change["image_before"] == v1);
    CHECK(change["image_after"] == v2);
  }
  {
    RouteWatch watch(world);
    up = world.cluster({"up", "--timeout", "60s"});
    watch.stop();
    REQUIRE_MESSAGE(up.status == 0, up.out << up.err);
    CHECK(watch.rounds() > 3);
    CHECK(watch.fewest() >= 3);
    for (const auto& [body, count] : watch.bodies()) {
      CHECK_MESSAGE((body == "v1" || body == "v2"),
                    "a registered address answered " << body << " (" << count << "x)");
    }
  }
  CHECK(world.bodies() == repeat("v2", 3));
  CHECK(world.containers.ids().size() == 3);
  CHECK(world.cluster({"plan"}).status == 0);

  // Scale down: one withdrawn, drained, stopped and removed.
  world.file(v2, 2);
  up = world.cluster({"up", "--timeout", "60s"});
  REQUIRE_MESSAGE(up.status == 0, up.err);
  CHECK(world.bodies() == repeat("v2", 2));
  CHECK(world.containers.ids().size() == 2);

  // An image that cannot start: the rollout stops naming the instance and its last log line,
  // the old instances keep serving.
  world.file(broken, 2);
  up = world.cluster({"up", "--timeout", "20s"});
  CHECK(up.status == 1);
  CHECK_MESSAGE(up.err.find("fatal: no config for this version") != std::string::npos, up.err);
  CHECK_MESSAGE(up.err.find(world.app + "@") != std::string::npos, up.err);
  CHECK_MESSAGE(up.err.find("stopped and kept for its logs") != std::string::npos, up.err);
  RunResult ps = world.daemon.try_docker({"ps", "-a", "--filter", "label=herald.app=" + world.app,
                                          "--format", "{{.Names}} {{.Status}} {{.Image}}"});
  CHECK_MESSAGE(world.bodies() == repeat("v2", 2), up.err << ps.out);
  RunResult running = world.daemon.try_docker(
      {"ps", "-q", "--filter", "label=herald.app=" + world.app, "--filter", "status=running"});
  CHECK_MESSAGE(std::count(running.out.begin(), running.out.end(), '\n') == 2, up.err << ps.out);

  // Down: nothing of the app runs, nothing of it is registered.
  RunResult down = world.cluster({"down"});
  CHECK_MESSAGE(down.status == 0, down.err);
  CHECK(world.containers.ids().empty());
  CHECK(eventually([&] { return world.routes().empty(); }, 15s));
  CHECK(world.cluster({"down"}).status == 0); // again: nothing to do
}

namespace {

/// What one wrk run through the router saw.
struct Load {
  long requests = 0;
  long non_2xx = 0; ///< wrk's "Non-2xx or 3xx responses"
  long connect_errors = 0;
  long read_errors = 0;
  long write_errors = 0;
  long timeouts = 0;
  long unexpected = -1; ///< 200s whose body was neither version (the script's count)
  std::string text;     ///< wrk's whole report

  long socket_errors() const { return connect_errors + read_errors + write_errors + timeouts; }
};

Load parse_wrk(const std::string& out) {
  Load load;
  load.text = out;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    long a = 0, b = 0, c = 0, d = 0;
    if (std::sscanf(line.c_str(), " %ld requests in", &a) == 1) {
      load.requests = a;
    } else if (std::sscanf(line.c_str(),
                           " Socket errors: connect %ld, read %ld, write %ld, "
                           "timeout %ld",
                           &a, &b, &c, &d) == 4) {
      load.connect_errors = a;
      load.read_errors = b;
      load.write_errors = c;
      load.timeouts = d;
    } else if (std::sscanf(line.c_str(), " Non-2xx or 3xx responses: %ld", &a) == 1) {
      load.non_2xx = a;
    } else if (std::sscanf(line.c_str(), "unexpected bodies: %ld", &a) == 1) {
      load.unexpected = a;
    }
  }
  return load;
}

/// wrk for `seconds` against the router on 127.0.0.1:`port` with `Host: HOST` (2 threads, 20
/// keep-alive connections, each pausing 5 ms between requests: a steady load of at most 4000
/// requests/s that leaves the machine to the other tests), counting 200s whose body is neither
/// version. A request counts as timed out after 10 s, not wrk's 2 s: on a CI machine shared with
/// other docker tests an answer can take over a second without anything being dropped.
std::unique_ptr<Process> wrk_load(const ClusterWorld& world, int port, const std::string& host,
                                  int seconds) {
  std::string wrk = find_program("wrk");
  if (wrk.empty()) {
    skip("wrk is not installed (Debian package wrk)");
  }
  std::string script = world.dir.write("count.lua", R"(
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function delay() return 5 end
function response(status, headers, body)
  if status == 200 and body ~= "v1\n" and body ~= "v2\n" then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("unexpected bodies: %d\n", total))
end
)");
  return std::make_unique<Process>(std::vector<std::string>{
      wrk, "-t2", "-c20", "-d" + std::to_string(seconds) + "s", "--timeout", "10s", "-s", script,
      "-H", "Host: " + host, "http://127.0.0.1:" + std::to_string(port) + "/"});
}

/// Brings the world's app up with 3 instances of v1 draining `drain`; the v2 image to roll to.
std::string up_with_v1(ClusterWorld& world, const std::string& drain) {
  std::string v1 = versioned_image(world.daemon, "v1");
  std::string v2 = versioned_image(world.daemon, "v2");
  world.file(v1, 3, drain);
  RunResult up = world.cluster({"up", "--timeout", "60s"});
  REQUIRE_MESSAGE(up.status == 0, up.err);
  return v2;
}

/// Under the running `wrk` (after 2 s of it), `cluster up` rolls the world's app out; what the
/// load saw, once it ended, and how long the rollout took in seconds.
std::pair<Load, double> roll_out(const ClusterWorld& world, Process& wrk) {
  sleep_ms(2000);
  auto started = std::chrono::steady_clock::now();
  RunResult up = world.cluster({"up", "--timeout", "60s"});
  double rollout =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  REQUIRE_MESSAGE(up.status == 0, up.err);
  REQUIRE(wrk.wait(60s).value_or(-1) == 0);
  return {parse_wrk(wrk.out()), rollout};
}

/// nginx in front of the world's app, kept in step by `herald render --watch --wait` from the
/// bundled nginx-host.tmpl with retries to another upstream turned off: a request sent to an
/// instance that is gone is a 502 the load sees, not one nginx hides.
struct Router {
  const ClusterWorld& world;
  Nginx nginx;
  std::unique_ptr<Process> render;

  explicit Router(const ClusterWorld& w) : world(w), nginx(w.dir) {
    std::string tmpl = read_file(std::string(HERALD_SOURCE_DIR) + "/templates/nginx-host.tmpl");
    const std::string retry = "proxy_next_upstream error timeout http_502 http_503 http_504;";
    auto at = tmpl.find(retry);
    REQUIRE(at != std::string::npos);
    tmpl.replace(at, retry.size(), "proxy_next_upstream off;");
    std::string path = world.dir.write("nginx-no-retry.tmpl", tmpl);
    nginx.start();
    render = std::make_unique<Process>(
        std::vector<std::string>{herald_bin(), "--registry", world.etcd.v3_url(), "render",
                                 "--template", path, "--dest", nginx.conf_d() + "/apps.conf",
                                 "--prefix", world.root, "--keys", world.app_keys(), "--check-cmd",
                                 nginx.check_cmd(), "--reload-cmd", nginx.reload_cmd(), "--watch",
                                 "--wait", "3s:5s"},
        std::map<std::string, std::string>{{"HERALD_NGINX_LISTEN", std::to_string(nginx.port())},
                                           {"HERALD_DOMAIN", "localhost"}});
  }
  ~Router() {
    if (render) {
      render->signal(SIGTERM);
      render->wait(10s);
    }
  }

  std::string host() const { return world.app + ".localhost"; }
  /// The bodies nginx gives for `n` requests, as a set.
  std::set<std::string> bodies(int n) const {
    std::set<std::string> out;
    for (int i = 0; i < n; ++i) {
      out.insert(nginx.get(host()));
    }
    return out;
  }
  /// Installs (each followed by an nginx reload) so far.
  int reloads() const {
    std::string err = render->err();
    int count = 0;
    for (auto at = err.find(": installed "); at != std::string::npos;
         at = err.find(": installed ", at + 1)) {
      ++count;
    }
    return count;
  }

  /// wrk through nginx for `seconds` (see wrk_load()).
  std::unique_ptr<Process> load(int seconds) const {
    return wrk_load(world, nginx.port(), host(), seconds);
  }
};

} // namespace

TEST_CASE("a rolling image change under steady load through nginx fails no request and reloads "
          "nginx once per step") {
  ClusterWorld world;
  std::string v2 = up_with_v1(world, "6s");
  Router router(world);
  REQUIRE_MESSAGE(
      eventually([&] { return router.bodies(6) == std::set<std::string>{"v1\n"}; }, 20s),
      router.render->err() << router.nginx.error_log());
  sleep_ms(5500); // the first install's burst (--wait 3s:5s) is over
  int reloads_before = router.reloads();

  // 3 old instances, max_surge 1: three steps, each adding one new instance and withdrawing one
  // old one (after the new one stayed up 1 s, as docker's registrator does not gate on health),
  // which render's --wait gathers into one reload per step. The generated render units wait
  // 2s:4s with the default 5 s drain; the test leaves room for a CI machine, where a step's
  // withdrawal can come over 2 s after its addition: it waits 3s:5s and drains 6 s (the reload
  // lands at most 5 s after the addition, so before the old instance stops).
  const int steps = 3;
  world.file(v2, 3, "6s");
  auto wrk = router.load(45);
  auto [load, rollout] = roll_out(world, *wrk);
  int reloads = router.reloads() - reloads_before;
  MESSAGE("nginx: " << load.requests << " requests, " << load.non_2xx << " non-2xx, "
                    << load.unexpected << " unexpected bodies, " << reloads << " reloads, rollout "
                    << rollout << " s");
  MESSAGE("nginx's own reloads: socket errors connect "
          << load.connect_errors << ", read " << load.read_errors << ", write " << load.write_errors
          << ", timeout " << load.timeouts);
  CHECK_MESSAGE(rollout + 2 < 45, "the rollout outlasted the load");
  CHECK_MESSAGE(load.requests > 1000, load.text);
  CHECK_MESSAGE(load.non_2xx == 0, load.text << router.nginx.error_log().substr(0, 3000));
  CHECK_MESSAGE(load.unexpected == 0, load.text);
  CHECK(load.connect_errors == 0);
  CHECK(load.timeouts == 0);
  CHECK(reloads >= 1);
  CHECK_MESSAGE(reloads <= steps, router.render->err());
  CHECK(router.bodies(6) == std::set<std::string>{"v2\n"});
  CHECK(world.cluster({"down"}).status == 0);
}

namespace {

/// haproxy in front of the world's app, from the bundled haproxy.tmpl (health checks on /health),
/// kept in step by `herald render --watch --wait 2s:4s --haproxy-socket`: instances come and go
/// through haproxy's runtime API, so a rollout should never reload it.
struct HaproxyRouter {
  const ClusterWorld& world;
  Haproxy haproxy;
  std::string dest;
  std::unique_ptr<Process> render;

  explicit HaproxyRouter(const ClusterWorld& w)
      : world(w), haproxy(w.dir), dest(w.dir.file("haproxy.cfg")) {
    std::string path = std::string(HERALD_SOURCE_DIR) + "/templates/haproxy.tmpl";
    std::map<std::string, std::string> env = haproxy.env();
    env["HERALD_DOMAIN"] = "localhost";
    env["HERALD_HEALTH_PATH"] = "/health";
    std::vector<std::string> argv{herald_bin(),
                                  "--registry",
                                  world.etcd.v3_url(),
                                  "render",
                                  "--template",
                                  path,
                                  "--dest",
                                  dest,
                                  "--prefix",
                                  world.root,
                                  "--keys",
                                  world.app_keys(),
                                  "--check-cmd",
                                  haproxy.check_cmd()};
    RunResult once = run(argv, env, 60s); // no reload: haproxy is not running yet
    REQUIRE_MESSAGE(once.status == 0, once.err);
    haproxy.start(dest);
    argv.insert(argv.end(), {"--reload-cmd", haproxy.reload_cmd(), "--haproxy-socket",
                             haproxy.socket(), "--watch", "--wait", "2s:4s"});
    render = std::make_unique<Process>(argv, env);
  }
  ~HaproxyRouter() {
    if (render) {
      render->signal(SIGTERM);
      render->wait(10s);
    }
  }

  std::string host() const { return world.app + ".localhost"; }
  std::set<std::string> bodies(int n) const { return haproxy.bodies(n, host()); }
  /// Whether every server of the app's backend passes its health check.
  bool all_up(std::size_t servers) const {
    auto names = haproxy.servers(world.app);
    return names.size() == servers &&
           std::all_of(names.begin(), names.end(), [&](const std::string& name) {
             return haproxy.check_status(world.app, name) == "L7OK";
           });
  }
};

} // namespace

TEST_CASE("a rolling image change under steady load through haproxy fails no request of any kind "
          "and never reloads haproxy") {
  ClusterWorld world;
  std::string v2 = up_with_v1(world, "5s");
  HaproxyRouter router(world);
  REQUIRE_MESSAGE(eventually([&] { return router.all_up(3); }, 20s), router.render->err()
                                                                         << router.haproxy.log());
  REQUIRE(router.bodies(6) == std::set<std::string>{"v1\n"});
  REQUIRE_MESSAGE(
      eventually([&] { return router.render->err().find("watching") != std::string::npos; }, 10s),
      router.render->err());
  long worker = router.haproxy.worker_pid();
  std::size_t reloads_before = router.haproxy.reloads();

  world.file(v2, 3, "5s");
  auto wrk = wrk_load(world, router.haproxy.port(), router.host(), 40);
  auto [load, rollout] = roll_out(world, *wrk);
  MESSAGE("haproxy: " << load.requests << " requests, " << load.non_2xx << " non-2xx, "
                      << load.socket_errors() << " socket errors, " << load.unexpected
                      << " unexpected bodies, " << router.haproxy.reloads() - reloads_before
                      << " reloads, rollout " << rollout << " s");
  CHECK_MESSAGE(rollout + 2 < 40, "the rollout outlasted the load");
  CHECK_MESSAGE(load.requests > 1000, load.text);
  CHECK_MESSAGE(load.non_2xx == 0, load.text << router.render->err());
  CHECK_MESSAGE(load.socket_errors() == 0, load.text << router.render->err());
  CHECK_MESSAGE(load.unexpected == 0, load.text);
  CHECK_MESSAGE(router.haproxy.reloads() == reloads_before, router.render->err());
  CHECK(router.haproxy.worker_pid() == worker);
  // The new servers went in through the runtime API and the old ones out of it.
  CHECK(eventually([&] { return router.all_up(3); }, 10s));
  CHECK(router.bodies(6) == std::set<std::string>{"v2\n"});
  CHECK(world.cluster({"down"}).status == 0);
}

TEST_CASE("the same load sees failed requests when instances are killed instead of drained") {
  ClusterWorld world;
  std::string v1 = versioned_image(world.daemon, "v1");
  world.file(v1, 3);
  RunResult up = world.cluster({"up", "--timeout", "60s"});
  REQUIRE_MESSAGE(up.status == 0, up.err);
  Router router(world);
  REQUIRE(eventually([&] { return router.bodies(6) == std::set<std::string>{"v1\n"}; }, 20s));

  auto wrk = router.load(6);
  sleep_ms(2000);
  auto ids = world.containers.ids();
  REQUIRE(ids.size() == 3);
  world.daemon.docker({"kill", ids[0], ids[1]}); // no withdraw, no drain
  REQUIRE(wrk->wait(20s).value_or(-1) == 0);
  Load load = parse_wrk(wrk->out());
  MESSAGE("killed, not drained: " << load.requests << " requests, " << load.non_2xx << " non-2xx, "
                                  << load.socket_errors() << " socket errors");
  CHECK(load.requests > 100);
  CHECK_MESSAGE(load.non_2xx + load.socket_errors() > 0, load.text);
  CHECK(world.cluster({"down"}).status == 0);
}

TEST_SUITE_END();
