// Registrations on etcd leases: one lease per registered key, granted with the TTL, kept alive by
// refresh_instance(), revoked when the registration goes.
#include "herald/core/error.hpp"
#include "herald/registry/etcd3/etcd3_registry_impl.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <utility>

namespace herald::registry::etcd3 {

std::int64_t Etcd3Registry::grant_lease(std::chrono::seconds ttl) {
  auto grant = parse_lease_grant(m_gateway.call("/lease/grant", lease_grant_request(ttl)));
  if (!grant.error.empty() || grant.id == 0) {
    throw Error(ErrorKind::temporary,
                fmt::format("etcd at {} did not grant a {}s lease: {}",
                            m_gateway.client().current_endpoint().str(), ttl.count(),
                            grant.error.empty() ? "no lease ID in the answer" : grant.error));
  }
  return grant.id;
}

void Etcd3Registry::revoke_lease_quietly(std::int64_t id) {
  try {
    // /kv/lease/revoke is the path every gateway version knows (3.4+ also has /lease/revoke).
    m_gateway.call("/kv/lease/revoke", lease_request(id));
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::not_found) {
      throw;
    }
    // Already expired or revoked: what we wanted.
  }
}

void Etcd3Registry::register_instance(const Registration& reg) {
  std::int64_t lease = grant_lease(reg.ttl);
  try {
    m_gateway.call("/kv/put", put_request(reg.key, reg.value, lease));
  } catch (const Error&) {
    try {
      revoke_lease_quietly(lease);
    } catch (const Error&) {
      // It expires on its own after reg.ttl.
    }
    throw;
  }
  auto [it, inserted] = m_leases.try_emplace(reg.key, lease);
  if (!inserted) {
    // The key is on the new lease already, so revoking the old one leaves it in place.
    std::int64_t old = std::exchange(it->second, lease);
    if (old != lease) {
      revoke_lease_quietly(old);
    }
  }
}

KeepAlive Etcd3Registry::refresh_instance(const Registration& reg) {
  auto it = m_leases.find(reg.key);
  if (it == m_leases.end()) {
    return KeepAlive::lost;
  }
  std::int64_t lease = it->second;
  // The gateway's keep-alive is a stream; with one request body it answers once and ends.
  auto alive = parse_keepalive(m_gateway.call("/lease/keepalive", lease_request(lease)));
  if (alive.ttl <= 0) {
    m_leases.erase(it);
    return KeepAlive::lost;
  }
  TxnResult txn;
  try {
    txn = parse_txn(m_gateway.call("/kv/txn", refresh_txn_request(reg.key, reg.value, lease)));
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::not_found) {
      throw;
    }
    m_leases.erase(reg.key); // the lease lapsed between keep-alive and txn
    return KeepAlive::lost;
  }
  // The caller says what it means (another writer, see announce::Sidekick): it logs, not us.
  return txn.succeeded ? KeepAlive::alive : KeepAlive::rewritten;
}

void Etcd3Registry::withdraw_instance(const Registration& reg, std::string_view /*reason*/) {
  deregister_instance(reg);
}

bool Etcd3Registry::deregister_instance(const Registration& reg) {
  auto result = parse_delete(m_gateway.call("/kv/deleterange", delete_request(reg.key, {}, true)));
  if (auto it = m_leases.find(reg.key); it != m_leases.end()) {
    revoke_lease_quietly(it->second);
    m_leases.erase(it);
  }
  return result.deleted > 0;
}

} // namespace herald::registry::etcd3
