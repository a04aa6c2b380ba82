// herald cluster up|plan on the docker scheduler, against the real Docker engine and a real etcd:
// before it starts anything, up looks for a registrator of the engine under the cluster's
// registry and prefix, and refuses without one; plan only warns.
#include "support/dockerd.hpp"
#include "support/etcd_server.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

using namespace herald::test;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("docker");

namespace {

/// A name unique to this test process and call (a DNS label: it names an app).
std::string unique(const std::string& tag) {
  static int counter = 0;
  return tag + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

std::map<std::string, std::string> herald_env(const TempDir& dir, const DockerCli& daemon) {
  return {{"DOCKER_HOST", daemon.host()},
          {"DOCKER_API_VERSION", ""},
          {"HERALD_ENVIRONMENT_FILE", dir.file("no-environment")},
          {"COREOS_PRIVATE_IPV4", ""},
          {"NOTIFY_SOCKET", ""},
          {"JOURNAL_STREAM", ""},
          {"HERALD_REGISTRY", ""},
          {"ETCDCTL_ENDPOINTS", ""},
          {"HERALD_LOG_FORMAT", "text"}};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The lines of `text` that contain `part`.
std::vector<std::string> lines_with(const std::string& text, const std::string& part) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    std::string line =
        text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (contains(line, part)) {
      out.push_back(line);
    }
    start = end == std::string::npos ? text.size() : end + 1;
  }
  return out;
}

/// A cluster on the test's engine and etcd, under its own prefix, with one app of its own (or
/// none), and the removal of whatever ends up running for that app, whatever happens.
class TestCluster {
public:
  TestCluster(const DockerCli& daemon, const EtcdServer& etcd, const TempDir& dir, bool with_app)
      : m_daemon(daemon), m_etcd(etcd), m_app(unique("hcr")), m_prefix("/services/" + m_app) {
    std::string apps = "apps: []\n";
    if (with_app) {
      apps = "apps:\n  - name: " + m_app + "\n    image: " + k_test_image +
             "\n    port: 8080\n    routing: none\n";
    }
    m_file = dir.write(m_app + ".yaml",
                       "registry:\n  url: " + etcd.v3_url() + "\n  prefix: " + m_prefix +
                           "\nscheduler:\n  kind: docker\n  endpoint: " + daemon.host() +
                           "\n  host_ip: 127.0.0.1\n" + apps);
  }
  ~TestCluster() {
    for (const std::string& id : containers()) {
      m_daemon.try_docker({"rm", "-f", "-v", id}, 30s);
    }
  }
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  const std::string& file() const { return m_file; }
  const std::string& prefix() const { return m_prefix; }

  /// `herald cluster ARGS -f FILE --no-prune`: never touches another test's instances.
  std::vector<std::string> argv(std::vector<std::string> args) const {
    std::vector<std::string> out{herald_bin(), "cluster"};
    out.insert(out.end(), args.begin(), args.end());
    out.insert(out.end(), {"-f", m_file, "--no-prune"});
    return out;
  }

  /// `herald announce --docker-events` for this cluster's registry and prefix.
  std::vector<std::string> registrator() const {
    return {herald_bin(), "--registry", m_etcd.v3_url(), "announce",     "--docker-events",
            "--prefix",   m_prefix,     "--node",        "node-" + m_app};
  }

  /// The containers of the cluster's app (any state).
  std::vector<std::string> containers() const {
    RunResult ids =
        m_daemon.try_docker({"ps", "-aq", "--filter", "label=herald.app=" + m_app}, 30s);
    std::vector<std::string> out;
    for (const std::string& line : lines_with(ids.out, "")) {
      if (!line.empty()) {
        out.push_back(line);
      }
    }
    return out;
  }

private:
  const DockerCli& m_daemon;
  const EtcdServer& m_etcd;
  std::string m_app;
  std::string m_prefix;
  std::string m_file;
};

/// Waits until a registrator announces itself under `prefix` in `etcd`.
bool registrator_announced(const EtcdServer& etcd, const std::string& prefix) {
  return eventually(
      [&] {
        return !etcd.etcdctl(
                        {"get", "--prefix", "--keys-only", "/herald/registrators" + prefix + "/"})
                    .empty();
      },
      15s);
}

} // namespace

