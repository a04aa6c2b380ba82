#include "support/fleet_double.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace herald::test;
using namespace std::chrono_literals;
using nlohmann::json;

// herald unit ... --tunnel: the system's OpenSSH forwards a local unix socket to fleet's socket
// on the "remote" machine. A real sshd (Debian's openssh-server) runs on 127.0.0.1 with its own
// config, a generated host key and a generated user key; the fleet double listens on a unix
// socket standing in for /var/run/fleet.sock there.

namespace {

/// A private sshd on a free 127.0.0.1 port, and an ssh client config that trusts only it.
class Sshd {
public:
  Sshd() {
    std::string sshd = find_program("sshd");
    m_keygen = find_program("ssh-keygen");
    if (sshd.empty() || m_keygen.empty() || find_program("ssh").empty()) {
      skip("openssh-server and openssh-client are needed (scripts/setup installs them)");
    }
    if (::geteuid() != 0) {
      skip("sshd's privilege separation needs root to run a private sshd");
    }
    // sshd refuses to start without its privilege separation directory, which Debian's
    // service creates at boot; tests run where no sshd service ever ran.
    if (!std::filesystem::exists("/run/sshd")) {
      std::filesystem::create_directories("/run/sshd");
      ::chmod("/run/sshd", 0755);
    }
    keygen(host_key());
    keygen(m_dir.file("id_ed25519"));
    std::string pub = read_file(m_dir.file("id_ed25519.pub"));
    m_dir.write("authorized_keys", pub);
    ::chmod(m_dir.file("authorized_keys").c_str(), 0600);
    m_port = free_port();
    m_dir.write("sshd_config", "Port " + std::to_string(m_port) +
                                   "\nListenAddress 127.0.0.1\nHostKey " + host_key() +
                                   "\nPidFile " + m_dir.file("sshd.pid") + "\nAuthorizedKeysFile " +
                                   m_dir.file("authorized_keys") +
                                   "\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
                                   "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
                                   "PermitRootLogin prohibit-password\nAllowTcpForwarding yes\n"
                                   "AllowStreamLocalForwarding yes\nLogLevel VERBOSE\n");
    // known_hosts holds the real host key; the client config points at it.
    trust(m_dir.file("known_hosts"), host_key() + ".pub");
    m_dir.write("ssh_config", "Host *\n  IdentityFile " + m_dir.file("id_ed25519") +
                                  "\n  IdentitiesOnly yes\n  IdentityAgent none\n"
                                  "  UserKnownHostsFile " +
                                  m_dir.file("known_hosts") +
                                  "\n  GlobalKnownHostsFile /dev/null\n"
                                  "  PasswordAuthentication no\n");
    m_process = std::make_unique<Process>(
        std::vector<std::string>{sshd, "-D", "-e", "-f", m_dir.file("sshd_config")});
    bool up = eventually([&] { return port_open(m_port) || !m_process->running(); }, 20s);
    if (!up || !m_process->running()) {
      FAIL("sshd did not start: " << m_process->err());
    }
  }

  ~Sshd() {
    if (m_process) {
      m_process->signal(SIGTERM);
      if (!m_process->wait(5s)) {
        m_process->signal(SIGKILL);
        m_process->wait(5s);
      }
    }
  }

  int port() const { return m_port; }
  std::string destination() const { return "root@127.0.0.1:" + std::to_string(m_port); }
  /// HERALD_SSH_COMMAND: ssh with this test's client config (never the user's ~/.ssh).
  std::string ssh_command() const { return "ssh -F " + m_dir.file("ssh_config"); }
  std::string host_key() const { return m_dir.file("host_ed25519"); }
  const TempDir& dir() const { return m_dir; }
  std::string log() const { return m_process ? m_process->err() : ""; }

  /// A new key pair at `path`.
  void keygen(const std::string& path) const {
    auto result = run({m_keygen, "-q", "-t", "ed25519", "-N", "", "-f", path}, {}, 30s);
    REQUIRE_MESSAGE(result.status == 0, result.err);
  }

  /// Writes a known_hosts file at `file` trusting the public key `pub` for this sshd.
  void trust(const std::string& file, const std::string& pub) const {
    std::string key = read_file(pub);
    key = key.substr(0, key.find(' ', key.find(' ') + 1)); // "ssh-ed25519 AAAA..."
    std::ofstream out(file);
    out << "[127.0.0.1]:" << m_port << " " << key << "\n";
  }

private:
  TempDir m_dir;
  std::string m_keygen;
  int m_port = 0;
  std::unique_ptr<Process> m_process;
};

/// herald's environment: this sshd's client config, no agent, and a private TMPDIR, where the
/// tunnel makes its socket directory (so that parallel tests cannot see each other's).
std::map<std::string, std::string> env_for(const Sshd& sshd, const TempDir& tmp) {
  return {{"FLEETCTL_ENDPOINT", ""},     {"FLEETCTL_TUNNEL", ""},
          {"HERALD_FLEET_ENDPOINT", ""}, {"HERALD_FLEET_TUNNEL", ""},
          {"SSH_AUTH_SOCK", ""},         {"HERALD_SSH_COMMAND", sshd.ssh_command()},
          {"HERALD_LOG_FORMAT", "text"}, {"JOURNAL_STREAM", ""},
          {"TMPDIR", tmp.path()}};
}

std::vector<std::string> tunnel_argv(const Sshd& sshd, const FleetDouble& fleet,
                                     std::vector<std::string> args) {
  std::vector<std::string> argv{herald_bin(), "unit"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--tunnel", sshd.destination(), "--endpoint",
                           "unix://" + fleet.socket_path(), "--ssh-timeout", "20s"});
  return argv;
}

