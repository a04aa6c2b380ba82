// The fleet connection flags, one group shared by every command that talks to fleet.
#include "commands/commands.hpp"

namespace herald::commands {

void add_fleet_options(CLI::App& cmd, cli::FleetFlags& flags) {
  auto* group = "Fleet connection";
  cmd.add_option("--endpoint", flags.endpoint,
                 "fleet's API: unix:///PATH or http://HOST:PORT, comma-separated for several; with "
                 "--tunnel, where fleet listens on that machine [env FLEETCTL_ENDPOINT; default "
                 "unix:///var/run/fleet.sock]")
      ->group(group);
  cmd.add_option("--tunnel", flags.tunnel,
                 "Reach fleet through an ssh tunnel to [USER@]HOST[:PORT], using the system's ssh "
                 "(~/.ssh/config, agent, known_hosts) [env FLEETCTL_TUNNEL]")
      ->group(group);
  // A flag that also takes =false, as fleetctl's: --strict-host-key-checking=false.
  cmd.add_flag("--strict-host-key-checking{true}", flags.strict_host_key_checking,
               "Refuse a host key that is not in known_hosts; =false accepts any (default true) "
               "[env FLEETCTL_STRICT_HOST_KEY_CHECKING]")
      ->group(group);
  cmd.add_option("--known-hosts-file", flags.known_hosts_file,
                 "known_hosts for the tunnel (default: ssh's own)")
      ->group(group);
  cmd.add_option("--ssh-timeout", flags.ssh_timeout,
                 "How long connecting the tunnel may take (default 10s; a bare number is seconds)")
      ->group(group);
  cmd.add_option("--request-timeout", flags.request_timeout,
                 "How long one request to fleet may take (default 10s)")
      ->group(group);
}

} // namespace herald::commands
