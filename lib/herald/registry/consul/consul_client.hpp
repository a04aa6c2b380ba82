#pragma once

// A client of the Consul HTTP API (the subset herald uses: agent services and TTL checks,
// catalog, health, KV, blocking queries) over herald::http::Client. Only the consul backend and
// its tests include it.

#include "herald/http/client.hpp"
#include "herald/registry/consul/consul_json.hpp"
#include "herald/registry/registry.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::registry::consul {

/// How a read blocks (§8.2): `index` 0 reads at once; otherwise the agent answers when the
/// result's index passes `index` or after `wait` (plus Consul's jitter of up to wait/16).
struct QueryOptions {
  std::uint64_t index = 0;
  std::chrono::milliseconds wait{0}; ///< 0 with an index: Consul's default of 5 minutes
};

/// A read's result and the X-Consul-Index it came with (never 0: Consul's "at least 1").
template <typename T> struct QueryResult {
  T value{};
  std::uint64_t index = 1;
};

/// The Consul HTTP API. Not thread-safe, like the http::Client below it.
class Client {
public:
  /// A client of `endpoints` with the timeouts, TLS files, stop token and ACL token of
  /// `options`. The token is sent as X-Consul-Token and never logged, never put in a URL and
  /// never echoed in an error.
  Client(std::vector<http::Endpoint> endpoints, const Options& options);

  // --- agent -------------------------------------------------------------------------------

  /// PUT /v1/agent/service/register of `service` with its TTL check.
  void register_service(const ServiceDefinition& service);
  /// PUT /v1/agent/check/{pass,warn,fail}/ID?note=OUTPUT; false when the agent does not know
  /// the check (404, or 500 "does not have associated TTL" from older agents).
  bool update_ttl(std::string_view check_id, CheckStatus status, std::string_view output);
  /// PUT /v1/agent/service/deregister/ID; false when the agent did not know it (404).
  bool deregister_service(std::string_view service_id);
  /// GET /v1/agent/services, keyed by service ID.
  std::map<std::string, AgentService> agent_services();

  // --- catalog and health ----------------------------------------------------------------

  /// GET /v1/catalog/services: name -> tags.
  QueryResult<std::map<std::string, std::vector<std::string>>>
  catalog_services(const QueryOptions& query = {});
  /// GET /v1/health/service/NAME, only instances whose every check passes when
  /// `passing_only`, with every tag of `tags` (Consul's ?tag=, AND).
  QueryResult<std::vector<HealthEntry>> health_service(std::string_view name, bool passing_only,
                                                       const std::vector<std::string>& tags = {},
                                                       const QueryOptions& query = {});
  /// The index of GET /v1/health/state/any: it moves with every check and service change.
  std::uint64_t health_state_index(const QueryOptions& query = {});

  // --- KV (keys as Consul has them, no leading '/') ---------------------------------------

  /// GET /v1/kv/KEY: the entry, or nullopt (404) with the KV index.
  QueryResult<std::optional<KvEntry>> kv_get(std::string_view key, const QueryOptions& query = {});
  /// GET /v1/kv/PREFIX?recurse: every entry whose key starts with `prefix` (plain string
  /// prefix, as Consul matches), sorted; empty (404) with the index.
  QueryResult<std::vector<KvEntry>> kv_list(std::string_view prefix,
                                            const QueryOptions& query = {});
  /// GET /v1/kv/PREFIX?keys[&separator=SEP]: key names, cut after `separator` when given.
  QueryResult<std::vector<std::string>>
  kv_keys(std::string_view prefix, std::string_view separator = {}, const QueryOptions& query = {});
  /// PUT /v1/kv/KEY with the raw bytes; with `cas` only when the key's ModifyIndex is `cas`
  /// (0: only when absent). False when the cas did not hold.
  bool kv_put(std::string_view key, std::string_view value,
              std::optional<std::uint64_t> cas = std::nullopt);
  /// DELETE /v1/kv/KEY (`recurse`: everything starting with KEY); with `cas` only when the
  /// ModifyIndex matches. False when the cas did not hold.
  bool kv_delete(std::string_view key, bool recurse = false,
                 std::optional<std::uint64_t> cas = std::nullopt);

  /// Replaces the stop token (see http::Client::set_stop).
  void set_stop(const StopToken* stop);
  /// "127.0.0.1:8500": the endpoint that answered last, for messages.
  std::string endpoint_text() const;

private:
  http::Request read_request(std::string path, const QueryOptions& query) const;
  http::Response send(const http::Request& request);
  http::Response read(const http::Request& request, bool missing_is_empty);
  [[noreturn]] void fail(const http::Request& request, const http::Response& response) const;

  http::Client m_http;
  std::string m_token;
  std::chrono::milliseconds m_request_timeout;
};

} // namespace herald::registry::consul
