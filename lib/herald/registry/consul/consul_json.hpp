#pragma once

// The Consul HTTP API on the wire (tests/fixtures/reference/consul-http-api.md): request
// bodies, paths and query strings, and the mapping of its JSON responses onto plain structs, as
// pure functions so that they are unit-tested on the recorded fixtures without a server. Only the
// consul backend (and its tests) include this header.

#include "herald/registry/registry.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::registry::consul {

// --- keys and paths --------------------------------------------------------------------------

/// herald's etcd-style key as a Consul KV key: leading '/'s dropped ("/services/web/x" ->
/// "services/web/x"), as confd's consul backend does; "/" and "" are the root "".
std::string to_consul_key(std::string_view key);

/// A Consul KV key as herald shows it: "services/web/x" -> "/services/web/x" (confd's
/// path.Join("/", key) without its cleaning, so a key reads back exactly as it was written).
std::string from_consul_key(std::string_view key);

/// Percent-escapes `text` for a URL path: letters, digits, "-._~:@" stay, and '/' stays when
/// `keep_slash` (KV keys), else it is escaped (service and check IDs).
std::string escape_path(std::string_view text, bool keep_slash);

/// Percent-escapes `text` as a query-string value.
std::string escape_query(std::string_view text);

/// A Go duration string Consul's time.ParseDuration reads: whole seconds as "15s", else
/// milliseconds as "1500ms".
std::string go_duration(std::chrono::milliseconds duration);

// --- KV --------------------------------------------------------------------------------------

/// One KV entry (api.KVPair).
struct KvEntry {
  std::string key;         ///< as Consul has it, no leading '/'
  std::string value;       ///< decoded bytes; "" for a null Value
  bool null_value = false; ///< Value was null (a "folder" key such as "services/web/")
  std::uint64_t flags = 0;
  std::uint64_t lock_index = 0;
  std::string session; ///< "" unless a session holds the lock
  std::uint64_t create_index = 0;
  std::uint64_t modify_index = 0;

  friend bool operator==(const KvEntry&, const KvEntry&) = default;
};

/// Maps a KV read body (always an array, even for one key). Error(data) when it is not one.
std::vector<KvEntry> parse_kv_entries(std::string_view body);

/// Maps a `?keys` body (an array of key strings).
std::vector<std::string> parse_kv_keys(std::string_view body);

/// Maps the `true`/`false` answer of a KV PUT or DELETE; Error(data) for anything else.
bool parse_kv_bool(std::string_view body);

/// The registry view of a KV entry: key with a leading '/', value and indexes.
KeyValue to_key_value(const KvEntry& entry);

// --- agent services and checks ----------------------------------------------------------------

/// Status of a check.
enum class CheckStatus { passing, warning, critical };

/// "passing", "warning" or "critical".
std::string_view to_string(CheckStatus status);

/// What herald registers with the local agent (§3.1): one service with one TTL check.
struct ServiceDefinition {
  std::string id;   ///< APP@INSTANCE
  std::string name; ///< APP
  std::vector<std::string> tags;
  std::string address;
  std::uint16_t port = 0;
  std::map<std::string, std::string> meta;
  std::string check_id; ///< "service:" + id
  std::chrono::seconds ttl{60};
  std::chrono::seconds deregister_critical_after{600};
  CheckStatus initial_status = CheckStatus::passing;
};

/// The TTL check herald gives a service: "service:<ID>", Consul's own default for a service's
/// only check (§3.1), so agents and other tools agree on it.
std::string check_id_for(std::string_view service_id);

/// How long a critical check may last before the agent removes the service: ten TTLs, at least
/// Consul's minimum of one minute (a smaller value would be raised to it anyway, §4.3).
std::chrono::seconds deregister_after_for(std::chrono::seconds ttl);

/// The JSON body of PUT /v1/agent/service/register.
nlohmann::json service_register_body(const ServiceDefinition& service);

/// One service of /v1/agent/services (api.AgentService).
struct AgentService {
  std::string id;
  std::string name; ///< the "Service" field
  std::vector<std::string> tags;
  std::map<std::string, std::string> meta;
  std::string address;
  std::uint16_t port = 0;
};

/// Maps /v1/agent/services (a map keyed by service ID).
std::map<std::string, AgentService> parse_agent_services(std::string_view body);

// --- catalog and health ------------------------------------------------------------------------

/// Maps /v1/catalog/services: service name -> the union of its instances' tags.
std::map<std::string, std::vector<std::string>> parse_catalog_services(std::string_view body);

/// One check of a health entry.
struct HealthCheck {
  std::string id;
  std::string name;
  CheckStatus status = CheckStatus::critical;
  std::string output;
  std::string service_id; ///< "" for node checks (serfHealth)
};

/// One entry of /v1/health/service/NAME: a service instance, its node and their checks.
struct HealthEntry {
  std::string node;
  std::string node_address;
  std::string id;      ///< service ID
  std::string name;    ///< service name
  std::string address; ///< the service's own address, "" when it has none
  std::uint16_t port = 0;
  std::vector<std::string> tags;
  std::map<std::string, std::string> meta;
  std::vector<HealthCheck> checks; ///< node checks and the service's checks
};

/// Maps /v1/health/service/NAME; `[]`/`null` containers and an omitted Port are accepted.
std::vector<HealthEntry> parse_health_service(std::string_view body);

/// The worst status among an entry's checks (critical > warning > passing); passing when it has
/// none, as Consul's ?passing filter counts it.
CheckStatus aggregate_status(const HealthEntry& entry);

/// The route model's view of a health entry: app = name, instance = the ID after "APP@" (or the
/// whole ID when someone else registered it), key = ID, value and address "ADDRESS:PORT" with the
/// node address when the service has none; health from aggregate_status().
Instance to_instance(const HealthEntry& entry);

// --- blocking queries --------------------------------------------------------------------------

/// The X-Consul-Index header, or 0 when absent or not a number.
std::uint64_t parse_index(const std::optional<std::string>& header);

/// What one blocking query's returned index means for the next one (§8.4).
struct IndexStep {
  std::uint64_t next = 0; ///< the index to send with the next query
  bool changed = false;   ///< the result may differ from the one at `previous`
  bool reset = false;     ///< the index went backwards: state was replaced, read from scratch
};

/// Applies Consul's client rules to `returned` after a query sent with `previous`: 0 counts as 1
/// (never block on 0, the loop would spin); an index that went backwards is a reset (the agent
/// restarted or was restored) and the result is new; the same index is no change, whatever the
/// body (a wait that ran out is not an event).
IndexStep next_index(std::uint64_t previous, std::uint64_t returned);

// --- errors ------------------------------------------------------------------------------------

/// True for an agent's "I do not know this check" answer to a TTL update: 404 "Unknown check ID"
/// (recent) or 500 "does not have associated TTL" (Consul <= 1.10), both meaning "re-register".
bool is_unknown_check(long status, std::string_view body);

/// One line explaining a 403 from Consul at `endpoint` for `what` ("PUT /v1/kv/x"): an unknown
/// token, a token without the permission, or no token at all, with what to do. `body` is
/// Consul's text; `token` is removed from it should Consul ever echo it.
std::string explain_forbidden(std::string_view endpoint, std::string_view what,
                              std::string_view body, bool token_sent, std::string_view token);

/// Removes every occurrence of `secret` from `text` (an empty secret removes nothing).
std::string redact(std::string text, std::string_view secret);

} // namespace herald::registry::consul
