#include "herald/cli/fleet_options.hpp"
#include "herald/core/error.hpp"

#include <doctest/doctest.h>
#include <map>

using herald::Error;
using herald::ErrorKind;
using namespace herald::cli;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

ErrorKind kind_of(const FleetFlags& flags, const EnvLookup& env, std::string* message) {
  try {
    resolve_fleet_settings(flags, env);
  } catch (const Error& e) {
    *message = e.what();
    return e.kind();
  }
  return ErrorKind::internal;
}

} // namespace

TEST_SUITE_BEGIN("cli");

TEST_CASE("fleet settings default to fleetctl's: the local socket, strict host keys") {
  auto settings = resolve_fleet_settings({}, env_of({}));
  CHECK(settings.endpoint == "unix:///var/run/fleet.sock");
  CHECK(settings.endpoint_source == "the default endpoint");
  CHECK_FALSE(settings.tunnel.has_value());
  CHECK(settings.strict_host_key_checking);
  CHECK(settings.known_hosts_file.empty());
  CHECK(settings.ssh_timeout == std::chrono::seconds(10));
  CHECK(settings.request_timeout == std::chrono::seconds(10));
  CHECK(settings.ssh_command == std::vector<std::string>{"ssh"});
}

TEST_CASE("fleetctl's variables fill what the flags leave out") {
  auto settings = resolve_fleet_settings({}, env_of({{"FLEETCTL_ENDPOINT", "http://10.0.0.1:49153"},
                                                     {"FLEETCTL_TUNNEL", "core@10.0.0.2:2222"},
                                                     {"FLEETCTL_STRICT_HOST_KEY_CHECKING", "false"},
                                                     {"FLEETCTL_KNOWN_HOSTS_FILE", "/tmp/kh"},
                                                     {"FLEETCTL_SSH_TIMEOUT", "2.5"},
                                                     {"FLEETCTL_REQUEST_TIMEOUT", "750ms"}}));
  CHECK(settings.endpoint == "http://10.0.0.1:49153");
  CHECK(settings.endpoint_source == "FLEETCTL_ENDPOINT");
  REQUIRE(settings.tunnel.has_value());
  CHECK(settings.tunnel->user == "core");
  CHECK(settings.tunnel->host == "10.0.0.2");
  CHECK(settings.tunnel->port == std::optional<std::uint16_t>(2222));
  CHECK_FALSE(settings.strict_host_key_checking);
  CHECK(settings.known_hosts_file == "/tmp/kh");
  CHECK(settings.ssh_timeout == std::chrono::milliseconds(2500));
  CHECK(settings.request_timeout == std::chrono::milliseconds(750));
}

TEST_CASE("flags win over HERALD_FLEET_*, which win over FLEETCTL_*") {
  auto env = env_of({{"HERALD_FLEET_ENDPOINT", "http://herald:1"},
                     {"FLEETCTL_ENDPOINT", "http://fleetctl:1"},
                     {"HERALD_FLEET_TUNNEL", "h1"},
                     {"FLEETCTL_TUNNEL", "f1"}});
  auto from_env = resolve_fleet_settings({}, env);
  CHECK(from_env.endpoint == "http://herald:1");
  CHECK(from_env.endpoint_source == "HERALD_FLEET_ENDPOINT");
  CHECK(from_env.tunnel->host == "h1");
  FleetFlags flags;
  flags.endpoint = "unix:///run/f.sock";
  flags.tunnel = "flag-host";
  flags.strict_host_key_checking = "true";
  auto from_flags = resolve_fleet_settings(flags, env);
  CHECK(from_flags.endpoint == "unix:///run/f.sock");
  CHECK(from_flags.endpoint_source == "--endpoint");
  CHECK(from_flags.tunnel->host == "flag-host");
  CHECK(from_flags.strict_host_key_checking);
}

TEST_CASE("HERALD_SSH_COMMAND replaces the ssh program, split at spaces") {
  auto settings = resolve_fleet_settings({}, env_of({{"HERALD_SSH_COMMAND", "ssh  -F /tmp/cfg "}}));
  CHECK(settings.ssh_command == std::vector<std::string>{"ssh", "-F", "/tmp/cfg"});
}

TEST_CASE("bad fleet settings are usage errors naming the flag or variable") {
  std::string message;
  FleetFlags flags;
  flags.strict_host_key_checking = "maybe";
  CHECK(kind_of(flags, env_of({}), &message) == ErrorKind::usage);
  CHECK(message.find("--strict-host-key-checking") != std::string::npos);

  CHECK(kind_of({}, env_of({{"FLEETCTL_SSH_TIMEOUT", "soon"}}), &message) == ErrorKind::usage);
  CHECK(message.find("FLEETCTL_SSH_TIMEOUT") != std::string::npos);

  CHECK(kind_of({}, env_of({{"FLEETCTL_TUNNEL", "-oProxyCommand=x"}}), &message) ==
        ErrorKind::usage);
  CHECK(message.find("FLEETCTL_TUNNEL") != std::string::npos);

  flags = {};
  flags.request_timeout = "0";
  CHECK(kind_of(flags, env_of({}), &message) == ErrorKind::usage);
}

TEST_SUITE_END();
