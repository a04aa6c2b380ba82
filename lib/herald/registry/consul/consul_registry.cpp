#include "herald/core/error.hpp"
#include "herald/registry/backends.hpp"
#include "herald/registry/consul/consul_client.hpp"
#include "herald/registry/consul/consul_json.hpp"
#include "herald/registry/layout.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <tuple>
#include <utility>

namespace herald::registry {

namespace consul {

namespace {

// The note of every TTL pass. Constant, so that a heartbeat changes nothing the catalog shows
// and wakes no blocking query (§4.3: output-only changes are synced lazily anyway).
constexpr std::string_view k_pass_note = "herald announce: alive";

// remove() reads the key's ModifyIndex and deletes with ?cas= so that it can tell "deleted" from
// "was not there"; another writer in between makes it read again, a few times at most.
constexpr int k_remove_attempts = 5;

// Consul's smallest blocking wait we send: ?wait=0 would mean its default of five minutes.
constexpr std::chrono::milliseconds k_min_wait{1};

std::vector<http::Endpoint> endpoints_for(const Location& location) {
  if (location.endpoints.empty()) {
    throw Error(ErrorKind::config,
                "consul registry URL names no endpoint: use consul://HOST:PORT (8500 by default)");
  }
  std::vector<http::Endpoint> endpoints = location.endpoints;
  for (http::Endpoint& endpoint : endpoints) {
    if (location.tls && endpoint.unix_socket.empty()) {
      endpoint.scheme = "https";
    }
  }
  return endpoints;
}

std::string describe_location(const std::vector<http::Endpoint>& endpoints, bool tls) {
  std::string out = tls ? "consul+https://" : "consul://";
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    if (i > 0) {
      out.push_back(',');
    }
    out += HostPort{endpoints[i].host, endpoints[i].port}.str();
  }
  return out;
}

ServiceDefinition definition_for(const Registration& reg) {
  ServiceDefinition def;
  def.name = reg.name.app;
  def.id = reg.name.str();
  def.tags = reg.tags;
  def.address = reg.address.host;
  def.port = reg.address.port;
  def.meta = reg.meta;
  def.check_id = check_id_for(def.id);
  def.ttl = reg.ttl;
  def.deregister_critical_after = deregister_after_for(reg.ttl);
  def.initial_status = CheckStatus::passing;
  return def;
}

/// The entries of a recursive read that belong to the directory `prefix`, by registry key.
/// Folder keys ("services/web/", null value) are directories, not values, as etcd's are.
std::map<std::string, KeyValue> directory_entries(const std::vector<KvEntry>& entries,
                                                  std::string_view prefix) {
  std::map<std::string, KeyValue> out;
  for (const auto& entry : entries) {
    if (!key_in_dir(entry.key, prefix) || entry.key.ends_with('/')) {
      continue;
    }
    KeyValue kv = to_key_value(entry);
    std::string key = kv.key;
    out.emplace(std::move(key), std::move(kv));
  }
  return out;
}

/// The events that turn `before` into `after`: puts in ModifyIndex order, then removes. Consul
/// has no history, so changes in between collapse (a key put and deleted again is no event).
std::vector<Event> diff(const std::map<std::string, KeyValue>& before,
                        const std::map<std::string, KeyValue>& after, std::int64_t index) {
  std::vector<Event> puts;
  for (const auto& [key, kv] : after) {
    auto old = before.find(key);
    if (old == before.end() || old->second.modify_index != kv.modify_index) {
      puts.push_back(Event{Event::Type::put, kv});
    }
  }
  std::sort(puts.begin(), puts.end(), [](const Event& a, const Event& b) {
    return std::tie(a.kv.modify_index, a.kv.key) < std::tie(b.kv.modify_index, b.kv.key);
  });
  for (const auto& [key, kv] : before) {
    if (!after.contains(key)) {
      Event removed;
      removed.type = Event::Type::remove;
      removed.kv.key = key;
      removed.kv.modify_index = index; // the delete's own index is not reported
      puts.push_back(std::move(removed));
    }
  }
  return puts;
}

/// The Consul HTTP API as a Registry: keys in KV, instances as agent services with a TTL check.
class ConsulRegistry final : public Registry {
public:
  ConsulRegistry(const Location& location, const Options& options)
      : m_client(endpoints_for(location), options),
        m_description(describe_location(endpoints_for(location), location.tls)) {}

