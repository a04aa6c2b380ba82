#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/docker/client.hpp"
#include "herald/docker/events.hpp"
#include "herald/docker/ports.hpp"
#include "support/dockerd.hpp"

#include <algorithm>
#include <chrono>
#include <doctest/doctest.h>
#include <grp.h>
#include <mutex>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using herald::Error;
using herald::ErrorKind;
using herald::StopToken;
using namespace herald::docker;
using namespace herald::test;

namespace {

std::int64_t now_nano() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Containers the test creates through herald's client, force-removed at the end.
class Scratch {
public:
  explicit Scratch(const DockerCli& daemon) : m_daemon(daemon) {}
  ~Scratch() {
    for (const auto& name : m_names) {
      m_daemon.try_docker({"rm", "-f", "-v", name}, std::chrono::seconds(30));
    }
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  /// A spec for busybox httpd serving `body` on container port 8080, published on 127.0.0.1.
  ContainerSpec httpd(const std::string& body) {
    ContainerSpec spec = base("httpd");
    spec.cmd = httpd_command(body);
    spec.publish = {{"8080", "127.0.0.1", ""}};
    return spec;
  }

  /// A spec for a container that only sleeps, on no network.
  ContainerSpec sleeper() {
    ContainerSpec spec = base("sleep");
    spec.cmd = {"sleep", "300"};
    spec.network_mode = "none";
    return spec;
  }

private:
  ContainerSpec base(const std::string& tag) {
    ContainerSpec spec;
    spec.image = k_test_image;
    spec.name = test_container_name(tag);
    spec.labels = {{"herald.test", "1"}, {"herald.test.pid", std::to_string(::getpid())}};
    m_names.push_back(spec.name);
    return spec;
  }

  const DockerCli& m_daemon;
  std::vector<std::string> m_names;
};

/// Collects events from another thread.
class EventLog {
public:
  bool add(const Event& event) {
    std::lock_guard lock(m_mutex);
    m_events.push_back(event);
    return true;
  }
  std::vector<Event> snapshot() const {
    std::lock_guard lock(m_mutex);
    return m_events;
  }
  /// How many events of `base_action` for container `id` arrived.
  int count(const std::string& id, const std::string& base_action) const {
    std::lock_guard lock(m_mutex);
    return static_cast<int>(std::count_if(m_events.begin(), m_events.end(), [&](const Event& e) {
      return e.actor_id == id && e.base_action == base_action;
    }));
  }

private:
  mutable std::mutex m_mutex;
  std::vector<Event> m_events;
};

ErrorKind kind_of(const std::function<void()>& action, std::string* message = nullptr) {
  try {
    action();
  } catch (const Error& e) {
    if (message != nullptr) {
      *message = e.what();
    }
    return e.kind();
  }
  FAIL("no error");
  return ErrorKind::internal;
}

} // namespace

TEST_SUITE_BEGIN("docker");

TEST_CASE("docker: the client pings the daemon and negotiates the API version it speaks") {
  Dockerd dockerd;
  Client client(dockerd.connection());
  auto daemon_version = client.ping();
  REQUIRE(daemon_version.has_value());
  std::string cli_says = dockerd.docker({"version", "--format", "{{.Server.APIVersion}}"});
  CHECK(daemon_version->str() == cli_says);
  CHECK(client.api_version() == std::min(*daemon_version, k_max_api_version));

  VersionInfo info = client.version();
  CHECK(info.api_version == cli_says);
  CHECK_FALSE(info.version.empty());
  CHECK(info.os == "linux");
}

TEST_CASE("docker: an API version the daemon refuses is a config error with its message") {
  Dockerd dockerd;
  Connection old = dockerd.connection();
  old.pinned_version = ApiVersion{1, 5};
  Client too_old(old);
  std::string message;
  CHECK(kind_of([&] { too_old.version(); }, &message) == ErrorKind::config);
  CHECK(message.find("client version 1.5 is too old") != std::string::npos);

  Connection future = dockerd.connection();
  future.pinned_version = ApiVersion{1, 99};
  Client too_new(future);
  CHECK(kind_of([&] { too_new.version(); }, &message) == ErrorKind::config);
  CHECK(message.find("1.99 is too new") != std::string::npos);
}

TEST_CASE("docker: a loopback-published httpd container's port is read and serves HTTP") {
  Dockerd dockerd;
  ensure_test_image(dockerd);
  Scratch scratch(dockerd);
  Client client(dockerd.connection());

  ContainerSpec spec = scratch.httpd("hello-from-busybox");
  std::string id = client.create(spec);
  CHECK(id.size() == 64);
  CHECK(client.start(spec.name));

  Container c = client.inspect(spec.name);
  CHECK(c.id == id);
  CHECK(c.name == spec.name);
  CHECK(c.running);
  CHECK(c.status == "running");
  CHECK(c.label("herald.test") == std::optional<std::string>("1"));
  CHECK(c.env_value("PATH") == std::optional<std::string>("/bin"));
  HostAddress address = published_address(c, "8080", "10.9.9.9");
  CHECK(address.host == "127.0.0.1"); // a concrete binding wins over the node address
  CHECK(address.port > 0);
  CHECK(dockerd.docker({"port", spec.name, "8080/tcp"}) ==
        "127.0.0.1:" + std::to_string(address.port));

  HttpReply reply;
  CHECK(eventually(
      [&] {
        reply = http_request(address.port, "GET", "/", "", 1000);
        return reply.status == 200;
      },
      std::chrono::seconds(10)));
  CHECK(reply.body == "hello-from-busybox\n");

  std::string message;
  CHECK(kind_of([&] { published_address(c, "3000", "10.9.9.9"); }, &message) == ErrorKind::data);
  CHECK(message == "container '" + spec.name +
                       "' does not publish port 3000/tcp: run it with -p 3000 or pass "
                       "--container-port");
}

TEST_CASE("docker: a restarted container publishes a new host port that serves HTTP") {
  Dockerd dockerd;
  ensure_test_image(dockerd);
  Scratch scratch(dockerd);
  Client client(dockerd.connection());
  ContainerSpec spec = scratch.httpd("restarted");
  client.create(spec);
  client.start(spec.name);
  std::uint16_t before = published_address(client.inspect(spec.name), "8080/tcp", "").port;

  client.restart(spec.name, std::chrono::seconds(0));
  Container after = client.inspect(spec.name);
  CHECK(after.running);
  std::uint16_t port = published_address(after, "8080/tcp", "").port;
  // Docker hands out ephemeral ports in sequence, so a restart moves to a different one.
  CHECK(port != before);
  CHECK(dockerd.docker({"port", spec.name, "8080/tcp"}) == "127.0.0.1:" + std::to_string(port));
  CHECK(eventually([&] { return http_request(port, "GET", "/", "", 1000).status == 200; },
                   std::chrono::seconds(10)));
}

TEST_CASE("docker: the events stream delivers a container's start and die, filtered") {
  Dockerd dockerd;
  ensure_test_image(dockerd);
  Scratch scratch(dockerd);
  ContainerSpec spec = scratch.sleeper();
  spec.labels["herald.test.events"] = spec.name;

  EventQuery query;
  query.filters = {{"type", {"container"}},
                   {"event", {"start", "die"}},
                   {"label", {"herald.test.events=" + spec.name}}};
  // Replaying from a second ago makes the test independent of when the stream connects.
  query.since_nano = now_nano() - 1'000'000'000;
  EventLog log;
  StopToken stop;
  std::thread reader([&] {
    Client stream_client(dockerd.connection());
    try {
      stream_client.events(
          query, [&](const Event& e) { return log.add(e); }, &stop);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::cancelled);
    }
  });

