#include "herald/announce/container_services.hpp"
#include "herald/core/error.hpp"
#include "herald/docker/client.hpp"
#include "herald/scheduler/docker/docker_scheduler.hpp"
#include "herald/scheduler/scheduler.hpp"
#include "support/dockerd.hpp"
#include "support/error_kind.hpp"
#include "support/process.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <string>
#include <unistd.h>

using namespace herald;
using namespace herald::scheduler;
using namespace herald::test;
using namespace std::chrono_literals;
using herald::scheduler::docker::DockerScheduler;

// The docker scheduler against the real engine: every container is made by the scheduler from
// the locally imported busybox image, under an app name of this test process, and removed at the
// end of each test whatever happened (labelled herald.test too, so a crashed run's leftovers are
// removed by the next Dockerd).

TEST_SUITE_BEGIN("docker");

namespace {

int g_app_counter = 0;

/// A fresh app name for one test and the removal of whatever ends up running under it.
class SchedulerApp {
public:
  explicit SchedulerApp(const Dockerd& daemon)
      : m_daemon(daemon),
        m_app("hs" + std::to_string(::getpid()) + "-" + std::to_string(++g_app_counter)) {}
  ~SchedulerApp() {
    RunResult ids = m_daemon.try_docker({"ps", "-aq", "--filter", "label=herald.app=" + m_app},
                                        std::chrono::seconds(30));
    for (const auto& id : split_lines(ids.out)) {
      m_daemon.try_docker({"rm", "-f", "-v", id}, std::chrono::seconds(30));
    }
  }
  SchedulerApp(const SchedulerApp&) = delete;
  SchedulerApp& operator=(const SchedulerApp&) = delete;

  const std::string& name() const { return m_app; }

  /// busybox httpd answering `body` on container port 8080, published on 127.0.0.1.
  InstanceSpec httpd(const std::string& instance, const std::string& body,
                     const std::string& hash) const {
    InstanceSpec spec;
    spec.app = m_app;
    spec.instance = instance;
    spec.image = k_test_image;
    spec.command = httpd_command(body);
    spec.container_port = 8080;
    spec.host_ip = "127.0.0.1";
    spec.spec_hash = hash;
    spec.labels = {{"herald.test", "1"}, {"herald.test.pid", std::to_string(::getpid())}};
    return spec;
  }

private:
  static std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> out;
    std::string line;
    for (char c : text) {
      if (c == '\n') {
        if (!line.empty()) {
          out.push_back(line);
        }
        line.clear();
      } else {
        line += c;
      }
    }
    if (!line.empty()) {
      out.push_back(line);
    }
    return out;
  }

  const Dockerd& m_daemon;
  std::string m_app;
};

DockerScheduler make_scheduler(const Dockerd& daemon) {
  herald::docker::ClientOptions options;
  herald::scheduler::docker::DockerSchedulerOptions scheduler_options;
  scheduler_options.remove_grace = 1s; // busybox as PID 1 ignores SIGTERM: do not wait 10 s
  return DockerScheduler(herald::docker::Client(daemon.connection(), options), scheduler_options);
}

bool answers(const Instance& instance, const std::string& body) {
  if (!instance.address) {
    return false;
  }
  return eventually(
      [&] {
        HttpReply reply = http_request(instance.address->port, "GET", "/", "", 1000);
        return reply.status == 200 && reply.body.find(body) != std::string::npos;
      },
      10s);
}

} // namespace