  std::string_view backend() const override { return "consul"; }
  std::string describe() const override { return m_description; }

  std::optional<KeyValue> get(std::string_view key) override {
    std::string consul_key = to_consul_key(key);
    if (consul_key.empty()) {
      return std::nullopt;
    }
    auto result = m_client.kv_get(consul_key);
    if (!result.value) {
      return std::nullopt;
    }
    return to_key_value(*result.value);
  }

  Snapshot list(std::string_view prefix) override {
    std::string consul_prefix = to_consul_key(prefix);
    auto result = m_client.kv_list(consul_prefix);
    auto entries = directory_entries(result.value, consul_prefix);
    Snapshot snapshot;
    snapshot.index = static_cast<std::int64_t>(result.index);
    for (const auto& [key, kv] : entries) {
      snapshot.entries.push_back(kv);
    }
    remember(consul_prefix, result.index, std::move(entries));
    return snapshot;
  }

  void put(std::string_view key, std::string_view value) override {
    std::string consul_key = require_key(key, "put");
    if (!m_client.kv_put(consul_key, value)) {
      throw Error(ErrorKind::temporary, fmt::format("Consul at {} did not store {}; try again",
                                                    m_client.endpoint_text(), key));
    }
  }

  bool remove(std::string_view key) override {
    std::string consul_key = require_key(key, "delete");
    for (int attempt = 0; attempt < k_remove_attempts; ++attempt) {
      auto current = m_client.kv_get(consul_key);
      if (!current.value) {
        return false;
      }
      if (m_client.kv_delete(consul_key, false, current.value->modify_index)) {
        return true;
      }
    }
    throw Error(ErrorKind::temporary,
                fmt::format("{} kept changing while herald deleted it from Consul at {}; try again",
                            key, m_client.endpoint_text()));
  }

  WatchBatch watch(std::string_view prefix, std::int64_t after_index,
                   std::chrono::milliseconds max_wait) override;

  void register_instance(const Registration& reg) override {
    ServiceDefinition def = definition_for(reg);
    m_client.register_service(def);
    // Re-registering keeps a check's old status (a withdrawn instance stays critical), so the
    // pass is what makes the instance routable, now.
    if (!m_client.update_ttl(def.check_id, CheckStatus::passing, k_pass_note)) {
      throw Error(ErrorKind::temporary,
                  fmt::format("Consul at {} forgot check {} right after registering {}; retrying",
                              m_client.endpoint_text(), def.check_id, def.id));
    }
  }

  KeepAlive refresh_instance(const Registration& reg) override {
    // An agent that restarted without its data (or reaped the service) answers "unknown check":
    // the caller registers again.
    bool known =
        m_client.update_ttl(check_id_for(reg.name.str()), CheckStatus::passing, k_pass_note);
    return known ? KeepAlive::alive : KeepAlive::lost;
  }

  void withdraw_instance(const Registration& reg, std::string_view reason) override {
    // Critical, not removed: operators see why in `consul catalog`/the UI, and only passing
    // instances are routable. A check the agent forgot is as withdrawn as it gets.
    m_client.update_ttl(check_id_for(reg.name.str()), CheckStatus::critical, reason);
  }

  bool deregister_instance(const Registration& reg) override {
    return m_client.deregister_service(reg.name.str());
  }

  // A service with a TTL check, not a key: a registrator's presence would be an app here.
  bool instances_are_keys() const override { return false; }

