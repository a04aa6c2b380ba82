#pragma once

#include "herald/docker/api_version.hpp"
#include "herald/http/client.hpp"

#include <optional>
#include <string>

namespace herald::docker {

/// The Docker client's environment variables, read once so that resolve_connection() stays a
/// pure, testable function.
struct DockerEnv {
  std::optional<std::string> docker_host;        ///< DOCKER_HOST
  std::optional<std::string> docker_cert_path;   ///< DOCKER_CERT_PATH
  std::optional<std::string> docker_tls_verify;  ///< DOCKER_TLS_VERIFY
  std::optional<std::string> docker_tls;         ///< DOCKER_TLS (the CLI's --tls without verify)
  std::optional<std::string> docker_api_version; ///< DOCKER_API_VERSION
  std::optional<std::string> home;               ///< HOME, for the default ~/.docker

  /// The variables of this process (unset and empty both count as absent).
  static DockerEnv from_process();
};

/// Where and how to reach a Docker daemon.
struct Connection {
  http::Endpoint endpoint; ///< unix socket, or http(s)://host:port
  http::TlsOptions tls;    ///< set when the endpoint is https
  /// DOCKER_API_VERSION: use this version and skip negotiation.
  std::optional<ApiVersion> pinned_version;
  /// Where the address came from ("DOCKER_HOST", "default"), for error messages.
  std::string source;

  /// "unix:///var/run/docker.sock", "https://h:2376"
  std::string str() const { return endpoint.str(); }
};

/// The socket every Linux Docker daemon listens on by default.
inline constexpr const char* k_default_socket = "/var/run/docker.sock";

/// Resolves the daemon address the way the docker CLI does: DOCKER_HOST (`unix:///path`,
/// `tcp://host:port`, `host:port`; default the unix socket), TLS when DOCKER_TLS_VERIFY or
/// DOCKER_TLS is non-empty or DOCKER_CERT_PATH is set, with ca.pem, cert.pem and key.pem from
/// DOCKER_CERT_PATH (default ~/.docker). Unsupported schemes (ssh://, fd://, npipe://), bad
/// addresses and missing certificate files are Error(config) naming the variable.
Connection resolve_connection(const DockerEnv& env);

} // namespace herald::docker