TEST_CASE("cluster up without a registrator refuses with exit 78 and one line, and starts "
          "nothing") {
  Dockerd dockerd;
  ensure_test_image(dockerd);
  EtcdServer etcd;
  TempDir dir;
  TestCluster cluster(dockerd, etcd, dir, true);
  std::string engine_id = dockerd.docker({"info", "--format", "{{.ID}}"});
  std::string engine_name = dockerd.docker({"info", "--format", "{{.Name}}"});

  RunResult r = run(cluster.argv({"up", "--timeout", "20s"}), herald_env(dir, dockerd), 60s);
  CHECK(r.status == 78);
  std::string line = r.err;
  while (!line.empty() && line.back() == '\n') {
    line.pop_back();
  }
  CHECK_MESSAGE(line.find('\n') == std::string::npos, "more than one line: " << r.err);
  std::string registry = etcd.v3_url();
  CHECK_MESSAGE(
      line.starts_with("herald: cluster up: no registrator is alive for Docker engine \"" +
                       engine_name + "\" (ID " + engine_id + ") in " + registry + " under " +
                       cluster.prefix() + ", so no instance would ever be registered; "),
      line);
  // The command that starts one, and the unit that runs it.
  CHECK(contains(line, "herald --registry " + registry + " announce --docker-events --prefix " +
                           cluster.prefix()));
  CHECK(contains(line, "herald --registry " + registry + " unit gen registrator --prefix " +
                           cluster.prefix()));
  CHECK(cluster.containers().empty());
  CHECK(r.out.empty());
}

TEST_CASE("cluster up goes ahead while a registrator of the engine runs, and refuses once it "
          "stopped") {
  Dockerd dockerd;
  EtcdServer etcd;
  TempDir dir;
  TestCluster cluster(dockerd, etcd, dir, false);
  auto env = herald_env(dir, dockerd);
  {
    Process registrator(cluster.registrator(), env);
    REQUIRE_MESSAGE(registrator_announced(etcd, cluster.prefix()), registrator.err());
    RunResult up = run(cluster.argv({"up"}), env, 60s);
    CHECK_MESSAGE(up.status == 0, up.err);
    CHECK(contains(up.err, "nothing to do"));
    CHECK_FALSE(contains(up.err, "registrator"));
    registrator.signal(SIGTERM);
    CHECK(registrator.wait(15s) == 0);
  }
  // Its presence went with it (not after its TTL): up refuses at once.
  RunResult again = run(cluster.argv({"up"}), env, 60s);
  CHECK(again.status == 78);
  CHECK(contains(again.err, "no registrator is alive"));
}

TEST_CASE("cluster plan without a registrator warns once and keeps its exit status, and so does "
          "up --dry-run") {
  Dockerd dockerd;
  ensure_test_image(dockerd);
  EtcdServer etcd;
  TempDir dir;
  auto env = herald_env(dir, dockerd);
  TestCluster nothing(dockerd, etcd, dir, false);
  TestCluster one_app(dockerd, etcd, dir, true);
  const char* warning = "'cluster up' would refuse to start; start one on the engine's host: ";

  RunResult settled = run(nothing.argv({"plan"}), env, 60s);
  CHECK_MESSAGE(settled.status == 0, settled.err); // nothing would change
  auto warned = lines_with(settled.err, "no registrator is alive");
  REQUIRE(warned.size() == 1);
  CHECK(contains(warned[0], warning));
  CHECK(contains(warned[0], "announce --docker-events --prefix " + nothing.prefix()));

  RunResult pending = run(one_app.argv({"plan"}), env, 60s);
  CHECK_MESSAGE(pending.status == 2, pending.err); // changes pending: the app would be created
  CHECK(contains(pending.out, "create"));
  CHECK(lines_with(pending.err, "no registrator is alive").size() == 1);

  RunResult dry = run(one_app.argv({"up", "--dry-run"}), env, 60s);
  CHECK_MESSAGE(dry.status == 0, dry.err);
  CHECK(lines_with(dry.err, "no registrator is alive").size() == 1);
  CHECK(one_app.containers().empty());

  // With a registrator of the engine under the cluster's prefix, no warning.
  Process registrator(one_app.registrator(), env);
  REQUIRE_MESSAGE(registrator_announced(etcd, one_app.prefix()), registrator.err());
  RunResult served = run(one_app.argv({"plan"}), env, 60s);
  CHECK(served.status == 2);
  CHECK_FALSE(contains(served.err, "registrator"));
  // The other cluster's prefix still has none: a registrator serves one prefix.
  RunResult other = run(nothing.argv({"plan"}), env, 60s);
  CHECK(lines_with(other.err, "no registrator is alive").size() == 1);
  registrator.signal(SIGTERM);
  CHECK(registrator.wait(15s) == 0);
}

TEST_CASE("cluster plan names a registrator of the engine that writes under another prefix") {
  Dockerd dockerd;
  EtcdServer etcd;
  TempDir dir;
  auto env = herald_env(dir, dockerd);
  TestCluster cluster(dockerd, etcd, dir, false);
  std::vector<std::string> elsewhere = cluster.registrator();
  elsewhere[6] = cluster.prefix() + "-other"; // the value of --prefix
  Process registrator(elsewhere, env);
  REQUIRE_MESSAGE(registrator_announced(etcd, cluster.prefix() + "-other"), registrator.err());
  RunResult plan = run(cluster.argv({"plan"}), env, 60s);
  CHECK(plan.status == 0);
  CHECK(contains(plan.err,
                 "(one of this engine registers under " + cluster.prefix() + "-other instead)"));
  registrator.signal(SIGTERM);
  CHECK(registrator.wait(15s) == 0);
}

TEST_SUITE_END();
