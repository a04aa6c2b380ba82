#include "herald/core/error.hpp"
#include "herald/fleet/connection.hpp"
#include "herald/fleet/tunnel.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <signal.h>

using herald::Error;
using herald::ErrorKind;
using namespace herald::fleet;

namespace {

bool has_pair(const std::vector<std::string>& argv, const std::string& flag,
              const std::string& value) {
  for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag && argv[i + 1] == value) {
      return true;
    }
  }
  return false;
}

/// A stand-in for ssh: a shell script that complains the way ssh does and exits 255.
TunnelOptions fake_ssh(const std::string& script) {
  TunnelOptions options;
  options.destination = parse_tunnel_destination("core@10.0.0.1", "test");
  options.ssh_command = {"/bin/sh", "-c", script, "ssh"};
  options.timeout = std::chrono::seconds(5);
  return options;
}

ErrorKind failure_of(const TunnelOptions& options, std::string* message) {
  try {
    SshTunnel tunnel(options);
  } catch (const Error& e) {
    *message = e.what();
    return e.kind();
  }
  return ErrorKind::internal;
}

} // namespace

TEST_SUITE_BEGIN("fleet");

TEST_CASE("tunnel destinations parse as fleetctl's --tunnel") {
  auto full = parse_tunnel_destination("core@10.0.0.1:2222", "--tunnel");
  CHECK(full.user == "core");
  CHECK(full.host == "10.0.0.1");
  CHECK(full.port == std::optional<std::uint16_t>(2222));
  CHECK(full.str() == "core@10.0.0.1:2222");
  auto bare = parse_tunnel_destination("node1", "--tunnel");
  CHECK(bare.user.empty());
  CHECK_FALSE(bare.port.has_value());
  auto v6 = parse_tunnel_destination("[::1]:22", "--tunnel");
  CHECK(v6.host == "::1");
  CHECK(v6.str() == "[::1]:22");
  CHECK(parse_tunnel_destination("fe80::1", "--tunnel").host == "fe80::1");
  for (const char* bad :
       {"", "-oProxyCommand=sh", "core@-x", "a b", "h:0", "h:99999", "@h", "h:", "[::1"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_tunnel_destination(bad, "--tunnel"), Error);
  }
}

TEST_CASE("ssh_arguments: a forward only, strict by default, the host after --") {
  TunnelOptions options;
  options.destination = parse_tunnel_destination("core@10.0.0.1:2222", "t");
  options.known_hosts_file = "/tmp/kh";
  options.timeout = std::chrono::milliseconds(2500);
  auto argv = ssh_arguments(options, "/tmp/d/fleet.sock");
  CHECK(argv.front() == "ssh");
  CHECK(std::find(argv.begin(), argv.end(), "-N") != argv.end());
  CHECK(has_pair(argv, "-o", "ExitOnForwardFailure=yes"));
  CHECK(has_pair(argv, "-o", "BatchMode=yes"));
  CHECK(has_pair(argv, "-o", "StrictHostKeyChecking=yes"));
  CHECK(has_pair(argv, "-o", "UserKnownHostsFile=/tmp/kh"));
  CHECK(has_pair(argv, "-o", "ConnectTimeout=3"));
  CHECK(has_pair(argv, "-L", "/tmp/d/fleet.sock:/var/run/fleet.sock"));
  CHECK(has_pair(argv, "-l", "core"));
  CHECK(has_pair(argv, "-p", "2222"));
  REQUIRE(argv.size() >= 2);
  CHECK(argv[argv.size() - 2] == "--");
  CHECK(argv.back() == "10.0.0.1");

  options.strict_host_key_checking = false;
  options.remote = "127.0.0.1:49153";
  options.ssh_command = {"ssh", "-F", "/tmp/cfg"};
  auto loose = ssh_arguments(options, "/tmp/d/fleet.sock");
  CHECK(loose[1] == "-F");
  CHECK(has_pair(loose, "-o", "StrictHostKeyChecking=no"));
  CHECK(has_pair(loose, "-o", "UserKnownHostsFile=/dev/null"));
  CHECK_FALSE(has_pair(loose, "-o", "UserKnownHostsFile=/tmp/kh"));
  CHECK(has_pair(loose, "-L", "/tmp/d/fleet.sock:127.0.0.1:49153"));
}

