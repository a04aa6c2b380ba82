#include "herald/cli/fleet_options.hpp"

#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"

#include <fmt/format.h>

namespace herald::cli {

namespace {

/// The flag when given, else the first variable set; `source` names where it came from.
std::optional<std::string> pick(const std::string& flag, const char* flag_name,
                                const EnvLookup& env, std::initializer_list<const char*> names,
                                std::string& source) {
  if (!flag.empty()) {
    source = flag_name;
    return flag;
  }
  for (const char* name : names) {
    if (auto value = env(name)) {
      source = name;
      return value;
    }
  }
  return std::nullopt;
}

bool parse_bool(const std::string& text, const std::string& what) {
  // Go's strconv.ParseBool, as fleetctl's flag package reads it.
  for (const char* yes : {"1", "t", "T", "true", "TRUE", "True"}) {
    if (text == yes) {
      return true;
    }
  }
  for (const char* no : {"0", "f", "F", "false", "FALSE", "False"}) {
    if (text == no) {
      return false;
    }
  }
  throw Error(ErrorKind::usage, fmt::format("{}: '{}' is not true or false", what, text));
}

} // namespace

fleet::ConnectionSettings resolve_fleet_settings(const FleetFlags& flags, const EnvLookup& env) {
  fleet::ConnectionSettings settings;
  std::string source;
  if (auto endpoint = pick(flags.endpoint, "--endpoint", env,
                           {"HERALD_FLEET_ENDPOINT", "FLEETCTL_ENDPOINT"}, source)) {
    settings.endpoint = *endpoint;
    settings.endpoint_source = source;
  }
  if (auto tunnel =
          pick(flags.tunnel, "--tunnel", env, {"HERALD_FLEET_TUNNEL", "FLEETCTL_TUNNEL"}, source)) {
    settings.tunnel = fleet::parse_tunnel_destination(trim(*tunnel), source);
  }
  if (auto strict = pick(flags.strict_host_key_checking, "--strict-host-key-checking", env,
                         {"FLEETCTL_STRICT_HOST_KEY_CHECKING"}, source)) {
    settings.strict_host_key_checking = parse_bool(std::string(trim(*strict)), source);
  }
  if (auto file = pick(flags.known_hosts_file, "--known-hosts-file", env,
                       {"FLEETCTL_KNOWN_HOSTS_FILE"}, source)) {
    settings.known_hosts_file = *file;
  }
  if (auto timeout =
          pick(flags.ssh_timeout, "--ssh-timeout", env, {"FLEETCTL_SSH_TIMEOUT"}, source)) {
    settings.ssh_timeout = parse_duration(trim(*timeout), source);
  }
  if (auto timeout = pick(flags.request_timeout, "--request-timeout", env,
                          {"FLEETCTL_REQUEST_TIMEOUT"}, source)) {
    settings.request_timeout = parse_duration(trim(*timeout), source);
  }
  for (auto* duration : {&settings.ssh_timeout, &settings.request_timeout}) {
    if (duration->count() <= 0) {
      throw Error(ErrorKind::usage,
                  fmt::format("{}: a timeout must be more than 0", duration == &settings.ssh_timeout
                                                                       ? "--ssh-timeout"
                                                                       : "--request-timeout"));
    }
  }
  if (auto command = env("HERALD_SSH_COMMAND")) {
    settings.ssh_command.clear();
    for (const std::string& word : split(*command, ' ')) {
      if (!trim(word).empty()) {
        settings.ssh_command.emplace_back(trim(word));
      }
    }
    if (settings.ssh_command.empty()) {
      settings.ssh_command.emplace_back("ssh");
    }
  }
  return settings;
}

} // namespace herald::cli
