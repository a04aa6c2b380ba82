#include "herald/registry/consul/consul_json.hpp"

#include "herald/core/base64.hpp"
#include "herald/core/error.hpp"
#include "herald/core/json_limits.hpp"
#include "herald/core/name.hpp"
#include "herald/registry/layout.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fmt/format.h>
#include <utility>

namespace herald::registry::consul {

namespace {

using nlohmann::json;

json parse_json(std::string_view body, std::string_view what) {
  check_json_depth(body, fmt::format("Consul answered {}", what));
  try {
    return json::parse(body);
  } catch (const json::exception& e) {
    throw Error(ErrorKind::data,
                fmt::format("Consul answered {} with a body that is not JSON: {}", what, e.what()));
  }
}

std::string string_field(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::uint64_t uint_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) {
    return 0;
  }
  if (it->is_number_unsigned()) {
    return it->get<std::uint64_t>();
  }
  if (it->is_number_integer()) {
    auto value = it->get<std::int64_t>();
    return value < 0 ? 0 : static_cast<std::uint64_t>(value);
  }
  return 0;
}

std::uint16_t port_field(const json& object, const char* name) {
  std::uint64_t port = uint_field(object, name);
  return port > 65535 ? 0 : static_cast<std::uint16_t>(port);
}

// Tags, ServiceTags: `[]` on health/agent endpoints, but `null` is tolerated everywhere (§13.9).
std::vector<std::string> string_list(const json& object, const char* name) {
  std::vector<std::string> out;
  auto it = object.find(name);
  if (it != object.end() && it->is_array()) {
    for (const auto& item : *it) {
      if (item.is_string()) {
        out.push_back(item.get<std::string>());
      }
    }
  }
  return out;
}

std::map<std::string, std::string> string_map(const json& object, const char* name) {
  std::map<std::string, std::string> out;
  auto it = object.find(name);
  if (it != object.end() && it->is_object()) {
    for (const auto& [key, value] : it->items()) {
      if (value.is_string()) {
        out[key] = value.get<std::string>();
      }
    }
  }
  return out;
}

CheckStatus parse_status(std::string_view text) {
  if (text == "passing") {
    return CheckStatus::passing;
  }
  if (text == "warning") {
    return CheckStatus::warning;
  }
  // "critical", and anything a newer Consul might add ("maintenance" is only an aggregate):
  // not routable.
  return CheckStatus::critical;
}

int severity(CheckStatus status) {
  switch (status) {
  case CheckStatus::passing:
    return 0;
  case CheckStatus::warning:
    return 1;
  case CheckStatus::critical:
    return 2;
  }
  return 2;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) {
    out.push_back(c == '\n' || c == '\r' ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  if (out.size() > 300) {
    out.resize(300);
    out += "...";
  }
  return out;
}

} // namespace

// --- keys and paths ----------------------------------------------------------------------------

std::string to_consul_key(std::string_view key) {
  while (key.starts_with('/')) {
    key.remove_prefix(1);
  }
  return std::string(key);
}

std::string from_consul_key(std::string_view key) {
  return "/" + std::string(key);
}

std::string escape_path(std::string_view text, bool keep_slash) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 ||
        std::string_view("-._~:@").find(static_cast<char>(c)) != std::string_view::npos ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string escape_query(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 ||
        std::string_view("-._~").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string go_duration(std::chrono::milliseconds duration) {
  auto ms = std::max<std::int64_t>(duration.count(), 0);
  if (ms % 1000 == 0) {
    return fmt::format("{}s", ms / 1000);
  }
  return fmt::format("{}ms", ms);
}

// --- KV ----------------------------------------------------------------------------------------

namespace {

// A KV value, which Consul sends as base64. The offset, not the character, goes into the message:
// the registry is untrusted and the byte may be a control character.
std::string decode_value(std::string_view text, std::string_view what) {
  Base64Decoded decoded = base64_decode(text);
  if (!decoded) {
    throw Error(ErrorKind::data, fmt::format("Consul sent {} that is not base64 (at byte {})", what,
                                             *decoded.bad_byte));
  }
  return std::move(decoded.bytes);
}

} // namespace

std::vector<KvEntry> parse_kv_entries(std::string_view body) {
  json doc = parse_json(body, "a KV read");
  if (!doc.is_array()) {
    throw Error(ErrorKind::data, "Consul answered a KV read with something other than an array");
  }
  std::vector<KvEntry> out;
  for (const auto& item : doc) {
    if (!item.is_object()) {
      continue;
    }
    KvEntry entry;
    entry.key = string_field(item, "Key");
    auto value = item.find("Value");
    if (value == item.end() || value->is_null()) {
      entry.null_value = true;
    } else if (value->is_string()) {
      entry.value = decode_value(value->get<std::string>(), "the value of " + entry.key);
    }
    entry.flags = uint_field(item, "Flags");
    entry.lock_index = uint_field(item, "LockIndex");
    entry.session = string_field(item, "Session");
    entry.create_index = uint_field(item, "CreateIndex");
    entry.modify_index = uint_field(item, "ModifyIndex");
    out.push_back(std::move(entry));
  }
  return out;
}

std::vector<std::string> parse_kv_keys(std::string_view body) {
  json doc = parse_json(body, "a KV keys read");
  std::vector<std::string> out;
  if (!doc.is_array()) {
    throw Error(ErrorKind::data, "Consul answered a KV keys read with something other than a list");
  }
  for (const auto& item : doc) {
    if (item.is_string()) {
      out.push_back(item.get<std::string>());
    }
  }
  return out;
}

bool parse_kv_bool(std::string_view body) {
  json doc = parse_json(body, "a KV write");
  if (!doc.is_boolean()) {
    throw Error(ErrorKind::data, "Consul answered a KV write with something other than true/false");
  }
  return doc.get<bool>();
}

KeyValue to_key_value(const KvEntry& entry) {
  KeyValue kv;
  kv.key = from_consul_key(entry.key);
  kv.value = entry.value;
  kv.create_index = static_cast<std::int64_t>(entry.create_index);
  kv.modify_index = static_cast<std::int64_t>(entry.modify_index);
  return kv;
}

// --- agent -------------------------------------------------------------------------------------

std::string_view to_string(CheckStatus status) {
  switch (status) {
  case CheckStatus::passing:
    return "passing";
  case CheckStatus::warning:
    return "warning";
  case CheckStatus::critical:
    return "critical";
  }
  return "critical";
}

std::string check_id_for(std::string_view service_id) {
  return "service:" + std::string(service_id);
}

std::chrono::seconds deregister_after_for(std::chrono::seconds ttl) {
  return std::max(std::chrono::seconds(60), ttl * 10);
}

json service_register_body(const ServiceDefinition& service) {
  json check = {
      {"CheckID", service.check_id},
      {"Name", fmt::format("herald TTL check of {}", service.id)},
      {"Notes", "kept passing by herald announce"},
      {"TTL", go_duration(service.ttl)},
      {"Status", std::string(to_string(service.initial_status))},
      {"DeregisterCriticalServiceAfter", go_duration(service.deregister_critical_after)},
  };
  json body = {
      {"ID", service.id},           {"Name", service.name}, {"Tags", service.tags},
      {"Address", service.address}, {"Port", service.port}, {"Meta", json::object()},
      {"Check", std::move(check)},
  };
  for (const auto& [key, value] : service.meta) {
    body["Meta"][key] = value;
  }
  return body;
}

std::map<std::string, AgentService> parse_agent_services(std::string_view body) {
  json doc = parse_json(body, "/v1/agent/services");
  if (!doc.is_object()) {
    throw Error(ErrorKind::data, "Consul answered /v1/agent/services with something other than a "
                                 "map of services");
  }
  std::map<std::string, AgentService> out;
  for (const auto& [id, item] : doc.items()) {
    if (!item.is_object()) {
      continue;
    }
    AgentService service;
    service.id = string_field(item, "ID");
    if (service.id.empty()) {
      service.id = id;
    }
    service.name = string_field(item, "Service");
    service.tags = string_list(item, "Tags");
    service.meta = string_map(item, "Meta");
    service.address = string_field(item, "Address");
    service.port = port_field(item, "Port");
    out.emplace(id, std::move(service));
  }
  return out;
}

// --- catalog and health ----------------------------------------------------------------------

std::map<std::string, std::vector<std::string>> parse_catalog_services(std::string_view body) {
  json doc = parse_json(body, "/v1/catalog/services");
  if (!doc.is_object()) {
    throw Error(ErrorKind::data, "Consul answered /v1/catalog/services with something other than "
                                 "a map of services");
  }
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [name, tags] : doc.items()) {
    auto& list = out[name];
    if (tags.is_array()) {
      for (const auto& tag : tags) {
        if (tag.is_string()) {
          list.push_back(tag.get<std::string>());
        }
      }
    }
  }
  return out;
}

std::vector<HealthEntry> parse_health_service(std::string_view body) {
  json doc = parse_json(body, "/v1/health/service");
  if (doc.is_null()) {
    return {};
  }
  if (!doc.is_array()) {
    throw Error(ErrorKind::data,
                "Consul answered /v1/health/service with something other than a list");
  }
  std::vector<HealthEntry> out;
  for (const auto& item : doc) {
    if (!item.is_object()) {
      continue;
    }
    HealthEntry entry;
    static const json k_empty = json::object();
    auto node_it = item.find("Node");
    const json& node = node_it != item.end() && node_it->is_object() ? *node_it : k_empty;
    auto service_it = item.find("Service");
    const json& service =
        service_it != item.end() && service_it->is_object() ? *service_it : k_empty;
    entry.node = string_field(node, "Node");
    entry.node_address = string_field(node, "Address");
    entry.id = string_field(service, "ID");
    entry.name = string_field(service, "Service");
    entry.address = string_field(service, "Address");
    entry.port = port_field(service, "Port");
    entry.tags = string_list(service, "Tags");
    entry.meta = string_map(service, "Meta");
    if (auto checks = item.find("Checks"); checks != item.end() && checks->is_array()) {
      for (const auto& c : *checks) {
        if (!c.is_object()) {
          continue;
        }
        HealthCheck check;
        check.id = string_field(c, "CheckID");
        check.name = string_field(c, "Name");
        check.status = parse_status(string_field(c, "Status"));
        check.output = string_field(c, "Output");
        check.service_id = string_field(c, "ServiceID");
        entry.checks.push_back(std::move(check));
      }
    }
    out.push_back(std::move(entry));
  }
  return out;
}

CheckStatus aggregate_status(const HealthEntry& entry) {
  CheckStatus worst = CheckStatus::passing;
  for (const auto& check : entry.checks) {
    if (severity(check.status) > severity(worst)) {
      worst = check.status;
    }
  }
  return worst;
}

Instance to_instance(const HealthEntry& entry) {
  Instance instance;
  instance.app = entry.name;
  std::string own_prefix = entry.name + "@";
  instance.instance =
      entry.id.starts_with(own_prefix) ? entry.id.substr(own_prefix.size()) : entry.id;
  instance.key = entry.id;
  std::string host = entry.address.empty() ? entry.node_address : entry.address;
  HostPort address{host, entry.port};
  instance.value = address.str();
  HostPort parsed;
  if (!host.empty() && entry.port != 0 && try_parse_host_port(instance.value, parsed)) {
    instance.address = parsed;
  }
  switch (aggregate_status(entry)) {
  case CheckStatus::passing:
    instance.health = Instance::Health::passing;
    break;
  case CheckStatus::warning:
    instance.health = Instance::Health::warning;
    break;
  case CheckStatus::critical:
    instance.health = Instance::Health::critical;
    break;
  }
  instance.tags = entry.tags;
  instance.meta = entry.meta;
  instance.node = entry.node;
  check_instance(instance);
  return instance;
}

// --- blocking queries ----------------------------------------------------------------------------

std::uint64_t parse_index(const std::optional<std::string>& header) {
  if (!header || header->empty()) {
    return 0;
  }
  std::uint64_t value = 0;
  for (char c : *header) {
    if (c < '0' || c > '9') {
      return 0;
    }
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

IndexStep next_index(std::uint64_t previous, std::uint64_t returned) {
  IndexStep step;
  step.next = std::max<std::uint64_t>(returned, 1);
  if (step.next < previous) {
    step.reset = true;
    step.changed = true;
  } else {
    step.changed = step.next != previous;
  }
  return step;
}

// --- errors --------------------------------------------------------------------------------------

bool is_unknown_check(long status, std::string_view body) {
  if (status == 404) {
    return true;
  }
  return status == 500 && contains(body, "does not have associated TTL");
}

std::string redact(std::string text, std::string_view secret) {
  if (secret.empty()) {
    return text;
  }
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
    text.replace(pos, secret.size(), "<token>");
  }
  return text;
}

std::string explain_forbidden(std::string_view endpoint, std::string_view what,
                              std::string_view body, bool token_sent, std::string_view token) {
  std::string said = one_line(redact(std::string(body), token));
  if (contains(body, "ACL not found")) {
    return fmt::format("Consul at {} does not know the ACL token herald sent ({}: ACL not found): "
                       "check --token-file, CONSUL_HTTP_TOKEN or CONSUL_HTTP_TOKEN_FILE",
                       endpoint, what);
  }
  if (!token_sent) {
    return fmt::format("Consul at {} refused {} without an ACL token (HTTP 403: {}): pass "
                       "--token-file FILE or set CONSUL_HTTP_TOKEN",
                       endpoint, what, said);
  }
  return fmt::format("Consul at {} refused {}: the ACL token lacks the permission (HTTP 403: {}): "
                     "grant it in the token's policy or use another token",
                     endpoint, what, said);
}

} // namespace herald::registry::consul
