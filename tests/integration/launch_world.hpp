#pragma once

// The world of the launcher's end-to-end tests (launch_test.cpp, launch_browser_test.cpp): a real
// etcd, herald's registrator on the shared Docker engine, nginx kept in step by `herald render
// --watch` from the bundled nginx-path.tmpl, the launcher announced where that template looks,
// and a cluster file whose apps are this test process's own.

#include "integration/docker_apps.hpp"
#include "support/dockerd.hpp"
#include "support/etcd_server.hpp"
#include "support/nginx.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace herald::test {

using namespace std::chrono_literals;

/// An image serving its APP_NAME at /APP_NAME/ and "ok" at /health on 8080 (sh as PID 1 with a
/// TERM trap, as versioned_image()).
inline std::string named_image(const DockerCli& daemon) {
  return import_test_image(
      daemon, "herald-test/named:1",
      {R"(CMD ["sh", "-c", "mkdir -p /www/$APP_NAME && echo $APP_NAME > /www/$APP_NAME/index.html )"
       R"(&& echo ok > /www/health && httpd -f -p 8080 -h /www & trap 'kill $!; exit 0' TERM; )"
       R"(wait"])"});
}

/// What one curl through nginx got.
struct Answer {
  int status = 0;
  std::string body;
  std::string retry_after;
  std::string content_type;
};

/// GET http://127.0.0.1:PORT/PATH with `headers`, without following redirects.
inline Answer curl_get(int port, const std::string& path, std::vector<std::string> headers = {}) {
  std::vector<std::string> argv{
      "curl", "-s", "-S", "--max-time",
      "20",   "-D", "-",  "http://127.0.0.1:" + std::to_string(port) + path};
  for (const std::string& header : headers) {
    argv.insert(argv.end(), {"-H", header});
  }
  RunResult r = run(argv, {}, 30s);
  Answer out;
  std::string text = r.out;
  auto end = text.find("\r\n\r\n");
  std::string head = end == std::string::npos ? text : text.substr(0, end);
  out.body = end == std::string::npos ? "" : text.substr(end + 4);
  std::istringstream lines(head);
  std::string line;
  if (std::getline(lines, line) && line.size() > 12) {
    out.status = std::atoi(line.c_str() + 9);
  }
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    std::string lower = line;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower.rfind("retry-after:", 0) == 0) {
      out.retry_after = line.substr(12);
    } else if (lower.rfind("content-type:", 0) == 0) {
      out.content_type = line.substr(13);
    }
  }
  return out;
}

struct LaunchWorld {
  Dockerd daemon;
  EtcdServer etcd;
  TempDir dir;
  std::string pid = std::to_string(::getpid());
  std::string root = "/l" + pid;
  std::string prefix = root + "/services/web";
  std::vector<std::unique_ptr<AppContainers>> containers;
  std::unique_ptr<Process> registrator;
  std::unique_ptr<Nginx> nginx;
  std::unique_ptr<Process> render;
  std::unique_ptr<Process> launcher;
  int launcher_port = 0;

  std::string app(const std::string& base) const { return base + "-" + pid; }

  LaunchWorld() {
    std::string image = named_image(daemon);
    for (const char* base : {"a", "b", "c", "d", "e", "f", "g", "h"}) {
      containers.push_back(std::make_unique<AppContainers>(daemon, app(base)));
    }
    registrator = start_registrator(daemon, etcd, prefix);
    std::ostringstream yaml;
    yaml << "registry: {url: \"" << etcd.v3_url() << "\", prefix: \"" << prefix << "\"}\n"
         << "scheduler: {kind: docker, endpoint: \"" << daemon.host() << "\", host_ip: 127.0.0.1}\n"
         << "apps:\n";
    for (const char* base : {"a", "b", "c"}) {
      yaml << "  - name: " << app(base) << "\n    image: " << image
           << "\n    port: 8080\n    routing: path\n    env: {APP_NAME: " << app(base) << "}\n";
    }
    yaml << "  - name: \"{name}-" << pid << "\"\n    image: " << image
         << "\n    port: 8080\n    routing: path\n    env: {APP_NAME: \"{name}-" << pid
         << "\"}\n    health: {path: /health, interval: 500ms, timeout: 400ms}\n"
         << "launch:\n  allow: [\"*-" << pid << "\"]\n  deny: [\"g-*\"]\n";
    dir.write("cluster.yaml", yaml.str());
  }

  ~LaunchWorld() {
    for (auto* process : {launcher.get(), render.get(), registrator.get()}) {
      if (process != nullptr) {
        process->signal(SIGTERM);
        process->wait(10s);
      }
    }
  }

  RunResult herald(std::vector<std::string> args, std::chrono::seconds timeout = 120s) const {
    std::vector<std::string> argv{herald_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, {}, timeout);
  }

  /// nginx with nginx-path.tmpl rendered on every change of this test's keys and launchers.
  void start_router(std::map<std::string, std::string> env = {}) {
    nginx = std::make_unique<Nginx>(dir);
    nginx->start();
    render = std::make_unique<Process>(
        std::vector<std::string>{
            herald_bin(),   "--registry",
            etcd.v3_url(),  "render",
            "--template",   std::string(HERALD_SOURCE_DIR) + "/templates/nginx-path.tmpl",
            "--dest",       nginx->conf_d() + "/apps.conf",
            "--prefix",     root,
            "--keys",       "/services/web",
            "--keys",       "/services/launchers",
            "--check-cmd",  nginx->check_cmd(),
            "--reload-cmd", nginx->reload_cmd(),
            "--watch",      "--wait",
            "500ms:2s"},
        [&] {
          env["HERALD_NGINX_LISTEN"] = std::to_string(nginx->port());
          return env;
        }());
  }

  void start_launcher(std::vector<std::string> extra = {}) {
    launcher_port = free_port();
    std::vector<std::string> argv{herald_bin(),
                                  "--registry",
                                  etcd.v3_url(),
                                  "launch",
                                  "serve",
                                  "-f",
                                  dir.file("cluster.yaml"),
                                  "--listen",
                                  "127.0.0.1:" + std::to_string(launcher_port),
                                  "--announce-prefix",
                                  root + "/services/launchers",
                                  "--node",
                                  "n1",
                                  "--client-rate",
                                  "0",
                                  "--timeout",
                                  "60s"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    launcher = std::make_unique<Process>(
        argv, std::map<std::string, std::string>{{"DOCKER_HOST", daemon.host()}});
    REQUIRE_MESSAGE(eventually([&] { return port_open(launcher_port); }, 15s), launcher->err());
  }

  /// GET PATH through nginx.
  Answer curl_get_router(const std::string& path, std::vector<std::string> headers = {}) const {
    return curl_get(nginx->port(), path, std::move(headers));
  }

  /// The body nginx answers for /APP/ ("" unless 200).
  std::string through_router(const std::string& name) const {
    return nginx->get("localhost", "/" + name + "/");
  }

  int containers_of(const std::string& name) const {
    RunResult r = daemon.try_docker({"ps", "-aq", "--filter", "label=herald.app=" + name}, 30s);
    return static_cast<int>(nonempty_lines(r.out).size());
  }
};

} // namespace herald::test