  std::vector<Instance> instances(const InstanceQuery& query) override {
    std::vector<std::string> names = query.apps;
    if (names.empty()) {
      for (const auto& [name, tags] : m_client.catalog_services().value) {
        if (name != "consul") { // the servers themselves, not a routable app
          names.push_back(name);
        }
      }
    }
    std::vector<Instance> out;
    for (const auto& name : names) {
      auto result = m_client.health_service(name, !query.include_unhealthy);
      for (const auto& entry : result.value) {
        out.push_back(to_instance(entry));
      }
    }
    std::sort(out.begin(), out.end(), [](const Instance& a, const Instance& b) {
      return std::tie(a.app, a.instance) < std::tie(b.app, b.instance);
    });
    return out;
  }

  std::int64_t wait_instances(const InstanceQuery& query, std::int64_t after_index,
                              std::chrono::milliseconds max_wait) override {
    QueryOptions options;
    options.index = after_index > 0 ? static_cast<std::uint64_t>(after_index) : 0;
    options.wait = std::max(max_wait, k_min_wait);
    // One app: its health view. Several or all: /v1/health/state/any, whose index moves with
    // every check and service change (catalog/services would miss health changes).
    std::uint64_t index =
        query.apps.size() == 1
            ? m_client.health_service(query.apps.front(), !query.include_unhealthy, {}, options)
                  .index
            : m_client.health_state_index(options);
    return static_cast<std::int64_t>(next_index(options.index, index).next);
  }

private:
  struct WatchBase {
    std::uint64_t index = 0;
    std::map<std::string, KeyValue> entries;
  };

  std::string require_key(std::string_view key, std::string_view operation) const {
    std::string consul_key = to_consul_key(key);
    if (consul_key.empty()) {
      throw Error(
          ErrorKind::usage,
          fmt::format("cannot {} '{}' in Consul: the KV root is not a key", operation, key));
    }
    return consul_key;
  }

  void remember(const std::string& prefix, std::uint64_t index,
                std::map<std::string, KeyValue> entries) {
    m_bases[prefix] = WatchBase{index, std::move(entries)};
  }

  Client m_client;
  std::string m_description;
  /// The last state seen under each watched prefix: Consul answers a blocking query with the
  /// whole new state, and the events are the difference from this one.
  std::map<std::string, WatchBase> m_bases;
};

WatchBatch ConsulRegistry::watch(std::string_view prefix, std::int64_t after_index,
                                 std::chrono::milliseconds max_wait) {
  std::string consul_prefix = to_consul_key(prefix);
  std::uint64_t after = after_index > 0 ? static_cast<std::uint64_t>(after_index) : 0;
  auto base = m_bases.find(consul_prefix);
  bool have_base = base != m_bases.end() && base->second.index == after;

  QueryOptions options;
  options.index = after;
  options.wait = std::max(max_wait, k_min_wait);
  auto result = m_client.kv_list(consul_prefix, options);
  auto entries = directory_entries(result.value, consul_prefix);

  WatchBatch batch;
  if (after == 0) {
    // Everything there is happened after "nothing".
    batch.index = static_cast<std::int64_t>(result.index);
    batch.events = diff({}, entries, batch.index);
    remember(consul_prefix, result.index, std::move(entries));
    return batch;
  }
  IndexStep step = next_index(after, result.index);
  batch.index = static_cast<std::int64_t>(step.next);
  if (!step.changed) {
    return batch; // the wait ran out: not an event
  }
  if (step.reset || !have_base) {
    // The index went backwards (Consul restarted or was restored), or the state at after_index
    // is unknown here: what was deleted cannot be told, so the caller lists again.
    batch.resync = true;
  } else {
    batch.events = diff(base->second.entries, entries, batch.index);
  }
  remember(consul_prefix, step.next, std::move(entries));
  return batch;
}

} // namespace

} // namespace consul

std::unique_ptr<Registry> make_consul_registry(const Location& location, const Options& options) {
  return std::make_unique<consul::ConsulRegistry>(location, options);
}

} // namespace herald::registry
