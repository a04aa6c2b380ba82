#include "herald/registry/etcd2/keys_api.hpp"

#include "herald/core/json_limits.hpp"
#include "herald/core/strings.hpp"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace herald::registry::etcd2 {

namespace {

using nlohmann::json;

bool is_unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void append_percent(std::string& out, char c) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  auto byte = static_cast<unsigned char>(c);
  out.push_back('%');
  out.push_back(k_hex[byte >> 4]);
  out.push_back(k_hex[byte & 0x0f]);
}

json parse_object(std::string_view body, std::string_view what) {
  check_json_depth(body, fmt::format("etcd v2 answered {}", what));
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    throw Error(ErrorKind::data,
                fmt::format("etcd v2 answered {} with a body that is not a JSON object: '{}'", what,
                            body.substr(0, 120)));
  }
  return doc;
}

const json& node_of(const json& doc, std::string_view what) {
  auto node = doc.find("node");
  if (node == doc.end() || !node->is_object()) {
    throw Error(ErrorKind::data, fmt::format("etcd v2 answered {} without a \"node\"", what));
  }
  return *node;
}

std::int64_t int_field(const json& node, const char* name) {
  auto it = node.find(name);
  if (it != node.end() && it->is_number_integer()) {
    return it->get<std::int64_t>();
  }
  return 0;
}

bool is_dir(const json& node) {
  auto it = node.find("dir");
  return it != node.end() && it->is_boolean() && it->get<bool>();
}

KeyValue to_key_value(const json& node) {
  KeyValue kv;
  if (auto key = node.find("key"); key != node.end() && key->is_string()) {
    kv.key = key->get<std::string>();
  }
  if (auto value = node.find("value"); value != node.end() && value->is_string()) {
    kv.value = value->get<std::string>();
  }
  kv.create_index = int_field(node, "createdIndex");
  kv.modify_index = int_field(node, "modifiedIndex");
  // etcd reports the seconds left, rounded; "expiration" says the same as a timestamp.
  if (auto ttl = node.find("ttl"); ttl != node.end() && ttl->is_number_integer()) {
    kv.ttl = std::chrono::seconds(ttl->get<std::int64_t>());
  }
  return kv;
}

void flatten(const json& node, std::vector<KeyValue>& out) {
  if (!is_dir(node)) {
    out.push_back(to_key_value(node));
    return;
  }
  auto children = node.find("nodes");
  if (children == node.end() || !children->is_array()) {
    return;
  }
  for (const json& child : *children) {
    if (child.is_object()) {
      flatten(child, out);
    }
  }
}

/// What to tell the user to do about an error code.
std::string_view advice_for(int code) {
  switch (code) {
  case k_key_not_found:
    return "check the key or prefix";
  case k_compare_failed:
    return "another writer changed the key at the same time; retry";
  case k_not_a_file:
    return "it is a directory: use a key below it or remove the directory first";
  case k_not_a_directory:
    return "a parent of the key is a plain key: remove it or choose another prefix";
  case k_key_already_exists:
    return "remove the existing key first or write without prevExist";
  case k_event_index_cleared:
    return "the watch fell too far behind; list the keys again";
  default:
    break;
  }
  if (code >= 200 && code < 300) {
    return "etcd rejected the request form; please report this as a herald bug";
  }
  if (code >= 300 && code < 500) {
    return "the etcd cluster is busy or electing a leader; retry shortly";
  }
  return "see etcd's log for details";
}

ErrorKind kind_for(int code) {
  switch (code) {
  case k_key_not_found:
    return ErrorKind::not_found;
  case k_compare_failed:
  case k_key_already_exists:
    return ErrorKind::temporary;
  default:
    break;
  }
  if (code >= 300 && code < 500) {
    return ErrorKind::temporary;
  }
  return ErrorKind::data;
}

} // namespace

std::string escape_key_path(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 8);
  for (char c : key) {
    if (is_unreserved(c) || c == '/' || c == ':' || c == '@') {
      out.push_back(c);
    } else {
      append_percent(out, c);
    }
  }
  return out;
}

