#include "herald/registry/etcd3/etcd3_json.hpp"

#include "herald/core/base64.hpp"
#include "herald/core/error.hpp"
#include "herald/core/json_limits.hpp"

#include <charconv>
#include <fmt/format.h>
#include <utility>

namespace herald::registry::etcd3 {

namespace {

using nlohmann::json;

// A key or value the gateway sent as `bytes` (base64).
std::string decode_bytes(std::string_view text, std::string_view what) {
  Base64Decoded decoded = base64_decode(text);
  if (!decoded) {
    throw Error(ErrorKind::data, fmt::format("etcd sent a {} that is not valid base64", what));
  }
  return std::move(decoded.bytes);
}

std::int64_t to_int64(const json& value, std::string_view name) {
  if (value.is_number_integer()) {
    return value.get<std::int64_t>();
  }
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    std::int64_t out = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec == std::errc{} && end == text.data() + text.size()) {
      return out;
    }
  }
  throw Error(ErrorKind::data,
              fmt::format("etcd answered a non-integer '{}' for field '{}'", value.dump(), name));
}

std::string string_field(const json& object, std::string_view name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) {
    return {};
  }
  return it->get<std::string>();
}

bool bool_field(const json& object, std::string_view name) {
  auto it = object.find(name);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

void require_object(const json& value, std::string_view what) {
  if (!value.is_object()) {
    throw Error(ErrorKind::data, fmt::format("etcd answered {} with {} instead of a JSON object",
                                             what, value.type_name()));
  }
}

// Streaming RPCs (watch, keep-alive) wrap each message as {"result": ...} or {"error": ...}.
const json& unwrap_result(const json& message) {
  auto it = message.find("result");
  return it != message.end() && it->is_object() ? *it : message;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

} // namespace

std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  // No byte can be incremented: "\0" as range_end means "to the end of the keyspace".
  return std::string(1, '\0');
}

json parse_body(std::string_view body, std::string_view what) {
  check_json_depth(body, fmt::format("etcd answered {}", what));
  auto parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded()) {
    std::string_view shown = body.substr(0, 120);
    throw Error(ErrorKind::data,
                fmt::format("etcd answered {} with something that is not JSON: '{}'", what, shown));
  }
  return parsed;
}

std::int64_t int64_field(const json& object, std::string_view name) {
  if (!object.is_object()) {
    return 0;
  }
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    return 0;
  }
  return to_int64(*it, name);
}

std::int64_t header_revision(const json& response) {
  auto it = response.find("header");
  return it == response.end() ? 0 : int64_field(*it, "revision");
}

json range_request(const RangeRequest& request) {
  json body{{"key", base64_encode(request.key)}};
  if (!request.range_end.empty()) {
    body["range_end"] = base64_encode(request.range_end);
  }
  if (request.revision > 0) {
    body["revision"] = std::to_string(request.revision);
  }
  if (request.limit > 0) {
    body["limit"] = std::to_string(request.limit);
  }
  if (request.keys_only) {
    body["keys_only"] = true;
  }
  if (request.count_only) {
    body["count_only"] = true;
  }
  return body;
}

KeyValue parse_kv(const json& kv) {
  require_object(kv, "a key");
  KeyValue out;
  out.key = decode_bytes(string_field(kv, "key"), "key");
  out.value = decode_bytes(string_field(kv, "value"), "value");
  out.create_index = int64_field(kv, "create_revision");
  out.modify_index = int64_field(kv, "mod_revision");
  out.lease = int64_field(kv, "lease");
  return out;
}

RangeResult parse_range(const json& response) {
  require_object(response, "a range request");
  RangeResult out;
  out.revision = header_revision(response);
  out.count = int64_field(response, "count");
  out.more = bool_field(response, "more");
  if (auto it = response.find("kvs"); it != response.end() && it->is_array()) {
    out.kvs.reserve(it->size());
    for (const auto& kv : *it) {
      out.kvs.push_back(parse_kv(kv));
    }
  }
  return out;
}

