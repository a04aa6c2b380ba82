// Etcd3Registry::count_in_other_keyspace(): asks the same server's v2 keys API what it holds
// under a prefix, so render can explain a v3 prefix that is empty because the sidekicks write v2.
#include "herald/core/json_limits.hpp"
#include "herald/registry/etcd3/etcd3_registry_impl.hpp"

#include <cctype>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace herald::registry::etcd3 {

namespace {

// "/v2/keys/services/web" with each byte outside the URL's unreserved set %-escaped.
std::string v2_keys_path(std::string_view key) {
  std::string out = "/v2/keys";
  if (!key.starts_with('/')) {
    out += '/';
  }
  for (unsigned char c : key) {
    if (std::isalnum(c) != 0 ||
        std::string_view("/-_.~@:").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// The plain keys under a v2 node (directories hold "nodes", keys hold "value").
std::size_t count_v2_leaves(const nlohmann::json& node) {
  if (!node.value("dir", false)) {
    return 1;
  }
  std::size_t count = 0;
  if (auto it = node.find("nodes"); it != node.end() && it->is_array()) {
    for (const auto& child : *it) {
      count += count_v2_leaves(child);
    }
  }
  return count;
}

} // namespace

std::optional<std::size_t> Etcd3Registry::count_in_other_keyspace(std::string_view prefix) {
  try {
    http::Request request;
    request.path = v2_keys_path(prefix) + "?recursive=true";
    http::Response response = m_gateway.client().send(request);
    if (json_too_deep(response.body)) {
      return std::nullopt;
    }
    auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (response.status == 404 && body.is_object() && body.value("errorCode", 0) == 100) {
      return 0; // "Key not found": the v2 keyspace has nothing there
    }
    if (!response.ok() || !body.is_object() || !body.contains("node")) {
      return std::nullopt; // v2 disabled (a plain 404), v2 auth, or not etcd
    }
    return count_v2_leaves(body["node"]);
  } catch (const std::exception&) {
    return std::nullopt; // a diagnostic only: never in the way of the real work
  }
}

} // namespace herald::registry::etcd3
