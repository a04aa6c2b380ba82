#include "herald/announce/registrator_presence.hpp"

#include "herald/core/address.hpp"
#include "herald/core/json_limits.hpp"
#include "herald/core/name.hpp"
#include "herald/core/strings.hpp"
#include "herald/registry/layout.hpp"

#include <cstdint>
#include <fmt/format.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace herald::announce {

namespace {

/// A presence value is six short fields; anything larger was not written by a registrator.
constexpr std::size_t k_max_presence_bytes = 4096;

/// The app part of the Registration that carries a presence key (only logs and Consul would
/// read it, and Consul keeps no presence).
constexpr const char* k_presence_app = "herald-registrator";

/// The string field `name` of `doc`, or nullopt when it is missing or no string.
std::optional<std::string> string_field(const nlohmann::json& doc, const char* name) {
  auto it = doc.find(name);
  if (it == doc.end() || !it->is_string()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

std::string describe_engine(const RegistratorPresence& presence) {
  return fmt::format("Docker engine {} (ID {})", herald::quoted(presence.engine_name),
                     presence.engine_id);
}

} // namespace

std::optional<std::string> presence_problem(const RegistratorPresence& presence) {
  if (auto problem = name_part_problem(presence.engine_id)) {
    return "its engine ID " + *problem;
  }
  if (auto problem = node_name_problem(presence.node)) {
    return "its node " + *problem;
  }
  if (auto problem = meta_value_problem(presence.engine_name)) {
    return "its engine name " + *problem;
  }
  if (auto problem = meta_value_problem(presence.version)) {
    return "its version " + *problem;
  }
  if (presence.prefix.empty() || presence.prefix.front() != '/' || presence.prefix.back() == '/') {
    return "its prefix does not start with '/' or ends with '/'";
  }
  if (auto problem = key_text_problem(presence.prefix)) {
    return "its prefix " + *problem;
  }
  if (presence.pid < 1) {
    return "its pid is not a positive number";
  }
  return std::nullopt;
}

std::string encode_presence(const RegistratorPresence& presence) {
  // ordered_json keeps the documented field order: `etcdctl get` shows it as the man page does.
  nlohmann::ordered_json doc;
  doc["engine_id"] = presence.engine_id;
  doc["engine_name"] = presence.engine_name;
  doc["node"] = presence.node;
  doc["prefix"] = presence.prefix;
  doc["version"] = presence.version;
  doc["pid"] = presence.pid;
  return doc.dump();
}

DecodedPresence decode_presence(std::string_view value) {
  DecodedPresence out;
  if (value.size() > k_max_presence_bytes) {
    out.problem = fmt::format("its value is {} bytes long; a presence is at most {}", value.size(),
                              k_max_presence_bytes);
    return out;
  }
  if (json_too_deep(value)) {
    out.problem = "its JSON is nested too deeply";
    return out;
  }
  auto doc = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    out.problem = "its value is no JSON object";
    return out;
  }
  RegistratorPresence presence;
  const std::pair<const char*, std::string*> strings[] = {
      {"engine_id", &presence.engine_id}, {"engine_name", &presence.engine_name},
      {"node", &presence.node},           {"prefix", &presence.prefix},
      {"version", &presence.version},
  };
  for (const auto& [name, field] : strings) {
    auto text = string_field(doc, name);
    if (!text) {
      out.problem = fmt::format("its value has no string \"{}\"", name);
      return out;
    }
    *field = std::move(*text);
  }
  auto pid = doc.find("pid");
  if (pid == doc.end() || !pid->is_number_integer() ||
      pid->get<std::int64_t>() > std::numeric_limits<std::int32_t>::max()) {
    out.problem = "its value has no \"pid\" number";
    return out;
  }
  presence.pid = pid->get<std::int64_t>();
  if (auto problem = presence_problem(presence)) {
    out.problem = std::move(*problem);
    return out;
  }
  out.presence = std::move(presence);
  return out;
}

std::string presence_key(const RegistratorPresence& presence) {
  return registry::registrator_key(presence.prefix, presence.engine_id, presence.node);
}

std::vector<RegistratorPresence> live_registrators(registry::Registry& registry) {
  std::vector<RegistratorPresence> out;
  for (const registry::KeyValue& kv : registry.list(registry::k_registrators_root).entries) {
    DecodedPresence decoded = decode_presence(kv.value);
    std::string problem = std::move(decoded.problem);
    if (decoded.presence && presence_key(*decoded.presence) != kv.key) {
      problem = "its value names another key";
    } else if (decoded.presence && kv.lease == 0 && !kv.ttl) {
      problem = "it has no TTL, so no registrator keeps it";
    }
    if (!problem.empty()) {
      spdlog::warn("ignoring the registrator presence {}: {}", herald::quoted(kv.key),
                   escape_control(problem));
      continue;
    }
    out.push_back(std::move(*decoded.presence));
  }
  return out;
}

PresenceKey::PresenceKey(std::chrono::seconds ttl) : m_ttl(ttl) {}

void PresenceKey::set(const RegistratorPresence& presence) {
  registry::Registration reg;
  reg.name = InstanceName{k_presence_app, presence.node};
  reg.key = presence_key(presence);
  reg.value = encode_presence(presence);
  reg.ttl = m_ttl;
  if (m_wanted && m_wanted->key == reg.key && m_wanted->value == reg.value) {
    return;
  }
  if (m_wanted && m_wanted->key != reg.key && m_written) {
    spdlog::info("now following {}: this registrator's presence moves from {} to {}",
                 describe_engine(presence), m_wanted->key, reg.key);
    m_moved_from = std::move(m_wanted);
  }
  m_wanted = std::move(reg);
  m_engine = describe_engine(presence);
  m_written = false;
}

void PresenceKey::keep(registry::Registry& registry, bool refresh) {
  if (!m_wanted) {
    return;
  }
  if (m_moved_from) {
    registry.deregister_instance(*m_moved_from);
    m_moved_from.reset();
  }
  if (!m_written) {
    registry.register_instance(*m_wanted);
    m_written = true;
    spdlog::info("announced this registrator at {} ({}, ttl {}s)", m_wanted->key, m_engine,
                 m_ttl.count());
    return;
  }
  if (!refresh) {
    return;
  }
  if (registry.refresh_instance(*m_wanted) == registry::KeepAlive::lost) {
    // Marked unwritten first: if the write fails, the next keep() writes it.
    m_written = false;
    registry.register_instance(*m_wanted);
    m_written = true;
    spdlog::info("this registrator's presence {} was gone from the registry (expired or deleted); "
                 "written again",
                 m_wanted->key);
  }
}

bool PresenceKey::remove(registry::Registry& registry) {
  if (!m_wanted) {
    return false;
  }
  bool existed = registry.deregister_instance(*m_wanted);
  m_written = false;
  return existed;
}

std::string PresenceKey::key() const {
  return m_wanted ? m_wanted->key : std::string();
}

} // namespace herald::announce
