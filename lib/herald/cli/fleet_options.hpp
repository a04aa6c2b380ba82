#pragma once

#include "herald/cli/global_options.hpp"
#include "herald/fleet/connection.hpp"

#include <string>

namespace herald::cli {

/// The fleet connection flags every command that talks to fleet shares (unit, cluster, launch),
/// as typed (empty = not given). Names and meanings are fleetctl's.
struct FleetFlags {
  std::string endpoint;                 ///< --endpoint URL[,URL]
  std::string tunnel;                   ///< --tunnel [USER@]HOST[:PORT]
  std::string strict_host_key_checking; ///< --strict-host-key-checking true|false
  std::string known_hosts_file;         ///< --known-hosts-file FILE
  std::string ssh_timeout;              ///< --ssh-timeout DURATION (a bare number is seconds)
  std::string request_timeout;          ///< --request-timeout DURATION
};

/// The fleet connection resolved flag > HERALD_FLEET_ENDPOINT / HERALD_FLEET_TUNNEL > fleetctl's
/// FLEETCTL_ENDPOINT, FLEETCTL_TUNNEL, FLEETCTL_STRICT_HOST_KEY_CHECKING,
/// FLEETCTL_KNOWN_HOSTS_FILE, FLEETCTL_SSH_TIMEOUT, FLEETCTL_REQUEST_TIMEOUT > defaults
/// (unix:///var/run/fleet.sock, strict, ssh's known_hosts, 10s, 10s); HERALD_SSH_COMMAND
/// replaces the ssh program ("ssh -F ~/deploy/ssh_config"). Bad values are Error(usage) naming
/// the flag or variable.
fleet::ConnectionSettings resolve_fleet_settings(const FleetFlags& flags,
                                                 const EnvLookup& env = process_env());

} // namespace herald::cli
