#pragma once

// The JSON of etcd's v3 gRPC gateway, both ways, as pure functions so the mapping is unit-tested
// without a server. Only the etcd3 backend (and its tests) include this header.

#include "herald/registry/registry.hpp"

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::registry::etcd3 {

/// The range_end that makes a range cover every key starting with `prefix` (etcd's
/// GetPrefixRangeEnd); "\0" (every key) for an empty prefix or one made only of 0xff bytes.
std::string prefix_range_end(std::string_view prefix);

/// Parses a gateway body; Error(data) naming `what` when it is not JSON.
nlohmann::json parse_body(std::string_view body, std::string_view what);

/// An int64 field, which the gateway writes as a JSON string ("42"); 0 when absent.
std::int64_t int64_field(const nlohmann::json& object, std::string_view name);

/// The header.revision of a response (0 when absent).
std::int64_t header_revision(const nlohmann::json& response);

// --- kv --------------------------------------------------------------------------------------

/// A RangeRequest.
struct RangeRequest {
  std::string key;
  std::string range_end;     ///< "" for the single key `key`
  std::int64_t revision = 0; ///< 0 for the newest
  std::int64_t limit = 0;    ///< 0 for no limit
  bool keys_only = false;
  bool count_only = false;
};

/// The JSON body of a RangeRequest (keys base64, int64 as strings).
nlohmann::json range_request(const RangeRequest& request);

/// A RangeResponse.
struct RangeResult {
  std::vector<KeyValue> kvs;
  std::int64_t count = 0; ///< keys in the whole range, even beyond `limit`
  std::int64_t revision = 0;
  bool more = false; ///< `limit` cut the result short
};

/// Maps a RangeResponse; absent fields are their defaults (the gateway omits zero values).
RangeResult parse_range(const nlohmann::json& response);

/// One kv as the gateway writes it (key/value base64, revisions and lease as strings).
KeyValue parse_kv(const nlohmann::json& kv);

/// The JSON body of a PutRequest; `lease` 0 for none.
nlohmann::json put_request(std::string_view key, std::string_view value, std::int64_t lease = 0);

/// The JSON body of a DeleteRangeRequest.
nlohmann::json delete_request(std::string_view key, std::string_view range_end = {},
                              bool prev_kv = false);

/// A DeleteRangeResponse.
struct DeleteResult {
  std::int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs; ///< only when asked with prev_kv
  std::int64_t revision = 0;
};

/// Maps a DeleteRangeResponse.
DeleteResult parse_delete(const nlohmann::json& response);

/// The TxnRequest of a refresh: when `key` no longer holds `value` bound to `lease` (deleted,
/// overwritten, or put without the lease), put it again with the lease; otherwise write nothing
/// (so watchers see no event).
nlohmann::json refresh_txn_request(std::string_view key, std::string_view value,
                                   std::int64_t lease);

/// A TxnResponse: whether the compare held, and the revision after it.
struct TxnResult {
  bool succeeded = false;
  std::int64_t revision = 0;
};

/// Maps a TxnResponse.
TxnResult parse_txn(const nlohmann::json& response);

// --- leases ----------------------------------------------------------------------------------

/// The JSON body of a LeaseGrantRequest (the server picks the ID).
nlohmann::json lease_grant_request(std::chrono::seconds ttl);

/// The JSON body of a request naming one lease (keep-alive, revoke, time-to-live).
nlohmann::json lease_request(std::int64_t id, bool with_keys = false);

/// A LeaseGrantResponse.
struct LeaseGrant {
  std::int64_t id = 0;
  std::int64_t ttl = 0;
  std::string error; ///< the server's refusal, "" when granted
};

/// Maps a LeaseGrantResponse.
LeaseGrant parse_lease_grant(const nlohmann::json& response);

/// A LeaseKeepAliveResponse: `ttl` 0 means the lease is gone.
struct LeaseKeepAlive {
  std::int64_t id = 0;
  std::int64_t ttl = 0;
};

/// Maps the one message the keep-alive stream answers ({"result": {...}}); a streamed
/// {"error": {...}} is Error(temporary) with the server's message.
LeaseKeepAlive parse_keepalive(const nlohmann::json& response);

/// A LeaseTimeToLiveResponse: `ttl` -1 means the lease is not found (expired or revoked).
struct LeaseTimeToLive {
  std::int64_t id = 0;
  std::int64_t ttl = -1;
  std::int64_t granted_ttl = 0;
  std::vector<std::string> keys; ///< decoded, when asked with keys
};

/// Maps a LeaseTimeToLiveResponse.
LeaseTimeToLive parse_time_to_live(const nlohmann::json& response);

// --- watch -----------------------------------------------------------------------------------

/// The JSON body that opens a watch of every key starting with `prefix` from `start_revision`.
nlohmann::json watch_create_request(std::string_view prefix, std::int64_t start_revision);

/// One line of the watch stream.
struct WatchMessage {
  bool created = false;  ///< the first message, confirming the watch
  bool canceled = false; ///< the server ended the watch (see cancel_reason / compact_revision)
  std::string cancel_reason;
  /// The start revision was compacted; events from before it are gone (then canceled is true).
  std::int64_t compact_revision = 0;
  std::int64_t revision = 0; ///< header.revision
  std::vector<Event> events;
  std::string error; ///< a streamed {"error": {...}} message, "" otherwise
};

/// Maps one line of the watch stream; Error(data) when it is not JSON.
WatchMessage parse_watch_message(std::string_view line);

// --- errors, auth, gateway -------------------------------------------------------------------

/// A gRPC error as the gateway returns it: {"error": "...", "message": "...", "code": N}.
struct GatewayError {
  std::string message; ///< "etcdserver: requested lease not found"
  int code = 0;        ///< the gRPC status code (5 not found, 16 unauthenticated, ...)
};

/// The gRPC error in a body, or nullopt when the body is not one (e.g. a plain "404 page not
/// found" from a gateway that lacks the path).
std::optional<GatewayError> parse_gateway_error(std::string_view body);

/// True for an expired or unknown auth token: authenticate again and retry.
bool is_invalid_token(std::string_view message);

/// True when etcd refused the user name or password.
bool is_auth_failed(std::string_view message);

/// True when etcd has auth disabled (then requests go without a token).
bool is_auth_not_enabled(std::string_view message);

/// True when etcd wants a token and none was sent ("user name is empty").
bool is_auth_required(std::string_view message);

/// True when the server lost the lease ("requested lease not found").
bool is_lease_not_found(std::string_view message);

/// The JSON body of an AuthenticateRequest.
nlohmann::json authenticate_request(std::string_view user, std::string_view password);

/// The token of an AuthenticateResponse ("" when absent).
std::string parse_authenticate(const nlohmann::json& response);

/// The gateway prefix for an etcd that answered /v3 with 404, from its /version body
/// ({"etcdserver":"3.3.25",...}): "/v3beta" for 3.3, "/v3alpha" for 3.2; nullopt for anything
/// else (not etcd, or a version without a JSON gateway).
std::optional<std::string> gateway_prefix_for_version(std::string_view version_body);

} // namespace herald::registry::etcd3
