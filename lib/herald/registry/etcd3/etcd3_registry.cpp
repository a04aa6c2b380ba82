#include "herald/core/error.hpp"
#include "herald/registry/backends.hpp"
#include "herald/registry/etcd3/etcd3_registry_impl.hpp"
#include "herald/registry/layout.hpp"

#include <fmt/format.h>
#include <utility>

namespace herald::registry {

namespace etcd3 {

namespace {

std::string describe_location(const Location& location) {
  std::string out = location.tls ? "etcd+https://" : "etcd://";
  for (std::size_t i = 0; i < location.endpoints.size(); ++i) {
    const auto& e = location.endpoints[i];
    if (i > 0) {
      out += ",";
    }
    out += e.host.find(':') != std::string::npos ? fmt::format("[{}]:{}", e.host, e.port)
                                                 : fmt::format("{}:{}", e.host, e.port);
  }
  return out;
}

} // namespace

Etcd3Registry::Etcd3Registry(const Location& location, const Options& options)
    : m_description(describe_location(location)), m_gateway(location, options) {}

std::optional<KeyValue> Etcd3Registry::get(std::string_view key) {
  RangeRequest request;
  request.key = std::string(key);
  auto result = parse_range(m_gateway.call("/kv/range", range_request(request)));
  if (result.kvs.empty()) {
    return std::nullopt;
  }
  return std::move(result.kvs.front());
}

void Etcd3Registry::put(std::string_view key, std::string_view value) {
  m_gateway.call("/kv/put", put_request(key, value));
}

bool Etcd3Registry::remove(std::string_view key) {
  return parse_delete(m_gateway.call("/kv/deleterange", delete_request(key))).deleted > 0;
}

std::vector<Instance> Etcd3Registry::instances(const InstanceQuery& query) {
  Snapshot snapshot = list(query.prefix);
  if (query.with_ttl) {
    std::map<std::int64_t, std::optional<std::chrono::seconds>> ttls;
    for (const auto& kv : snapshot.entries) {
      if (kv.lease != 0 && !ttls.contains(kv.lease)) {
        auto ttl =
            parse_time_to_live(m_gateway.call("/kv/lease/timetolive", lease_request(kv.lease)));
        ttls[kv.lease] = ttl.ttl >= 0 ? std::optional(std::chrono::seconds(ttl.ttl)) : std::nullopt;
      }
    }
    for (auto& kv : snapshot.entries) {
      if (kv.lease != 0) {
        kv.ttl = ttls[kv.lease];
      }
    }
  }
  return instances_from_snapshot(snapshot, query);
}

} // namespace etcd3

std::unique_ptr<Registry> make_etcd3_registry(const Location& location, const Options& options) {
  if (location.endpoints.empty()) {
    throw Error(ErrorKind::config, "the etcd registry URL names no endpoint");
  }
  return std::make_unique<etcd3::Etcd3Registry>(location, options);
}

} // namespace herald::registry
