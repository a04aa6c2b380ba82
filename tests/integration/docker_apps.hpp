#pragma once

// What the docker integration tests (cluster, launch) share: test images made from the busybox
// rootfs, herald's registrator started and announced, and the clean-up of an app's containers.

#include "support/dockerd.hpp"
#include "support/etcd_server.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace herald::test {

using namespace std::chrono_literals;

/// `tag` made on `daemon` unless it is there: the busybox rootfs of ensure_test_image() imported
/// again with PATH=/bin and `changes` (Dockerfile lines: "ENV X=1", "CMD [...]").
inline std::string import_test_image(const DockerCli& daemon, const std::string& tag,
                                     const std::vector<std::string>& changes) {
  if (daemon.try_docker({"image", "inspect", "--format", "{{.Id}}", tag}).status == 0) {
    return tag;
  }
  std::string base = ensure_test_image(daemon);
  std::string container = daemon.docker({"create", "--label", "herald.test=1", base, "true"});
  TempDir dir;
  std::string tarball = dir.file("rootfs.tar");
  RunResult exported =
      run({"docker", "-H", daemon.host(), "export", "-o", tarball, container}, {}, 60s);
  daemon.try_docker({"rm", "-f", container});
  REQUIRE_MESSAGE(exported.status == 0, "docker export failed: " << exported.err);
  std::vector<std::string> args{"import", "--change", "ENV PATH=/bin"};
  for (const std::string& change : changes) {
    args.insert(args.end(), {"--change", change});
  }
  args.insert(args.end(), {tarball, tag});
  daemon.docker(args);
  return tag;
}

/// An image that serves its version at / and "ok" at /health on port 8080. sh is PID 1 with a
/// TERM trap, so a stop takes milliseconds (busybox httpd as PID 1 would ignore SIGTERM and cost
/// the stop grace on every replacement). The "broken" variant exits at once with a log line.
inline std::string versioned_image(const DockerCli& daemon, const std::string& version) {
  std::string cmd =
      version == "broken"
          ? R"(CMD ["sh", "-c", "echo 'fatal: no config for this version' >&2; exit 3"])"
          : R"(CMD ["sh", "-c", "mkdir -p /www && echo $VERSION > /www/index.html && )"
            R"(echo ok > /www/health && httpd -f -p 8080 -h /www & trap 'kill $!; exit 0' TERM; )"
            R"(wait"])";
  return import_test_image(daemon, "herald-test/versioned:" + version,
                           {"ENV VERSION=" + version, cmd});
}

/// herald's registrator (`announce --docker-events`) on `daemon`, registering under `prefix` in
/// `registry_url` as node n1, once it has announced itself (what cluster up waits for).
inline std::unique_ptr<Process> start_registrator(const DockerCli& daemon, const EtcdServer& etcd,
                                                  const std::string& prefix) {
  auto registrator =
      std::make_unique<Process>(std::vector<std::string>{herald_bin(), "--registry", etcd.v3_url(),
                                                         "announce", "--docker-events", "--prefix",
                                                         prefix, "--node", "n1", "--ttl", "30s"},
                                std::map<std::string, std::string>{{"DOCKER_HOST", daemon.host()}});
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        return !etcd.etcdctl({"get", "--prefix", "--keys-only",
                                              "/herald/registrators" + prefix + "/"})
                                    .empty();
                      },
                      15s),
                  registrator->err());
  return registrator;
}

/// Removes every container of `app` when the test ends, whatever happened.
class AppContainers {
public:
  AppContainers(const DockerCli& daemon, std::string app)
      : m_daemon(daemon), m_app(std::move(app)) {}
  ~AppContainers() {
    for (const auto& id : ids()) {
      m_daemon.try_docker({"rm", "-f", "-v", id}, 30s);
    }
  }
  AppContainers(const AppContainers&) = delete;
  AppContainers& operator=(const AppContainers&) = delete;

  std::vector<std::string> ids() const {
    RunResult r = m_daemon.try_docker({"ps", "-aq", "--filter", "label=herald.app=" + m_app}, 30s);
    std::vector<std::string> out;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) {
        out.push_back(line);
      }
    }
    return out;
  }

private:
  const DockerCli& m_daemon;
  std::string m_app;
};

} // namespace herald::test