  Client client(dockerd.connection());
  std::string id = client.create(spec);
  client.start(id);
  client.kill(id);
  bool seen = eventually([&] { return log.count(id, "die") == 1; }, std::chrono::seconds(15));
  stop.request();
  reader.join();
  REQUIRE(seen);

  auto events = log.snapshot();
  REQUIRE(events.size() == 2); // no create or kill: the event filter applies
  CHECK(events[0].action == "start");
  CHECK(events[0].type == "container");
  CHECK(events[0].name() == spec.name);
  CHECK(events[0].attribute("herald.test.events") == std::optional<std::string>(spec.name));
  CHECK(events[1].action == "die");
  CHECK(events[1].attribute("exitCode") == std::optional<std::string>("137"));
  CHECK(events[0].time_nano <= events[1].time_nano);
  CHECK(events[0].time_nano >= *query.since_nano);

  // since/until in the past: the daemon replays the same two events and closes the stream.
  EventQuery replay = query;
  replay.until_nano = events[1].time_nano;
  std::vector<std::string> actions;
  client.events(replay, [&](const Event& e) {
    actions.push_back(e.action);
    return true;
  });
  CHECK(actions == std::vector<std::string>{"start", "die"});
}

TEST_CASE("docker: start, stop, kill and remove report what they did") {
  Dockerd dockerd;
  ensure_test_image(dockerd);
  Scratch scratch(dockerd);
  Client client(dockerd.connection());
  ContainerSpec spec = scratch.httpd("lifecycle");
  client.create(spec);
  CHECK(client.inspect(spec.name).status == "created");

  CHECK(client.start(spec.name));
  CHECK_FALSE(client.start(spec.name)); // already running: 304

  CHECK(client.stop(spec.name, std::chrono::seconds(1)));
  Container stopped = client.inspect(spec.name);
  CHECK_FALSE(stopped.running);
  CHECK(stopped.status == "exited");
  CHECK(stopped.ports.empty());
  CHECK_FALSE(client.stop(spec.name, std::chrono::seconds(1))); // already stopped: 304

  CHECK(client.start(spec.name));
  client.kill(spec.name, "KILL");
  CHECK(eventually([&] { return !client.inspect(spec.name).running; }, std::chrono::seconds(10)));
  CHECK(client.inspect(spec.name).exit_code == 137);
  std::string message;
  CHECK(kind_of([&] { client.kill(spec.name); }, &message) == ErrorKind::data);
  CHECK(message.find("is not running") != std::string::npos);

  client.remove(spec.name);
  CHECK_FALSE(client.find(spec.name).has_value());
  CHECK(kind_of([&] { client.remove(spec.name); }) == ErrorKind::not_found);
}

