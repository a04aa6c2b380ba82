#pragma once

// What the docker integration tests (cluster, launch) share: a versioned test image and the
// clean-up of an app's containers.

#include "support/dockerd.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <sstream>
#include <string>
#include <vector>

namespace herald::test {

using namespace std::chrono_literals;

/// An image that serves its version at / and "ok" at /health on port 8080. sh is PID 1 with a
/// TERM trap, so a stop takes milliseconds (busybox httpd as PID 1 would ignore SIGTERM and cost
/// the stop grace on every replacement). The "broken" variant exits at once with a log line.
inline std::string versioned_image(const DockerCli& daemon, const std::string& version) {
  std::string tag = "herald-test/versioned:" + version;
  if (daemon.try_docker({"image", "inspect", "--format", "{{.Id}}", tag}).status == 0) {
    return tag;
  }
  std::string base = ensure_test_image(daemon);
  std::string cmd =
      version == "broken"
          ? R"(CMD ["sh", "-c", "echo 'fatal: no config for this version' >&2; exit 3"])"
          : R"(CMD ["sh", "-c", "mkdir -p /www && echo $VERSION > /www/index.html && )"
            R"(echo ok > /www/health && httpd -f -p 8080 -h /www & trap 'kill $!; exit 0' TERM; )"
            R"(wait"])";
  std::string container = daemon.docker({"create", "--label", "herald.test=1", base, "true"});
  TempDir dir;
  std::string tarball = dir.file("rootfs.tar");
  RunResult exported =
      run({"docker", "-H", daemon.host(), "export", "-o", tarball, container}, {}, 60s);
  daemon.try_docker({"rm", "-f", container});
  REQUIRE_MESSAGE(exported.status == 0, "docker export failed: " << exported.err);
  daemon.docker({"import", "--change", "ENV PATH=/bin", "--change", "ENV VERSION=" + version,
                 "--change", cmd, tarball, tag});
  return tag;
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
