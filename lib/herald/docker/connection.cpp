#include "herald/docker/connection.hpp"

#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"

#include <filesystem>
#include <fmt/format.h>

namespace herald::docker {

DockerEnv DockerEnv::from_process() {
  DockerEnv env;
  env.docker_host = getenv_nonempty("DOCKER_HOST");
  env.docker_cert_path = getenv_nonempty("DOCKER_CERT_PATH");
  env.docker_tls_verify = getenv_nonempty("DOCKER_TLS_VERIFY");
  env.docker_tls = getenv_nonempty("DOCKER_TLS");
  env.docker_api_version = getenv_nonempty("DOCKER_API_VERSION");
  env.home = getenv_nonempty("HOME");
  return env;
}

namespace {

bool non_empty(const std::optional<std::string>& value) {
  return value && !trim(*value).empty();
}

/// True when the authority ("h", "h:1", "[::1]", "[::1]:1") names a port.
bool has_port(std::string_view authority) {
  auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  auto close = authority.rfind(']');
  return close == std::string_view::npos || close < colon;
}

/// DOCKER_HOST's "tcp://host" means port 2375 (2376 with TLS), not http's 80.
std::string with_default_port(std::string_view host, bool tls) {
  auto sep = host.find("://");
  std::string_view rest = sep == std::string_view::npos ? host : host.substr(sep + 3);
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (authority.empty() || has_port(authority)) {
    return std::string(host);
  }
  std::string out(host.substr(0, host.size() - rest.size()));
  out += authority;
  out += tls ? ":2376" : ":2375";
  if (slash != std::string_view::npos) {
    out += rest.substr(slash);
  }
  return out;
}

void tls_files(const DockerEnv& env, bool verify, http::TlsOptions& tls) {
  std::string dir;
  std::string dir_source;
  if (non_empty(env.docker_cert_path)) {
    dir = *env.docker_cert_path;
    dir_source = "DOCKER_CERT_PATH";
  } else if (non_empty(env.home)) {
    dir = *env.home + "/.docker";
    dir_source = "the default DOCKER_CERT_PATH";
  }
  auto file = [&](const char* name) -> std::string {
    if (dir.empty()) {
      return {};
    }
    std::filesystem::path path = std::filesystem::path(dir) / name;
    std::error_code ec;
    return std::filesystem::exists(path, ec) ? path.string() : std::string();
  };
  tls.ca_file = file("ca.pem");
  tls.cert_file = file("cert.pem");
  tls.key_file = file("key.pem");
  tls.insecure_skip_verify = !verify;
  if (verify && tls.ca_file.empty()) {
    throw Error(
        ErrorKind::config,
        fmt::format("DOCKER_TLS_VERIFY is set but there is no ca.pem in {} ({}): set "
                    "DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem",
                    dir.empty() ? "DOCKER_CERT_PATH" : dir, dir_source));
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    throw Error(ErrorKind::config,
                fmt::format("{} holds {} but not {}: a client certificate needs both cert.pem and "
                            "key.pem",
                            dir, tls.cert_file.empty() ? "key.pem" : "cert.pem",
                            tls.cert_file.empty() ? "cert.pem" : "key.pem"));
  }
}

} // namespace

Connection resolve_connection(const DockerEnv& env) {
  Connection connection;
  std::string host;
  if (non_empty(env.docker_host)) {
    host = std::string(trim(*env.docker_host));
    connection.source = "DOCKER_HOST";
  } else {
    host = std::string("unix://") + k_default_socket;
    connection.source = "default";
  }
  std::string what = connection.source == "DOCKER_HOST" ? "DOCKER_HOST" : "the default Docker host";

  if (non_empty(env.docker_api_version)) {
    connection.pinned_version = parse_api_version(*env.docker_api_version, "DOCKER_API_VERSION");
  }

  if (host.starts_with("unix:")) {
    // TLS settings mean nothing on a local socket; the docker CLI ignores them there too.
    connection.endpoint = http::parse_endpoint(host, what);
    return connection;
  }

  auto sep = host.find("://");
  std::string scheme = sep == std::string::npos ? "tcp" : host.substr(0, sep);
  if (scheme != "tcp" && scheme != "http" && scheme != "https") {
    throw Error(ErrorKind::config,
                fmt::format("{}={} uses {}://, which herald does not support: use unix:///PATH or "
                            "tcp://HOST:PORT (for a remote daemon over ssh, forward its socket: "
                            "ssh -L /tmp/docker.sock:/var/run/docker.sock HOST, then "
                            "DOCKER_HOST=unix:///tmp/docker.sock)",
                            what, host, scheme));
  }
  bool verify = non_empty(env.docker_tls_verify);
  // An explicit http:// stays plain; tcp:// follows the TLS variables as the docker CLI does.
  bool tls =
      scheme == "https" ||
      (scheme == "tcp" && (verify || non_empty(env.docker_tls) || non_empty(env.docker_cert_path)));
  if (sep == std::string::npos) {
    host = "tcp://" + host;
  }
  connection.endpoint = http::parse_endpoint(with_default_port(host, tls), what);
  if (tls) {
    connection.endpoint.scheme = "https";
    tls_files(env, verify, connection.tls);
  }
  return connection;
}

} // namespace herald::docker