TEST_CASE("docker: removing a running container needs force") {
  Dockerd dockerd;
  ensure_test_image(dockerd);
  Scratch scratch(dockerd);
  Client client(dockerd.connection());
  ContainerSpec spec = scratch.sleeper();
  client.create(spec);
  client.start(spec.name);
  std::string message;
  CHECK(kind_of([&] { client.remove(spec.name); }, &message) == ErrorKind::data);
  CHECK(message.find("You cannot remove a running container") != std::string::npos);
  client.remove(spec.name, true, true);
  CHECK_FALSE(client.find(spec.name).has_value());
}

TEST_CASE("docker: a missing container is not_found \"no such container 'x'\"") {
  Dockerd dockerd;
  Client client(dockerd.connection());
  std::string name = test_container_name("missing");
  std::string message;
  CHECK(kind_of([&] { client.inspect(name); }, &message) == ErrorKind::not_found);
  CHECK(message == "no such container '" + name + "'");
  CHECK(kind_of([&] { client.start(name); }) == ErrorKind::not_found);
  CHECK_FALSE(client.find(name).has_value());
}

TEST_CASE("docker: creating from an image that is not there is not_found naming the image") {
  Dockerd dockerd;
  Client client(dockerd.connection());
  ContainerSpec spec;
  spec.image = "herald-test/no-such-image:latest";
  spec.cmd = {"true"};
  std::string message;
  CHECK(kind_of([&] { client.create(spec); }, &message) == ErrorKind::not_found);
  CHECK(message.find("herald-test/no-such-image:latest") != std::string::npos);
}

TEST_CASE("docker: the container list applies label and status filters") {
  Dockerd dockerd;
  ensure_test_image(dockerd);
  Scratch scratch(dockerd);
  Client client(dockerd.connection());
  std::string group = test_container_name("group");
  ContainerSpec running = scratch.sleeper();
  running.labels["herald.test.group"] = group;
  ContainerSpec created = scratch.sleeper();
  created.labels["herald.test.group"] = group;
  std::string running_id = client.create(running);
  client.create(created);
  client.start(running_id);

  ListOptions options;
  options.filters = {{"label", {"herald.test.group=" + group}}};
  auto only_running = client.list_containers(options);
  REQUIRE(only_running.size() == 1);
  CHECK(only_running[0].id == running_id);
  CHECK(only_running[0].name() == running.name);
  CHECK(only_running[0].state == "running");
  CHECK(only_running[0].labels.at("herald.test.group") == group);

  options.all = true;
  CHECK(client.list_containers(options).size() == 2);
  options.filters["status"] = {"created"};
  auto only_created = client.list_containers(options);
  REQUIRE(only_created.size() == 1);
  CHECK(only_created[0].name() == created.name);

  options.filters = {{"status", {"bogus"}}};
  std::string message;
  CHECK(kind_of([&] { client.list_containers(options); }, &message) == ErrorKind::data);
  CHECK(message.find("Invalid filter 'status=bogus'") != std::string::npos);
}