TEST_CASE("a tunnel that fails says ssh's last line, on one line, and leaves nothing behind") {
  std::string message;
  auto options = fake_ssh("printf 'No ED25519 host key is known for [10.0.0.1]:22 and you "
                          "have requested strict checking.\\r\\nHost key verification "
                          "failed.\\r\\n' >&2; exit 255");
  CHECK(failure_of(options, &message) == ErrorKind::unavailable);
  CHECK(message.find("ssh tunnel to core@10.0.0.1 failed: Host key verification failed. (No "
                     "ED25519 host key is known") != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.find('\r') == std::string::npos);

  options = fake_ssh("echo 'ssh: connect to host 10.0.0.1 port 22: Connection refused' >&2; "
                     "exit 255");
  CHECK(failure_of(options, &message) == ErrorKind::unavailable);
  CHECK(message.find("Connection refused") != std::string::npos);
}

TEST_CASE("control characters from ssh's stderr are escaped") {
  std::string message;
  auto options = fake_ssh("printf 'evil \\033[2J banner\\n' >&2; exit 255");
  failure_of(options, &message);
  CHECK(message.find('\033') == std::string::npos);
  CHECK(message.find("\\x1b[2J") != std::string::npos);
}

TEST_CASE("a missing ssh program is a configuration error") {
  std::string message;
  TunnelOptions options;
  options.destination = parse_tunnel_destination("h", "t");
  options.ssh_command = {"/nonexistent/herald-ssh"};
  CHECK(failure_of(options, &message) == ErrorKind::config);
  CHECK(message.find("/nonexistent/herald-ssh") != std::string::npos);
}

TEST_CASE("a tunnel that never comes up times out and its ssh is stopped") {
  std::string message;
  auto options = fake_ssh("echo 'waiting' >&2; exec sleep 30");
  options.timeout = std::chrono::milliseconds(300);
  auto started = std::chrono::steady_clock::now();
  CHECK(failure_of(options, &message) == ErrorKind::unavailable);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
  CHECK(message.find("--ssh-timeout") != std::string::npos);
}

TEST_CASE("a stop request ends the wait for the tunnel") {
  herald::StopToken stop;
  stop.request();
  auto options = fake_ssh("exec sleep 30");
  options.stop = &stop;
  std::string message;
  CHECK(failure_of(options, &message) == ErrorKind::cancelled);
}

TEST_CASE("a tunnel is up once its socket accepts, and gone with the object") {
  // A stand-in ssh that listens on the -L socket with python3, standing for the forward.
  std::string script =
      "for a; do case $a in *fleet.sock:*) sock=${a%%:*};; esac; done; exec python3 -c "
      "\"import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); "
      "s.listen(); time.sleep(60)\" \"$sock\"";
  auto options = fake_ssh(script);
  options.timeout = std::chrono::seconds(20);
  std::string socket;
  pid_t pid = -1;
  {
    SshTunnel tunnel(options);
    socket = tunnel.local_socket();
    pid = tunnel.pid();
    CHECK(std::filesystem::exists(socket));
    CHECK(tunnel.describe() == "/var/run/fleet.sock on core@10.0.0.1 (ssh tunnel)");
    CHECK(::kill(pid, 0) == 0);
  }
  CHECK_FALSE(std::filesystem::exists(socket));
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(socket).parent_path()));
  CHECK(::kill(pid, 0) != 0);
}

TEST_CASE("parse_endpoints takes fleetctl's forms") {
  auto list = parse_endpoints("unix:///var/run/fleet.sock, http://10.0.0.1:49153", "--endpoint");
  REQUIRE(list.size() == 2);
  CHECK(list[0].unix_socket == "/var/run/fleet.sock");
  CHECK(list[1].port == 49153);
  CHECK(parse_endpoints("/run/fleet.sock", "e")[0].unix_socket == "/run/fleet.sock");
  CHECK_THROWS_AS(parse_endpoints("", "--endpoint"), Error);
  CHECK_THROWS_AS(parse_endpoints("ftp://x:1", "--endpoint"), Error);
}

TEST_CASE("a tunnel takes one plain endpoint") {
  ConnectionSettings settings;
  settings.endpoint = "https://10.0.0.1:49153";
  settings.tunnel = parse_tunnel_destination("h", "t");
  CHECK_THROWS_AS(Connection(settings, nullptr), Error);
  settings.endpoint = "http://a:1,http://b:1";
  CHECK_THROWS_AS(Connection(settings, nullptr), Error);
}

TEST_SUITE_END();