/// Processes whose command line mentions a socket under `tmp`: a tunnel's ssh.
int tunnel_processes(const TempDir& tmp) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string cmdline = read_file(entry.path().string() + "/cmdline");
    if (cmdline.find(tmp.path() + "/herald-fleet-") != std::string::npos) {
      ++count;
    }
  }
  return count;
}

/// The tunnel's private socket directories (herald-fleet-*) under `tmp`.
std::size_t tunnel_dirs(const TempDir& tmp) {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(tmp.path())) {
    count += entry.path().filename().string().rfind("herald-fleet-", 0) == 0 ? 1 : 0;
  }
  return count;
}

} // namespace

TEST_SUITE_BEGIN("unit");

TEST_CASE("unit machines and start go through an ssh tunnel, which is gone afterwards") {
  Sshd sshd;
  FleetDouble fleet({true, {}, {}});
  TempDir tmp;
  auto machines =
      run(tunnel_argv(sshd, fleet, {"machines", "-o", "json"}), env_for(sshd, tmp), 60s);
  REQUIRE_MESSAGE(machines.status == 0, machines.err << "\nsshd: " << sshd.log());
  CHECK(json::parse(machines.out)["machines"].size() == 2);

  TempDir units;
  units.write("app.service", "[Service]\nExecStart=/bin/sh -c 'sleep 1000'\n");
  auto start = run(tunnel_argv(sshd, fleet, {"start", units.file("app.service"), "-o", "json"}),
                   env_for(sshd, tmp), 60s);
  REQUIRE_MESSAGE(start.status == 0, start.err);
  CHECK(json::parse(start.out)["units"][0]["state"] == "active/running");
  CHECK(tunnel_dirs(tmp) == 0);
}

TEST_CASE("--known-hosts-file with another key for the host fails with ssh's reason") {
  Sshd sshd;
  FleetDouble fleet({true, {}, {}});
  std::string other = sshd.dir().file("other_host");
  sshd.keygen(other);
  std::string known = sshd.dir().file("wrong_known_hosts");
  sshd.trust(known, other + ".pub");
  TempDir tmp;
  auto argv = tunnel_argv(sshd, fleet, {"machines"});
  argv.insert(argv.end(), {"--known-hosts-file", known});
  auto result = run(argv, env_for(sshd, tmp), 60s);
  CHECK(result.status == 69);
  CHECK(result.err.find("ssh tunnel to " + sshd.destination() + " failed") != std::string::npos);
  CHECK(result.err.find("Host key verification failed.") != std::string::npos);
  CHECK(result.err.find("has changed") != std::string::npos);
  // one line: "herald: unit machines: ssh tunnel ... failed: ..."
  CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  INFO("requests fleet saw: " << fleet.get("/_double/requests").body);
  CHECK(fleet.request_count() == 0);

  // An unknown host is refused too, unless --strict-host-key-checking=false.
  std::string empty = sshd.dir().write("empty_known_hosts", "");
  argv = tunnel_argv(sshd, fleet, {"machines"});
  argv.insert(argv.end(), {"--known-hosts-file", empty});
  auto unknown = run(argv, env_for(sshd, tmp), 60s);
  CHECK(unknown.status == 69);
  CHECK(unknown.err.find("host key is known") != std::string::npos);
  argv.emplace_back("--strict-host-key-checking=false");
  auto loose = run(argv, env_for(sshd, tmp), 60s);
  CHECK_MESSAGE(loose.status == 0, loose.err);
  CHECK(read_file(empty).empty()); // nothing recorded
}

TEST_CASE("a tunnel to a machine where fleet does not listen says so") {
  Sshd sshd;
  FleetDouble fleet({true, {}, {}});
  TempDir tmp;
  auto argv = tunnel_argv(sshd, fleet, {"ls"});
  for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == "--endpoint") {
      argv[i + 1] = "unix://" + sshd.dir().file("no-fleet.sock");
    }
  }
  auto result = run(argv, env_for(sshd, tmp), 60s);
  CHECK(result.status == 69);
  CHECK(result.err.find("fleet does not answer at " + sshd.dir().file("no-fleet.sock")) !=
        std::string::npos);
  CHECK(result.err.find("open failed") != std::string::npos);
}

TEST_CASE("Ctrl-C while waiting tears the tunnel down and exits 130") {
  Sshd sshd;
  FleetDouble fleet({true, {}, {}});
  fleet.control("never-start?unit=slow.service");
  TempDir units;
  units.write("slow.service", "[Service]\nExecStart=/bin/sh -c 'sleep 1000'\n");
  TempDir tmp;
  Process herald(tunnel_argv(sshd, fleet, {"start", units.file("slow.service")}),
                 env_for(sshd, tmp));
  // Wait until the unit is launched in fleet: herald is then polling through the tunnel.
  bool launched = eventually(
      [&] {
        auto reply = fleet.get("/fleet/v1/units/slow.service");
        return reply.status == 200 && reply.body.find("\"launched\"") != std::string::npos;
      },
      30s);
  REQUIRE_MESSAGE(launched, herald.err());
  CHECK(tunnel_dirs(tmp) == 1);
  CHECK(tunnel_processes(tmp) == 1);
  herald.signal(SIGINT);
  auto status = herald.wait(20s);
  REQUIRE(status.has_value());
  CHECK(*status == 130);
  CHECK(tunnel_dirs(tmp) == 0);
  // ssh went with it (it ran in its own process group, so herald stopped it).
  CHECK(eventually([&] { return tunnel_processes(tmp) == 0; }, 5s));
}

TEST_SUITE_END();
