// Consul's HTTP API answers: KV entries and keys, agent and catalog services, health.
#include "herald/registry/consul/consul_json.hpp"

#include "fuzz.hpp"

using namespace herald::registry::consul;

HERALD_FUZZ_TARGET(consul_json) {
  std::string_view text = herald::fuzz::text_of(data, size);
  herald::fuzz::expect_data_errors([&] {
    for (const auto& entry : parse_kv_entries(text)) {
      herald::fuzz::expect_data_errors([&] { to_key_value(entry); });
    }
  });
  herald::fuzz::expect_data_errors([&] { parse_kv_keys(text); });
  herald::fuzz::expect_data_errors([&] { parse_kv_bool(text); });
  herald::fuzz::expect_data_errors([&] { parse_agent_services(text); });
  herald::fuzz::expect_data_errors([&] { parse_catalog_services(text); });
  herald::fuzz::expect_data_errors([&] {
    for (const auto& entry : parse_health_service(text)) {
      aggregate_status(entry);
      herald::fuzz::expect_data_errors([&] { to_instance(entry); });
    }
  });
  return 0;
}