json put_request(std::string_view key, std::string_view value, std::int64_t lease) {
  json body{{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0) {
    body["lease"] = std::to_string(lease);
  }
  return body;
}

json delete_request(std::string_view key, std::string_view range_end, bool prev_kv) {
  json body{{"key", base64_encode(key)}};
  if (!range_end.empty()) {
    body["range_end"] = base64_encode(range_end);
  }
  if (prev_kv) {
    body["prev_kv"] = true;
  }
  return body;
}

DeleteResult parse_delete(const json& response) {
  require_object(response, "a delete request");
  DeleteResult out;
  out.revision = header_revision(response);
  out.deleted = int64_field(response, "deleted");
  if (auto it = response.find("prev_kvs"); it != response.end() && it->is_array()) {
    for (const auto& kv : *it) {
      out.prev_kvs.push_back(parse_kv(kv));
    }
  }
  return out;
}

json refresh_txn_request(std::string_view key, std::string_view value, std::int64_t lease) {
  std::string k = base64_encode(key);
  return json{
      {"compare",
       json::array({
           {{"key", k}, {"target", "VALUE"}, {"result", "EQUAL"}, {"value", base64_encode(value)}},
           {{"key", k}, {"target", "LEASE"}, {"result", "EQUAL"}, {"lease", std::to_string(lease)}},
       })},
      {"failure", json::array({{{"request_put", put_request(key, value, lease)}}})},
  };
}

TxnResult parse_txn(const json& response) {
  require_object(response, "a transaction");
  return TxnResult{bool_field(response, "succeeded"), header_revision(response)};
}

json lease_grant_request(std::chrono::seconds ttl) {
  return json{{"TTL", std::to_string(ttl.count())}};
}

json lease_request(std::int64_t id, bool with_keys) {
  json body{{"ID", std::to_string(id)}};
  if (with_keys) {
    body["keys"] = true;
  }
  return body;
}

LeaseGrant parse_lease_grant(const json& response) {
  require_object(response, "a lease grant");
  return LeaseGrant{int64_field(response, "ID"), int64_field(response, "TTL"),
                    string_field(response, "error")};
}

LeaseKeepAlive parse_keepalive(const json& response) {
  require_object(response, "a lease keep-alive");
  if (auto it = response.find("error"); it != response.end() && it->is_object()) {
    throw Error(ErrorKind::temporary,
                fmt::format("etcd refused a lease keep-alive: {}", string_field(*it, "message")));
  }
  const json& result = unwrap_result(response);
  return LeaseKeepAlive{int64_field(result, "ID"), int64_field(result, "TTL")};
}

LeaseTimeToLive parse_time_to_live(const json& response) {
  require_object(response, "a lease time-to-live request");
  LeaseTimeToLive out;
  out.id = int64_field(response, "ID");
  // TTL is -1 for an unknown lease; absent (0) for one at its last second.
  out.ttl = int64_field(response, "TTL");
  out.granted_ttl = int64_field(response, "grantedTTL");
  if (auto it = response.find("keys"); it != response.end() && it->is_array()) {
    for (const auto& key : *it) {
      out.keys.push_back(decode_bytes(key.is_string() ? key.get<std::string>() : "", "key"));
    }
  }
  return out;
}

json watch_create_request(std::string_view prefix, std::int64_t start_revision) {
  json create{{"key", base64_encode(prefix.empty() ? std::string_view("\0", 1) : prefix)},
              {"range_end", base64_encode(prefix_range_end(prefix))}};
  if (start_revision > 0) {
    create["start_revision"] = std::to_string(start_revision);
  }
  return json{{"create_request", create}};
}

WatchMessage parse_watch_message(std::string_view line) {
  json message = parse_body(line, "a watch");
  require_object(message, "a watch");
  WatchMessage out;
  if (auto it = message.find("error"); it != message.end()) {
    out.error = it->is_object() ? string_field(*it, "message") : it->dump();
    if (out.error.empty()) {
      out.error = it->dump();
    }
    return out;
  }
  const json& result = unwrap_result(message);
  out.created = bool_field(result, "created");
  out.canceled = bool_field(result, "canceled");
  out.cancel_reason = string_field(result, "cancel_reason");
  out.compact_revision = int64_field(result, "compact_revision");
  out.revision = header_revision(result);
  if (auto it = result.find("events"); it != result.end() && it->is_array()) {
    for (const auto& raw : *it) {
      Event event;
      event.type = string_field(raw, "type") == "DELETE" ? Event::Type::remove : Event::Type::put;
      if (auto kv = raw.find("kv"); kv != raw.end()) {
        event.kv = parse_kv(*kv);
      }
      out.events.push_back(std::move(event));
    }
  }
  return out;
}

std::optional<GatewayError> parse_gateway_error(std::string_view body) {
  if (json_too_deep(body)) {
    return std::nullopt;
  }
  auto parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return std::nullopt;
  }
  auto it = parsed.find("error");
  if (it == parsed.end()) {
    return std::nullopt;
  }
  GatewayError out;
  if (it->is_object()) { // a streamed error: {"error": {"grpc_code", "message", ...}}
    out.message = string_field(*it, "message");
    if (auto code = it->find("grpc_code"); code != it->end() && code->is_number_integer()) {
      out.code = code->get<int>();
    }
  } else {
    out.message = string_field(parsed, "message");
    if (out.message.empty()) {
      out.message = string_field(parsed, "error");
    }
    if (auto code = parsed.find("code"); code != parsed.end() && code->is_number_integer()) {
      out.code = code->get<int>();
    }
  }
  return out;
}

bool is_invalid_token(std::string_view message) {
  return contains(message, "invalid auth token") || contains(message, "token is expired") ||
         contains(message, "token expired");
}

bool is_auth_failed(std::string_view message) {
  return contains(message, "authentication failed") || contains(message, "user name not found");
}

bool is_auth_not_enabled(std::string_view message) {
  return contains(message, "authentication is not enabled");
}

bool is_auth_required(std::string_view message) {
  return contains(message, "user name is empty");
}

bool is_lease_not_found(std::string_view message) {
  return contains(message, "requested lease not found");
}

json authenticate_request(std::string_view user, std::string_view password) {
  return json{{"name", user}, {"password", password}};
}

std::string parse_authenticate(const json& response) {
  require_object(response, "an authentication request");
  return string_field(response, "token");
}

std::optional<std::string> gateway_prefix_for_version(std::string_view version_body) {
  if (json_too_deep(version_body)) {
    return std::nullopt;
  }
  auto parsed = json::parse(version_body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return std::nullopt;
  }
  std::string server = string_field(parsed, "etcdserver");
  if (server.starts_with("3.3.")) {
    return "/v3beta";
  }
  if (server.starts_with("3.2.")) {
    return "/v3alpha";
  }
  return std::nullopt;
}

} // namespace herald::registry::etcd3