TEST_CASE("docker scheduler starts a labelled instance the registrator would register") {
  Dockerd daemon;
  ensure_test_image(daemon);
  SchedulerApp app(daemon);
  DockerScheduler scheduler = make_scheduler(daemon);

  InstanceSpec spec = app.httpd("1", "hello one", "h1");
  spec.routing.domain = "example.com";
  spec.routing.tags = {"blue", "v1"};
  spec.routing.meta = {{"version", "1"}};
  spec.health = HealthCheck{"/"};
  spec.env = {{"MODE", "a"}, {"MODE", "b"}};
  scheduler.start(spec);

  Instance running = scheduler.wait({app.name(), "1"}, State::running, 30s, nullptr);
  CHECK(running.state == State::running);
  CHECK(running.spec_hash == "h1");
  CHECK(running.image == k_test_image);
  CHECK_FALSE(running.machine.empty());
  REQUIRE(running.address.has_value());
  CHECK(running.address->host == "127.0.0.1");
  CHECK(answers(running, "hello one"));

  auto listed = scheduler.list(app.name());
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].id == running.id);
  CHECK(scheduler.list().size() >= 1);

  // What `herald announce --docker-events` reads from it.
  herald::docker::Client client(daemon.connection());
  herald::docker::Container container = client.inspect("herald-" + app.name() + "-1");
  CHECK(container.env_value("MODE") == "b");
  auto services = herald::announce::container_services(container);
  REQUIRE(services.size() == 1);
  CHECK(services[0].name == app.name());
  CHECK(services[0].container_port == "8080/tcp");
  CHECK(services[0].tags == std::vector<std::string>{"blue", "v1"});
  CHECK(services[0].attributes.at("host") == app.name() + ".example.com");
  CHECK(services[0].attributes.at("version") == "1");
  CHECK(services[0].attributes.at("check_http") == "/");
  CHECK(services[0].attributes.at("check_interval") == "2s");
}

TEST_CASE("docker scheduler start is idempotent, replaces on a new spec hash, stops and removes") {
  Dockerd daemon;
  ensure_test_image(daemon);
  SchedulerApp app(daemon);
  DockerScheduler scheduler = make_scheduler(daemon);
  const InstanceName name{app.name(), "1"};

  scheduler.start(app.httpd("1", "version one", "h1"));
  Instance first = scheduler.wait(name, State::running, 30s, nullptr);
  scheduler.start(app.httpd("1", "version one", "h1"));
  CHECK(scheduler.find(name)->id == first.id);

  scheduler.start(app.httpd("1", "version two", "h2"));
  Instance second = scheduler.wait(name, State::running, 30s, nullptr);
  CHECK(second.id != first.id);
  CHECK(second.spec_hash == "h2");
  CHECK(answers(second, "version two"));

  CHECK(scheduler.stop(name, 1s));
  CHECK_FALSE(scheduler.stop(name, 1s));
  Instance stopped = *scheduler.find(name);
  CHECK(stopped.state == State::stopped);
  CHECK_FALSE(stopped.address.has_value());

  // The same spec starts the stopped container again.
  scheduler.start(app.httpd("1", "version two", "h2"));
  CHECK(scheduler.wait(name, State::running, 30s, nullptr).id == second.id);

  CHECK(scheduler.remove(name)); // running: stopped first, then removed
  CHECK_FALSE(scheduler.find(name).has_value());
  CHECK_FALSE(scheduler.remove(name));
  CHECK(scheduler.list(app.name()).empty());
}

TEST_CASE("docker scheduler reports a failing instance with its last log lines") {
  Dockerd daemon;
  ensure_test_image(daemon);
  SchedulerApp app(daemon);
  DockerScheduler scheduler = make_scheduler(daemon);
  InstanceSpec spec = app.httpd("1", "", "h1");
  spec.command = {"sh", "-c", "echo starting; echo 'bad config' >&2; exit 3"};
  scheduler.start(spec);

  // Docker restarts it (unless-stopped) with a growing delay: it is failed between two runs and
  // its restart count grows.
  const InstanceName name{app.name(), "1"};
  Instance seen = scheduler.wait(name, State::failed, 30s, nullptr);
  CHECK(seen.state == State::failed);
  CHECK(seen.detail.find("restarting (exit 3, ") == 0);
  CHECK(seen.restarts > 0);
  auto lines = scheduler.logs(name, 2);
  REQUIRE(lines.size() == 2);
  CHECK(((lines[0] == "starting" && lines[1] == "bad config") ||
         (lines[0] == "bad config" && lines[1] == "starting")));
  // Every run's lines, as `docker logs` has them; the engine copies a run's output to its log
  // apart from the restart it counts, so the second run's lines may come a moment later.
  CHECK(eventually([&] { return scheduler.logs(name, 100).size() >= 4; }, 10s));
}

