#include "support/dockerd.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <sstream>
#include <unistd.h>

namespace herald::test {

namespace {

std::string docker_binary() {
  std::string bin = find_program("docker");
  if (bin.empty()) {
    skip("the docker CLI is not installed (Debian package docker.io; run ./scripts/setup)");
  }
  return bin;
}

std::string chomp(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

bool process_alive(long pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

/// A busybox that runs in an empty rootfs must be static; the dynamic one names its loader.
bool is_static_binary(const std::string& path) {
  std::string head = read_file(path).substr(0, 4096);
  return head.rfind("\x7f"
                    "ELF",
                    0) == 0 &&
         head.find("ld-linux") == std::string::npos;
}

} // namespace

herald::docker::Connection DockerCli::connection() const {
  herald::docker::DockerEnv env;
  env.docker_host = m_host;
  return herald::docker::resolve_connection(env);
}

RunResult DockerCli::try_docker(const std::vector<std::string>& args,
                                std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv{docker_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, {{"DOCKER_HOST", m_host}}, timeout);
}

std::string DockerCli::docker(const std::vector<std::string>& args) const {
  RunResult r = try_docker(args);
  std::string command = "docker";
  for (const auto& a : args) {
    command += " " + a;
  }
  REQUIRE_MESSAGE(r.status == 0, command << " failed (" << r.status << "): " << r.err);
  return chomp(r.out);
}

Dockerd::Dockerd()
    : DockerCli([] {
        const char* env = std::getenv("DOCKER_HOST");
        return std::string(env != nullptr && *env != '\0' ? env : "unix:///var/run/docker.sock");
      }()) {
  RunResult r =
      try_docker({"version", "--format", "{{.Server.APIVersion}}"}, std::chrono::seconds(15));
  if (r.status != 0) {
    skip("no Docker daemon answers at " + host() +
         " (start one with ./scripts/docker-up as root): " + chomp(r.err));
  }
  // Containers left by test processes that crashed; those of running tests stay.
  RunResult ps = try_docker({"ps", "-a", "--filter", "label=herald.test=1", "--format",
                             "{{.ID}} {{.Label \"herald.test.pid\"}}"});
  for (const auto& line : nonempty_lines(ps.out)) {
    auto space = line.find(' ');
    long pid = space == std::string::npos ? 0 : std::atol(line.c_str() + space + 1);
    if (pid > 0 && !process_alive(pid)) {
      try_docker({"rm", "-f", "-v", line.substr(0, space)});
    }
  }
}

PrivateDockerd::PrivateDockerd() : DockerCli(""), m_dir(std::make_unique<TempDir>()) {
  if (::geteuid() != 0) {
    skip("starting a private dockerd needs root");
  }
  if (find_program("dockerd").empty()) {
    skip("dockerd is not installed (Debian package docker.io; run ./scripts/setup)");
  }
  set_host("unix://" + m_dir->file("docker.sock"));
  m_dir->write("daemon.json", "{}");
  // A bridge of its own: with `--bridge none` dockerd deletes the host's docker0 at start-up
  // (removeDefaultBridgeInterface), which breaks the shared daemon's containers.
  std::string ip = find_program("ip");
  if (ip.empty()) {
    skip("the ip command is not installed (Debian package iproute2)");
  }
  static int counter = 0;
  m_bridge = "hdk" + std::to_string(::getpid() % 10000000) + "-" + std::to_string(++counter);
  RunResult added = run({ip, "link", "add", m_bridge, "type", "bridge"});
  if (added.status != 0) {
    skip("could not create a bridge for a private dockerd: " + chomp(added.err));
  }
  try {
    start();
  } catch (...) {
    // No destructor runs for a constructor that throws (a skip is an exception too).
    run({ip, "link", "del", m_bridge});
    throw;
  }
}

PrivateDockerd::~PrivateDockerd() {
  if (m_process && m_process->running()) {
    RunResult ps = try_docker({"ps", "-aq"}, std::chrono::seconds(20));
    for (const auto& id : nonempty_lines(ps.out)) {
      try_docker({"rm", "-f", "-v", id}, std::chrono::seconds(20));
    }
    m_process->signal(SIGTERM);
    if (!m_process->wait(std::chrono::seconds(30))) {
      m_process->signal(SIGKILL);
      m_process->wait(std::chrono::seconds(5));
    }
  }
  if (!m_bridge.empty()) {
    run({find_program("ip"), "link", "del", m_bridge});
  }
}

void PrivateDockerd::start() {
  const TempDir& d = *m_dir;
  // The daemon.json of its own keeps /etc/docker/daemon.json out; its own bridge and no iptables
  // leave the host's networking alone; a short shutdown timeout keeps restarts quick.
  m_process = std::make_unique<Process>(std::vector<std::string>{
      find_program("dockerd"), "--host", host(), "--config-file", d.file("daemon.json"),
      "--data-root", d.file("data"), "--exec-root", d.file("exec"), "--pidfile",
      d.file("dockerd.pid"), "--bridge", m_bridge, "--iptables=false", "--ip-masq=false",
      "--shutdown-timeout", "2"});
  bool up = eventually(
      [&] {
        if (!m_process->running()) {
          return true;
        }
        return try_docker({"version", "--format", "{{.Server.APIVersion}}"},
                          std::chrono::seconds(5))
                   .status == 0;
      },
      std::chrono::seconds(60));
  if (!m_process->running()) {
    std::string err = m_process->err();
    run({find_program("ip"), "link", "del", m_bridge}); // skip() exits: no destructor runs
    skip("a private dockerd could not start here: " +
         (err.size() > 600 ? err.substr(err.size() - 600) : err));
  }
  REQUIRE_MESSAGE(up, "the private dockerd did not answer within 60 s: " << m_process->err());
}

void PrivateDockerd::stop() {
  m_process->signal(SIGTERM);
  REQUIRE_MESSAGE(m_process->wait(std::chrono::seconds(30)).has_value(),
                  "the private dockerd did not stop within 30 s");
}

int PrivateDockerd::pid() const {
  return static_cast<int>(m_process->pid());
}

std::string ensure_test_image(const DockerCli& daemon) {
  if (daemon.try_docker({"image", "inspect", "--format", "{{.Id}}", k_test_image}).status == 0) {
    return k_test_image;
  }
  std::string busybox = "/bin/busybox";
  if (!std::filesystem::exists(busybox)) {
    busybox = find_program("busybox");
  }
  if (busybox.empty() || !is_static_binary(busybox)) {
    skip("a static busybox is needed for the Docker test image (Debian package busybox-static)");
  }
  TempDir dir;
  std::filesystem::path root = std::filesystem::path(dir.path()) / "rootfs";
  std::filesystem::create_directories(root / "bin");
  std::filesystem::create_directories(root / "tmp");
  std::filesystem::copy_file(busybox, root / "bin" / "busybox");
  for (const char* applet : {"sh", "httpd", "sleep", "echo", "true", "false", "mkdir", "cat", "ls",
                             "kill", "env", "wget", "nc"}) {
    std::filesystem::create_symlink("busybox", root / "bin" / applet);
  }
  std::string tarball = dir.file("rootfs.tar");
  RunResult tar = run({"tar", "-C", root.string(), "-cf", tarball, "."});
  REQUIRE_MESSAGE(tar.status == 0, "tar failed: " << tar.err);
  daemon.docker({"import", "--change", "ENV PATH=/bin", tarball, k_test_image});
  return k_test_image;
}

std::string test_container_name(const std::string& tag) {
  static std::atomic<int> counter{0};
  return "herald-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + "-" + tag;
}

TestContainer::TestContainer(const DockerCli& daemon, std::vector<std::string> run_args,
                             std::vector<std::string> cmd)
    : m_daemon(daemon), m_name(test_container_name("c")) {
  std::vector<std::string> args{"run",     "-d",
                                "--name",  m_name,
                                "--label", "herald.test=1",
                                "--label", "herald.test.pid=" + std::to_string(::getpid())};
  args.insert(args.end(), run_args.begin(), run_args.end());
  args.push_back(k_test_image);
  args.insert(args.end(), cmd.begin(), cmd.end());
  m_id = daemon.docker(args);
}

TestContainer::~TestContainer() {
  m_daemon.try_docker({"rm", "-f", "-v", m_name}, std::chrono::seconds(30));
}

int TestContainer::host_port(int container_port) const {
  RunResult r = m_daemon.try_docker({"port", m_name, std::to_string(container_port) + "/tcp"});
  for (const auto& line : nonempty_lines(r.out)) {
    auto colon = line.rfind(':');
    if (line.rfind("127.0.0.1:", 0) == 0 && colon != std::string::npos) {
      return std::atoi(line.c_str() + colon + 1);
    }
  }
  return 0;
}

std::vector<std::string> httpd_command(const std::string& body) {
  return {"sh", "-c",
          "mkdir -p /www && echo '" + body +
              "' > /www/index.html && exec httpd -f -p 8080 -h /www"};
}

std::unique_ptr<TestContainer> run_httpd(const DockerCli& daemon, const std::string& body,
                                         std::vector<std::string> extra_run_args) {
  ensure_test_image(daemon);
  std::vector<std::string> run_args{"-p", "127.0.0.1::8080"};
  run_args.insert(run_args.end(), extra_run_args.begin(), extra_run_args.end());
  auto container = std::make_unique<TestContainer>(daemon, run_args, httpd_command(body));
  bool serving = eventually(
      [&] {
        int port = container->host_port(8080);
        return port > 0 && http_request(port, "GET", "/", "", 1000).status == 200;
      },
      std::chrono::seconds(15));
  REQUIRE_MESSAGE(serving, "httpd in " << container->name() << " did not answer on 127.0.0.1");
  return container;
}

} // namespace herald::test
