#pragma once

// The etcd3 backend's session with etcd's JSON gateway; private to registry/etcd3/.

#include "herald/http/client.hpp"
#include "herald/registry/etcd3/etcd3_json.hpp"
#include "herald/registry/registry.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace herald::registry::etcd3 {

/// What Gateway has tried to recover one call: each fix is tried once a call.
struct Recovery {
  bool prefix_detected = false; ///< looked for an older etcd's /v3beta or /v3alpha
  bool reauthenticated = false; ///< took a fresh auth token
};

/// One etcd cluster's JSON gateway as a session: its endpoints, the API prefix it answers under
/// (/v3; /v3beta or /v3alpha on etcd 3.3 and 3.2, found after the first plain 404) and the auth
/// token (taken with the user's password, taken again once when it expired). Every request of
/// the etcd3 backend, the gateway's, the gRPC range and the watch stream, recovers and explains
/// its errors here, so each of those rules is written once.
class Gateway {
public:
  Gateway(const Location& location, const Options& options);

  /// POSTs `body` to the gateway method `rpc` ("/kv/range") and returns the parsed answer,
  /// recovering as recover() does; any other failure is thrown as throw_error() explains it.
  nlohmann::json call(std::string_view rpc, const nlohmann::json& body);

  /// A POST of `rpc` under the gateway prefix, with the token.
  http::Request make_request(std::string_view rpc, std::string body) const;

  /// Takes a token when a user is configured and none is held yet.
  void ensure_token();

  /// True when a failed gateway answer is worth one more try, after the fix it asks for (once
  /// each per `recovery`): the gateway prefix of an older etcd after a plain 404, or a fresh
  /// token after an expired one.
  bool recover(const http::Response& response, const std::optional<GatewayError>& error,
               Recovery& recovery);

  /// True when etcd's `message` (a gRPC status, a watch the server canceled) is an expired
  /// token and a fresh one was taken: one more try (once per `recovery`).
  bool renew_token(std::string_view message, Recovery& recovery);

  /// Records that a request under the current prefix was answered: a later 404 is an error of
  /// etcd's (a lost lease), never a missing gateway path.
  void confirm_prefix() { m_api_prefix_known = true; }

  /// Throws the error of a failed answer in the user's terms: missing or rejected credentials
  /// as Error(config) saying what to pass, anything else by its HTTP status.
  [[noreturn]] void throw_error(const http::Request& request, const http::Response& response,
                                const std::optional<GatewayError>& error) const;

  /// The token to send with a request ("" without auth).
  const std::string& token() const { return m_token; }
  /// The etcd user ("" without auth), for messages.
  const std::string& user() const { return m_user; }
  /// The gateway's HTTP client, for the requests that need no prefix or token.
  http::Client& client() { return m_client; }
  const http::Client& client() const { return m_client; }
  /// The settings the client was made with, for more connections to the same endpoints.
  const http::ClientOptions& client_options() const { return m_client_options; }

private:
  bool can_reauthenticate() const { return !m_user.empty() && !m_auth_disabled; }
  bool find_prefix(const http::Response& response, const std::optional<GatewayError>& error,
                   Recovery& recovery);
  bool is_missing_path(const http::Response& response,
                       const std::optional<GatewayError>& error) const;
  void detect_api_prefix(const http::Response& not_found);
  void authenticate();

  http::ClientOptions m_client_options;
  http::Client m_client;
  std::string m_user;
  std::string m_password;
  std::string m_token;
  bool m_auth_disabled = false;
  std::string m_api_prefix = "/v3";
  bool m_api_prefix_known = false; ///< a request under m_api_prefix succeeded
};

} // namespace herald::registry::etcd3