TEST_CASE("docker scheduler names a missing image and the failed pull, and leaves nothing") {
  Dockerd daemon;
  SchedulerApp app(daemon);
  DockerScheduler scheduler = make_scheduler(daemon);
  InstanceSpec spec = app.httpd("1", "", "h1");
  spec.image = "herald-test/no-such-image:" + app.name();
  std::string message;
  ErrorKind kind = kind_of([&] { scheduler.start(spec); }, &message);
  // No registry answers here (unavailable); one that has no such repository says not_found.
  CHECK((kind == ErrorKind::unavailable || kind == ErrorKind::not_found));
  const std::string head = "could not pull image '" + spec.image + "': ";
  CHECK_MESSAGE(message.find(head) == 0, message);
  // Docker's words follow, then where the image is missing and what to do.
  const auto where = message.find(" (the image is not on docker at unix://");
  CHECK_MESSAGE((where != std::string::npos && where > head.size()), message);
  CHECK(message.find("): push it to a registry the engine reaches") != std::string::npos);
  CHECK(scheduler.list(app.name()).empty());
}

TEST_CASE("docker scheduler leaves no container behind a start that fails") {
  Dockerd daemon;
  ensure_test_image(daemon);
  SchedulerApp app(daemon);
  DockerScheduler scheduler = make_scheduler(daemon);
  scheduler.start(app.httpd("1", "one", "h1"));
  Instance first = scheduler.wait({app.name(), "1"}, State::running, 30s, nullptr);
  REQUIRE(first.address.has_value());

  // The same fixed host port again: Docker refuses to start the second container.
  InstanceSpec clash = app.httpd("2", "two", "h1");
  clash.host_port = first.address->port;
  CHECK_THROWS_AS(scheduler.start(clash), Error);
  CHECK_FALSE(scheduler.find({app.name(), "2"}).has_value());
  CHECK(scheduler.list(app.name()).size() == 1);
}

TEST_CASE("docker scheduler errors: unknown instance, invalid spec, engine unavailable") {
  Dockerd daemon;
  SchedulerApp app(daemon);
  DockerScheduler scheduler = make_scheduler(daemon);
  const InstanceName ghost{app.name(), "9"};
  CHECK(kind_of([&] { scheduler.stop(ghost, 1s); }) == ErrorKind::not_found);
  CHECK(kind_of([&] { scheduler.logs(ghost, 5); }) == ErrorKind::not_found);
  CHECK(kind_of([&] { scheduler.wait(ghost, State::running, 1s, nullptr); }) ==
        ErrorKind::not_found);
  CHECK_FALSE(scheduler.remove(ghost));

  InstanceSpec bad = app.httpd("1", "", "h1");
  bad.routing.meta = {{"Bad-Key", "x"}};
  CHECK(kind_of([&] { scheduler.start(bad); }) == ErrorKind::usage);
  CHECK(scheduler.list(app.name()).empty());

  auto machines = scheduler.machines();
  REQUIRE(machines.size() == 1);
  CHECK_FALSE(machines[0].id.empty());

  Options options;
  options.docker_host = "unix:///nonexistent/herald-test/docker.sock";
  auto nowhere = herald::scheduler::open(options);
  CHECK(nowhere->backend() == "docker");
  std::string message;
  CHECK(kind_of([&] { nowhere->list(); }, &message) == ErrorKind::unavailable);
  CHECK(exit_code_for(ErrorKind::unavailable) == ExitCode::unavailable);
  CHECK(message.find("not running") != std::string::npos);
}

TEST_SUITE_END();
