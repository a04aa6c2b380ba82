// Consul's HTTP API answers: KV entries and keys, agent and catalog services, health.
// Properties: an instance herald would route to has an address, tags and meta that follow the
// address rule (anything else is flagged with a problem, never routed); a KV entry keeps its value
// and its key reads back as the Consul key it came from; a path escape keeps only URL-safe bytes
// and decodes back to the text it escaped.
#include "herald/registry/consul/consul_json.hpp"

#include "fuzz.hpp"
#include "herald/core/address.hpp"

#include <string>

using namespace herald::registry::consul;

namespace {

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool url_safe(std::string_view text, bool keep_slash) {
  for (unsigned char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              std::string_view("-._~:@%").find(static_cast<char>(c)) != std::string_view::npos ||
              (keep_slash && c == '/');
    if (!ok) {
      return false;
    }
  }
  return true;
}

} // namespace

HERALD_FUZZ_TARGET(consul_json) {
  std::string_view text = herald::fuzz::text_of(data, size);
  herald::fuzz::expect_data_errors([&] {
    for (const auto& entry : parse_kv_entries(text)) {
      herald::fuzz::expect_data_errors([&] {
        auto kv = to_key_value(entry);
        HERALD_FUZZ_CHECK(kv.value == entry.value);
        HERALD_FUZZ_CHECK(to_consul_key(kv.key) == to_consul_key(entry.key));
      });
    }
  });
  herald::fuzz::expect_data_errors([&] { parse_kv_keys(text); });
  herald::fuzz::expect_data_errors([&] { parse_kv_bool(text); });
  herald::fuzz::expect_data_errors([&] { parse_agent_services(text); });
  herald::fuzz::expect_data_errors([&] { parse_catalog_services(text); });
  herald::fuzz::expect_data_errors([&] {
    for (const auto& entry : parse_health_service(text)) {
      aggregate_status(entry);
      herald::fuzz::expect_data_errors([&] {
        auto instance = to_instance(entry);
        if (instance.address) {
          HERALD_FUZZ_CHECK(herald::is_valid_host(instance.address->host));
          HERALD_FUZZ_CHECK(instance.address->port != 0);
          HERALD_FUZZ_CHECK(instance.problem.empty());
          for (const auto& tag : instance.tags) {
            HERALD_FUZZ_CHECK(!herald::tag_problem(tag));
          }
          for (const auto& [key, value] : instance.meta) {
            HERALD_FUZZ_CHECK(!herald::meta_key_problem(key));
            HERALD_FUZZ_CHECK(!herald::meta_value_problem(value));
          }
        } else {
          HERALD_FUZZ_CHECK(!instance.problem.empty());
        }
      });
    }
  });
  for (bool keep_slash : {true, false}) {
    std::string escaped = escape_path(text, keep_slash);
    HERALD_FUZZ_CHECK(url_safe(escaped, keep_slash));
    HERALD_FUZZ_CHECK(percent_decode(escaped) == text);
  }
  return 0;
}
