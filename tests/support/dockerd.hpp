#pragma once

#include "herald/docker/connection.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <memory>
#include <string>
#include <vector>

namespace herald::test {

/// The local image every Docker test runs: a busybox rootfs made with `docker import`.
inline constexpr const char* k_test_image = "herald-test/busybox:latest";

/// The docker CLI pointed at one daemon.
class DockerCli {
public:
  explicit DockerCli(std::string host) : m_host(std::move(host)) {}
  virtual ~DockerCli() = default;

  /// The daemon's DOCKER_HOST value, "unix:///var/run/docker.sock".
  const std::string& host() const { return m_host; }
  /// The herald Docker connection to it.
  herald::docker::Connection connection() const;
  /// Runs `docker ARGS` against it; REQUIREs success and returns stdout without the final
  /// newline.
  std::string docker(const std::vector<std::string>& args) const;
  /// Runs `docker ARGS` against it and returns whatever happened.
  RunResult try_docker(const std::vector<std::string>& args,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;

protected:
  void set_host(std::string host) { m_host = std::move(host); }

private:
  std::string m_host;
};

/// The shared Docker daemon at DOCKER_HOST (default /var/run/docker.sock), used when it answers
/// /_ping; otherwise the test is skipped (scripts/docker-up starts one). Removes leftover test
/// containers of test processes that no longer run.
class Dockerd : public DockerCli {
public:
  Dockerd();
};

/// A dockerd of the test's own: its own socket, data and exec roots in a temp dir, a bridge of
/// its own and no iptables rules, so a test can stop and restart it without disturbing the shared
/// daemon. Containers on it use `--network none`. Skipped unless running as root with dockerd
/// installed. Stopped, with its containers, on destruction.
class PrivateDockerd : public DockerCli {
public:
  PrivateDockerd();
  ~PrivateDockerd() override;
  PrivateDockerd(const PrivateDockerd&) = delete;
  PrivateDockerd& operator=(const PrivateDockerd&) = delete;

  /// SIGTERM and wait until it exited (its containers stop with it).
  void stop();
  /// Starts it again on the same socket and roots and waits until it answers.
  void start();
  /// Its process id, for the test's log.
  int pid() const;

private:
  std::unique_ptr<TempDir> m_dir;
  std::unique_ptr<Process> m_process;
  std::string m_bridge; ///< its own bridge interface, deleted on destruction
};

/// Builds k_test_image on `daemon` unless it is there: `docker import` of a rootfs holding the
/// static /bin/busybox (Debian busybox-static) with links for sh, httpd, sleep, echo, mkdir, ...
/// and PATH=/bin. Skips the test when busybox-static is not installed. Returns k_test_image.
std::string ensure_test_image(const DockerCli& daemon);

/// A container run for one test, labelled herald.test=1 (and the test's pid) and force-removed
/// on destruction.
class TestContainer {
public:
  /// `docker run -d --name NAME --label herald.test=1 RUN_ARGS k_test_image CMD...`.
  TestContainer(const DockerCli& daemon, std::vector<std::string> run_args,
                std::vector<std::string> cmd);
  ~TestContainer();
  TestContainer(const TestContainer&) = delete;
  TestContainer& operator=(const TestContainer&) = delete;

  const std::string& id() const { return m_id; }
  const std::string& name() const { return m_name; }
  /// The 127.0.0.1 host port Docker published for `container_port`/tcp (per `docker port`),
  /// 0 when none.
  int host_port(int container_port) const;

private:
  const DockerCli& m_daemon;
  std::string m_name;
  std::string m_id;
};

/// A unique container name for this test process: "herald-test-PID-N-TAG".
std::string test_container_name(const std::string& tag);

/// The command that serves `body` at / with busybox httpd on container port 8080.
std::vector<std::string> httpd_command(const std::string& body);

/// Runs busybox httpd serving `body` with container port 8080 published on 127.0.0.1 on an
/// ephemeral host port (`-p 127.0.0.1::8080`), and waits until it answers.
std::unique_ptr<TestContainer> run_httpd(const DockerCli& daemon, const std::string& body,
                                         std::vector<std::string> extra_run_args = {});

} // namespace herald::test
