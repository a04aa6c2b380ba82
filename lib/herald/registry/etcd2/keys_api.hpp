#pragma once

#include "herald/core/error.hpp"
#include "herald/registry/registry.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The etcd v2 keys API on the wire: request paths and form bodies, and the mapping of its JSON
// responses and errors onto the Registry types. Kept apart from the HTTP calls so that it can be
// tested on recorded responses.
namespace herald::registry::etcd2 {

/// etcd v2 errorCode values herald reacts to (etcd's error/error.go).
inline constexpr int k_key_not_found = 100;
inline constexpr int k_compare_failed = 101;
inline constexpr int k_not_a_file = 102;
inline constexpr int k_not_a_directory = 104;
inline constexpr int k_key_already_exists = 105;
inline constexpr int k_event_index_cleared = 401;

/// Percent-encodes every segment of `key` for a URL path and keeps the '/' between them:
/// "/a b/c?d" -> "/a%20b/c%3Fd". Letters, digits, "-._~" and the path-safe ":@" stay as they are.
std::string escape_key_path(std::string_view key);

/// Percent-encodes `text` as a value of an application/x-www-form-urlencoded body or a query
/// string (spaces as %20, '+' and '&' encoded).
std::string form_escape(std::string_view text);

/// "name=value&name=value" with every value escaped by form_escape().
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

/// The request path of `key`: "/v2/keys" followed by escape_key_path(key). A key without a
/// leading '/' gets one.
std::string keys_path(std::string_view key);

/// An etcd v2 error body: {"errorCode":100,"message":"Key not found","cause":"/a","index":7}.
struct ApiError {
  int code = 0;
  std::string message;
  std::string cause;
  std::int64_t index = 0;
};

/// The error in `body`, or nullopt when the body is not an etcd v2 error (e.g. a proxy's page).
std::optional<ApiError> parse_api_error(std::string_view body);

/// The herald::Error for an etcd v2 error: one line naming the operation, the key and the
/// server, etcd's own message and code, and what to do. The kind follows the code: 100 not_found;
/// 101 and 105 (compare failed, already exists) temporary, since another writer won a race; 102,
/// 104 and the 2xx form errors data; 3xx/4xx (raft, leader, watcher) temporary.
Error to_error(std::string_view operation, std::string_view key, std::string_view endpoint,
               const ApiError& error);

/// The key in a single-node response (GET of a key, PUT, DELETE), or nullopt when the node is a
/// directory. Throws Error(data) when the body is not an etcd v2 node response.
std::optional<KeyValue> parse_node_response(std::string_view body);

/// Every key under the node of a recursive GET, flattened and sorted by key; directories are
/// skipped. Throws Error(data) when the body is not an etcd v2 node response.
std::vector<KeyValue> parse_list_response(std::string_view body);

/// The X-Etcd-Index header value, or 0 when absent or malformed.
std::int64_t parse_index(const std::optional<std::string>& header);

/// The batch for one `wait=true` response body. `after_index` is the index the watch started
/// after; an empty body (etcd ended the wait without an event) gives an empty batch at it. A
/// directory removed as a whole gives `resync` (its keys are gone but no event names them), and a
/// TTL refresh (`"refresh":true`) gives no event: it changed nothing a reader sees. Throws
/// Error(data) for a body that is not an etcd v2 event.
WatchBatch parse_watch_response(std::string_view body, std::int64_t after_index);

} // namespace herald::registry::etcd2
