#pragma once

#include "herald/core/stop.hpp"
#include "herald/fleet/client.hpp"
#include "herald/fleet/tunnel.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace herald::fleet {

/// fleetd's default socket, fleetctl's default endpoint.
inline constexpr const char* k_default_endpoint = "unix:///var/run/fleet.sock";

/// How to reach fleet, resolved from flags and environment (cli/fleet_options.hpp).
struct ConnectionSettings {
  /// fleetctl's --endpoint: "unix:///var/run/fleet.sock", "http://HOST:PORT", a comma-separated
  /// list (tried in order), or a bare socket path. With a tunnel: where fleet listens on the
  /// remote machine (one endpoint).
  std::string endpoint = k_default_endpoint;
  /// Names the flag or variable `endpoint` came from, for messages ("--endpoint",
  /// "FLEETCTL_ENDPOINT", "the default endpoint").
  std::string endpoint_source = "the default endpoint";
  /// --tunnel: reach fleet through ssh to this machine.
  std::optional<TunnelDestination> tunnel;
  bool strict_host_key_checking = true;
  std::string known_hosts_file;
  std::chrono::milliseconds ssh_timeout{10000};
  std::chrono::milliseconds request_timeout{10000};
  /// The ssh program and its first options (HERALD_SSH_COMMAND).
  std::vector<std::string> ssh_command{"ssh"};
};

/// An open way to fleet: the parsed endpoints and, with --tunnel, the running SshTunnel (torn
/// down with this object). Hands out one Client per thread.
class Connection {
public:
  /// Parses the endpoint (Error(config) naming its source) and brings the tunnel up (see
  /// SshTunnel). `stop` cancels the set-up and every request of the clients made here.
  Connection(const ConnectionSettings& settings, const StopToken* stop);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// A new client over this connection; Clients are not thread-safe, Connection::client() is.
  Client client() const;

  /// "unix:///var/run/fleet.sock", "/var/run/fleet.sock on core@10.0.0.1 (ssh tunnel)".
  const std::string& describe() const { return m_display; }

  /// The tunnel, when there is one.
  const SshTunnel* tunnel() const { return m_tunnel.get(); }

private:
  std::vector<http::Endpoint> m_endpoints;
  std::unique_ptr<SshTunnel> m_tunnel;
  ClientOptions m_client_options;
  std::string m_display;
};

/// The endpoints of `text` (see ConnectionSettings::endpoint); Error(config) naming `source`.
std::vector<http::Endpoint> parse_endpoints(std::string_view text, std::string_view source);

} // namespace herald::fleet
