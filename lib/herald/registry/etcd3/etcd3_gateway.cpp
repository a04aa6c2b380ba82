#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/registry/etcd3/etcd3_gateway_impl.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <utility>

namespace herald::registry::etcd3 {

using nlohmann::json;

Gateway::Gateway(const Location& location, const Options& options)
    : m_client_options(http_client_options(options, "etcd")),
      m_client(location.endpoints, m_client_options), m_user(options.username),
      m_password(options.password) {}

http::Request Gateway::make_request(std::string_view rpc, std::string body) const {
  http::Request request;
  request.method = "POST";
  request.path = m_api_prefix + std::string(rpc);
  request.body = std::move(body);
  if (!m_token.empty()) {
    request.headers.push_back("Authorization: " + m_token);
  }
  return request;
}

json Gateway::call(std::string_view rpc, const json& body) {
  ensure_token();
  Recovery recovery;
  while (true) {
    http::Request request = make_request(rpc, body.dump());
    http::Response response = m_client.send(request);
    if (response.ok()) {
      m_api_prefix_known = true;
      return parse_body(response.body, fmt::format("POST {}", request.path));
    }
    auto error = parse_gateway_error(response.body);
    if (recover(response, error, recovery)) {
      continue;
    }
    throw_error(request, response, error);
  }
}

bool Gateway::recover(const http::Response& response, const std::optional<GatewayError>& error,
                      Recovery& recovery) {
  return find_prefix(response, error, recovery) || (error && renew_token(error->message, recovery));
}

bool Gateway::renew_token(std::string_view message, Recovery& recovery) {
  if (recovery.reauthenticated || !is_invalid_token(message) || !can_reauthenticate()) {
    return false;
  }
  // Simple tokens expire after a few idle minutes: one fresh token, one retry.
  recovery.reauthenticated = true;
  authenticate();
  return true;
}

bool Gateway::find_prefix(const http::Response& response, const std::optional<GatewayError>& error,
                          Recovery& recovery) {
  if (recovery.prefix_detected || !is_missing_path(response, error)) {
    return false;
  }
  recovery.prefix_detected = true;
  detect_api_prefix(response);
  return true;
}

bool Gateway::is_missing_path(const http::Response& response,
                              const std::optional<GatewayError>& error) const {
  // A gRPC error can be 404 too ("requested lease not found"); only a plain 404 means the
  // gateway lacks the path, i.e. an older etcd with /v3beta or /v3alpha.
  return response.status == 404 && !error && !m_api_prefix_known;
}

void Gateway::detect_api_prefix(const http::Response& not_found) {
  // Spent only after /v3 answered 404: etcd 3.4+ never pays for it.
  http::Request request;
  request.path = "/version";
  http::Response response = m_client.send(request);
  std::optional<std::string> prefix;
  if (response.ok()) {
    prefix = gateway_prefix_for_version(response.body);
  }
  if (!prefix) {
    std::string version = response.ok() ? std::string(trim(response.body)) : "no /version";
    throw Error(ErrorKind::config,
                fmt::format("{} has no etcd v3 JSON gateway at {}/ (it answered 404; {}): herald "
                            "needs etcd 3.2 or newer, or use etcd2:// for the v2 API",
                            not_found.endpoint, m_api_prefix, version.substr(0, 120)));
  }
  spdlog::info("etcd at {} is older than 3.4: using the {} gateway", response.endpoint, *prefix);
  m_api_prefix = *prefix;
}

void Gateway::ensure_token() {
  if (m_token.empty() && can_reauthenticate()) {
    authenticate();
  }
}

void Gateway::authenticate() {
  m_token.clear();
  Recovery recovery;
  while (true) {
    http::Request request = make_request("/auth/authenticate", "");
    request.body = authenticate_request(m_user, m_password).dump();
    http::Response response = m_client.send(request);
    request.body.clear(); // the password must not reach an error message
    if (response.ok()) {
      m_api_prefix_known = true;
      m_token = parse_authenticate(parse_body(response.body, "an authentication request"));
      return;
    }
    auto error = parse_gateway_error(response.body);
    if (find_prefix(response, error, recovery)) {
      continue;
    }
    if (error && is_auth_not_enabled(error->message)) {
      // As etcdctl does: credentials for a cluster without auth are not an error.
      spdlog::debug("etcd at {} has authentication disabled; sending no token", response.endpoint);
      m_auth_disabled = true;
      return;
    }
    if (error && is_auth_failed(error->message)) {
      throw Error(
          ErrorKind::config,
          fmt::format("etcd rejected user '{}': check --user and the password file", m_user));
    }
    throw_error(request, response, error);
  }
}

void Gateway::throw_error(const http::Request& request, const http::Response& response,
                          const std::optional<GatewayError>& error) const {
  if (error && is_auth_required(error->message)) {
    throw Error(ErrorKind::config,
                fmt::format("etcd at {} requires authentication: pass --user NAME and "
                            "--password-file FILE",
                            response.endpoint));
  }
  if (error && is_invalid_token(error->message) && m_user.empty()) {
    throw Error(ErrorKind::config,
                fmt::format("etcd at {} rejected the auth token: pass --user NAME and "
                            "--password-file FILE",
                            response.endpoint));
  }
  http::throw_status_error(request, response, error ? error->message : std::string());
}

} // namespace herald::registry::etcd3
