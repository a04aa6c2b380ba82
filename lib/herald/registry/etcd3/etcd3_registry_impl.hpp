#pragma once

// The etcd3 backend, private to registry/etcd3/; reached through make_etcd3_registry(). Its
// operations live one concern a file: etcd3_registry.cpp (keys and instances), etcd3_list.cpp
// (paged reads over gRPC, the gateway as fallback), etcd3_leases.cpp (registrations on leases),
// etcd3_watch.cpp (watch() over the kept-open stream of etcd3_watch_stream.cpp),
// etcd3_v2_probe.cpp (the other keyspace); requests, auth and errors in etcd3_gateway.cpp.

#include "herald/http/client.hpp"
#include "herald/registry/etcd3/etcd3_gateway_impl.hpp"
#include "herald/registry/etcd3/etcd3_json.hpp"
#include "herald/registry/etcd3/etcd3_watch_stream_impl.hpp"
#include "herald/registry/registry.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::registry::etcd3 {

/// etcd v3: whole-prefix reads over gRPC, everything else through the JSON gateway. One lease per
/// registration, kept here (key -> lease ID).
class Etcd3Registry final : public Registry {
public:
  Etcd3Registry(const Location& location, const Options& options);

  std::string_view backend() const override { return "etcd3"; }
  std::string describe() const override { return m_description; }

  std::optional<KeyValue> get(std::string_view key) override;
  Snapshot list(std::string_view prefix) override;
  void put(std::string_view key, std::string_view value) override;
  bool remove(std::string_view key) override;
  WatchBatch watch(std::string_view prefix, std::int64_t after_index,
                   std::chrono::milliseconds max_wait) override;

  void register_instance(const Registration& reg) override;
  KeepAlive refresh_instance(const Registration& reg) override;
  void withdraw_instance(const Registration& reg, std::string_view reason) override;
  bool deregister_instance(const Registration& reg) override;
  std::vector<Instance> instances(const InstanceQuery& query) override;

  std::optional<std::size_t> count_in_other_keyspace(std::string_view prefix) override;

private:
  RangeResult range_page(RangeRequest& request);
  std::optional<RangeResult> grpc_range(const RangeRequest& request);

  std::int64_t grant_lease(std::chrono::seconds ttl);
  void revoke_lease_quietly(std::int64_t id);

  std::unique_ptr<WatchStream> open_watch_stream(std::string_view prefix,
                                                 std::int64_t after_index) const;

  std::string m_description;
  Gateway m_gateway;
  /// list()'s gRPC connection, opened by the first list(): one-shot writes never pay for it.
  std::optional<http::Client> m_grpc;
  bool m_grpc_off = false; ///< the endpoint answers the gateway but not gRPC (a JSON-only proxy)
  std::map<std::string, std::int64_t, std::less<>> m_leases; ///< registered key -> its lease
  std::unique_ptr<WatchStream> m_watch_stream; ///< watch()'s stream, kept open between calls
};

} // namespace herald::registry::etcd3
