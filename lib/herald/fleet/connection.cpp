#include "herald/fleet/connection.hpp"

#include "herald/core/error.hpp"

#include <fmt/format.h>
#include <unistd.h>

namespace herald::fleet {

namespace {

/// What the ssh forward reaches on the remote machine for `endpoint`.
std::string remote_target(const http::Endpoint& endpoint, std::string_view source) {
  if (!endpoint.unix_socket.empty()) {
    return endpoint.unix_socket;
  }
  if (endpoint.scheme != "http") {
    throw Error(ErrorKind::config,
                fmt::format("{}: {} cannot go through --tunnel: the tunnel forwards plain HTTP "
                            "(use http://HOST:PORT or the unix socket)",
                            source, endpoint.str()));
  }
  return endpoint.host.find(':') != std::string::npos
             ? fmt::format("[{}]:{}", endpoint.host, endpoint.port)
             : fmt::format("{}:{}", endpoint.host, endpoint.port);
}

/// A local socket that is not there says more than curl's "Couldn't connect to server".
std::optional<Error> explain_missing_socket(const std::string& path, const std::string& source,
                                            const Error& failure) {
  if (failure.kind() != ErrorKind::unavailable || ::access(path.c_str(), F_OK) == 0) {
    return std::nullopt;
  }
  return Error(ErrorKind::unavailable,
               fmt::format("no fleet at {} ({}): {} does not exist; is fleetd running on this "
                           "machine? Reach another one with --endpoint http://HOST:PORT or "
                           "--tunnel HOST",
                           path, source, path));
}

} // namespace

Connection::Connection(const ConnectionSettings& settings, const StopToken* stop) {
  m_endpoints = parse_endpoints(settings.endpoint, settings.endpoint_source);
  m_client_options.request_timeout = settings.request_timeout;
  m_client_options.stop = stop;
  if (!settings.tunnel) {
    for (const http::Endpoint& endpoint : m_endpoints) {
      m_display += (m_display.empty() ? "" : ",") + endpoint.str();
    }
    m_client_options.display = m_display;
    if (m_endpoints.size() == 1 && !m_endpoints.front().unix_socket.empty()) {
      std::string path = m_endpoints.front().unix_socket;
      std::string source = settings.endpoint_source;
      m_client_options.explain_failure = [path, source](const Error& failure) {
        return explain_missing_socket(path, source, failure);
      };
    }
    return;
  }
  if (m_endpoints.size() != 1) {
    throw Error(ErrorKind::config,
                fmt::format("{}: give one endpoint with --tunnel (the address fleet listens on "
                            "at {}), not {}",
                            settings.endpoint_source, settings.tunnel->str(), m_endpoints.size()));
  }
  TunnelOptions tunnel;
  tunnel.destination = *settings.tunnel;
  tunnel.remote = remote_target(m_endpoints.front(), settings.endpoint_source);
  tunnel.strict_host_key_checking = settings.strict_host_key_checking;
  tunnel.known_hosts_file = settings.known_hosts_file;
  tunnel.timeout = settings.ssh_timeout;
  tunnel.ssh_command = settings.ssh_command;
  tunnel.stop = stop;
  m_tunnel = std::make_unique<SshTunnel>(std::move(tunnel));

  http::Endpoint local;
  local.unix_socket = m_tunnel->local_socket();
  local.base_path = m_endpoints.front().base_path;
  m_endpoints = {local};
  m_display = m_tunnel->describe();
  m_client_options.display = m_display;
  const SshTunnel* raw = m_tunnel.get();
  m_client_options.explain_failure = [raw](const Error& failure) { return raw->explain(failure); };
}

Connection::~Connection() = default;

Client Connection::client() const {
  return Client(m_endpoints, m_client_options);
}

} // namespace herald::fleet