std::string form_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    if (is_unreserved(c)) {
      out.push_back(c);
    } else {
      append_percent(out, c);
    }
  }
  return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) {
      out.push_back('&');
    }
    out.append(name);
    out.push_back('=');
    out.append(form_escape(value));
  }
  return out;
}

std::string keys_path(std::string_view key) {
  std::string path = "/v2/keys";
  if (key.empty() || key.front() != '/') {
    path.push_back('/');
  }
  path.append(escape_key_path(key));
  return path;
}

std::optional<ApiError> parse_api_error(std::string_view body) {
  if (json_too_deep(body)) {
    return std::nullopt;
  }
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    return std::nullopt;
  }
  auto code = doc.find("errorCode");
  if (code == doc.end() || !code->is_number_integer()) {
    return std::nullopt;
  }
  ApiError error;
  error.code = code->get<int>();
  if (auto message = doc.find("message"); message != doc.end() && message->is_string()) {
    error.message = message->get<std::string>();
  }
  if (auto cause = doc.find("cause"); cause != doc.end() && cause->is_string()) {
    error.cause = cause->get<std::string>();
  }
  error.index = int_field(doc, "index");
  return error;
}

Error to_error(std::string_view operation, std::string_view key, std::string_view endpoint,
               const ApiError& error) {
  // The server's words are escaped: a body cannot add a line to the log or drive the terminal.
  std::string said = error.message.empty() ? "error" : escape_control(error.message);
  if (!error.cause.empty() && error.cause != key) {
    said += fmt::format(" ({})", escape_control(error.cause));
  }
  return Error(kind_for(error.code),
               fmt::format("etcd v2 {} {} at {}: {} [errorCode {}]: {}", operation, key, endpoint,
                           said, error.code, advice_for(error.code)));
}

std::optional<KeyValue> parse_node_response(std::string_view body) {
  json doc = parse_object(body, "a key request");
  const json& node = node_of(doc, "a key request");
  if (is_dir(node)) {
    return std::nullopt;
  }
  return to_key_value(node);
}

std::vector<KeyValue> parse_list_response(std::string_view body) {
  json doc = parse_object(body, "a recursive get");
  std::vector<KeyValue> out;
  flatten(node_of(doc, "a recursive get"), out);
  // etcd sorts each directory's children, which is not the order of the full keys ("/a/b/c" vs
  // "/a/b-c"); the snapshot promises plain key order.
  std::sort(out.begin(), out.end(),
            [](const KeyValue& a, const KeyValue& b) { return a.key < b.key; });
  return out;
}

std::int64_t parse_index(const std::optional<std::string>& header) {
  if (!header) {
    return 0;
  }
  std::int64_t value = 0;
  const char* begin = header->data();
  const char* end = begin + header->size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) {
    return 0;
  }
  return value;
}

WatchBatch parse_watch_response(std::string_view body, std::int64_t after_index) {
  WatchBatch batch;
  batch.index = after_index;
  bool blank = std::all_of(body.begin(), body.end(),
                           [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; });
  if (blank) {
    return batch;
  }
  json doc = parse_object(body, "a watch");
  const json& node = node_of(doc, "a watch");
  std::string action;
  if (auto it = doc.find("action"); it != doc.end() && it->is_string()) {
    action = it->get<std::string>();
  }
  KeyValue kv = to_key_value(node);
  batch.index = std::max(after_index, kv.modify_index);
  if (auto refresh = doc.find("refresh");
      refresh != doc.end() && refresh->is_boolean() && refresh->get<bool>()) {
    return batch;
  }
  bool removal = action == "delete" || action == "expire" || action == "compareAndDelete";
  if (is_dir(node)) {
    // A directory created holds no key yet; one removed took its keys with it unannounced.
    batch.resync = removal;
    return batch;
  }
  Event event;
  event.type = removal ? Event::Type::remove : Event::Type::put;
  if (removal) {
    kv.value.clear();
    kv.ttl.reset();
  }
  event.kv = std::move(kv);
  batch.events.push_back(std::move(event));
  return batch;
}

} // namespace herald::registry::etcd2