TEST_CASE("docker: a user outside the docker group gets permission denied with the hint") {
  Dockerd dockerd;
  Connection connection = dockerd.connection();
  if (connection.endpoint.unix_socket.empty() || ::geteuid() != 0) {
    skip("needs root and a unix-socket daemon to try the socket as another user");
  }
  // Only the child drops to "nobody"; it reports the kind and the message through a pipe.
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    std::string report = "no error";
    if (::setgroups(0, nullptr) == 0 && ::setgid(65534) == 0 && ::setuid(65534) == 0) {
      try {
        Client client(connection);
        client.ping();
      } catch (const Error& e) {
        report = std::string(herald::to_string(e.kind())) + "|" + e.what();
      }
    } else {
      report = "could not drop privileges";
    }
    [[maybe_unused]] auto n = ::write(fds[1], report.data(), report.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string report;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) {
    report.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CAPTURE(report);
  CHECK(report.starts_with("config|permission denied on " + connection.endpoint.unix_socket));
  CHECK(report.find("docker group") != std::string::npos);
}

TEST_CASE("docker: the event follower resumes after a daemon restart without losing events") {
  PrivateDockerd dockerd;
  ensure_test_image(dockerd);
  MESSAGE("private dockerd pid " << dockerd.pid() << " at " << dockerd.host());

  EventQuery query;
  query.filters = {{"type", {"container"}}, {"event", {"start"}}};
  EventLog log;
  StopToken stop;
  std::mutex resync_mutex;
  std::string during_resync_id;
  int reconnects = 0;
  auto resync_id = [&] {
    std::lock_guard lock(resync_mutex);
    return during_resync_id;
  };
  std::thread follower_thread([&] {
    Client client(dockerd.connection(), ClientOptions{});
    EventFollower follower(
        client, query,
        FollowOptions{{std::chrono::milliseconds(50), std::chrono::milliseconds(500)}});
    try {
      follower.run(
          stop, [&](const Event& e) { return log.add(e); },
          [&] {
            ++reconnects;
            // What a resync would do: the stream is not open yet, so only since= can deliver
            // this start.
            RunResult r = dockerd.try_docker({"run", "-d", "--network", "none", "--label",
                                              "herald.test=1", k_test_image, "sleep", "300"});
            std::lock_guard lock(resync_mutex);
            during_resync_id = r.status == 0 ? r.out.substr(0, r.out.find('\n')) : "failed";
          });
    } catch (const Error& e) {
      FAIL("follower failed: " << e.what());
    }
  });

  std::string before_id = dockerd.docker(
      {"run", "-d", "--network", "none", "--label", "herald.test=1", k_test_image, "sleep", "300"});
  bool seen_before =
      eventually([&] { return log.count(before_id, "start") == 1; }, std::chrono::seconds(15));

  dockerd.stop();
  dockerd.start();
  bool seen_after =
      eventually([&] { return !resync_id().empty() && log.count(resync_id(), "start") == 1; },
                 std::chrono::seconds(30));
  std::string after_id = dockerd.docker(
      {"run", "-d", "--network", "none", "--label", "herald.test=1", k_test_image, "sleep", "300"});
  bool seen_live =
      eventually([&] { return log.count(after_id, "start") == 1; }, std::chrono::seconds(15));
  stop.request();
  follower_thread.join();

  CHECK(seen_before);
  CHECK(seen_after);
  CHECK(seen_live);
  CHECK(reconnects == 1);
  CHECK(log.count(before_id, "start") == 1); // not replayed twice
  CHECK(log.count(resync_id(), "start") == 1);
}

TEST_SUITE_END();
