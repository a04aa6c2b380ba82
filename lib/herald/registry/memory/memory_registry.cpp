#include "herald/registry/memory/memory_registry.hpp"

#include "herald/core/error.hpp"
#include "herald/registry/backends.hpp"
#include "herald/registry/layout.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <vector>

namespace herald::registry::memory {

namespace {

// A blocked watch with a stop token re-checks it this often: a StopToken cannot notify our
// condition variable.
constexpr std::chrono::milliseconds k_stop_poll{20};

} // namespace

MemoryRegistry::MemoryRegistry(const StopToken* stop, std::size_t history_limit)
    : m_stop(stop), m_history_limit(std::max<std::size_t>(history_limit, 1)) {}

std::optional<KeyValue> MemoryRegistry::get(std::string_view key) {
  std::lock_guard lock(m_mutex);
  check_outage(key);
  auto now = Clock::now();
  expire_leases(now);
  auto it = m_keys.find(key);
  if (it == m_keys.end()) {
    return std::nullopt;
  }
  return to_key_value(it->first, it->second, now);
}

Snapshot MemoryRegistry::list(std::string_view prefix) {
  std::lock_guard lock(m_mutex);
  check_outage(prefix);
  auto now = Clock::now();
  expire_leases(now);
  Snapshot out;
  out.index = m_revision;
  for (auto it = m_keys.lower_bound(prefix); it != m_keys.end(); ++it) {
    if (!it->first.starts_with(prefix)) {
      break;
    }
    if (key_in_dir(it->first, prefix)) {
      out.entries.push_back(to_key_value(it->first, it->second, now));
    }
  }
  return out;
}

void MemoryRegistry::put(std::string_view key, std::string_view value) {
  std::lock_guard lock(m_mutex);
  expire_leases(Clock::now());
  apply_put(key, value, 0);
}

bool MemoryRegistry::remove(std::string_view key) {
  std::lock_guard lock(m_mutex);
  expire_leases(Clock::now());
  return apply_remove(key);
}

WatchBatch MemoryRegistry::watch(std::string_view prefix, std::int64_t after_index,
                                 std::chrono::milliseconds max_wait) {
  std::unique_lock lock(m_mutex);
  auto deadline = Clock::now() + std::max(max_wait, std::chrono::milliseconds(0));
  while (true) {
    auto now = Clock::now();
    expire_leases(now);
    if (m_stop != nullptr && m_stop->requested()) {
      throw Error(ErrorKind::cancelled, "watch of '" + std::string(prefix) + "' stopped");
    }
    check_outage(prefix);
    WatchBatch batch;
    if (after_index < m_compacted) {
      batch.resync = true;
      batch.index = m_revision;
      return batch;
    }
    for (const auto& event : m_history) {
      if (event.kv.modify_index > after_index && key_in_dir(event.kv.key, prefix)) {
        batch.events.push_back(event);
      }
    }
    if (!batch.events.empty()) {
      batch.index = m_revision;
      return batch;
    }
    if (m_watched_to < m_revision) {
      m_watched_to = m_revision;
      m_watcher_caught.notify_all();
    }
    if (now >= deadline) {
      batch.index = after_index;
      return batch;
    }
    auto wake = deadline;
    if (auto expiry = next_expiry()) {
      wake = std::min(wake, *expiry);
    }
    if (m_stop != nullptr) {
      wake = std::min(wake, now + k_stop_poll);
    }
    m_changed.wait_until(lock, wake);
  }
}

void MemoryRegistry::register_instance(const Registration& reg) {
  std::lock_guard lock(m_mutex);
  auto now = Clock::now();
  expire_leases(now);
  std::int64_t lease = m_next_lease++;
  m_leases[lease] = Lease{reg.ttl, now + reg.ttl};
  // The key moves to the new lease before the old one goes, so it never disappears in between.
  apply_put(reg.key, reg.value, lease);
  if (auto it = m_registrations.find(reg.key); it != m_registrations.end()) {
    revoke_lease(it->second);
    it->second = lease;
  } else {
    m_registrations.emplace(reg.key, lease);
  }
}

KeepAlive MemoryRegistry::refresh_instance(const Registration& reg) {
  std::lock_guard lock(m_mutex);
  auto now = Clock::now();
  expire_leases(now);
  auto reg_it = m_registrations.find(reg.key);
  if (reg_it == m_registrations.end()) {
    return KeepAlive::lost;
  }
  auto lease_it = m_leases.find(reg_it->second);
  if (lease_it == m_leases.end()) {
    m_registrations.erase(reg_it);
    return KeepAlive::lost;
  }
  lease_it->second.expires = now + lease_it->second.ttl;
  // Like the etcd3 backend: a key deleted or overwritten by someone else comes back now, and an
  // intact one is left alone so watchers see no event for a heartbeat.
  auto key_it = m_keys.find(reg.key);
  if (key_it == m_keys.end() || key_it->second.value != reg.value ||
      key_it->second.lease != reg_it->second) {
    apply_put(reg.key, reg.value, reg_it->second);
    return KeepAlive::rewritten;
  }
  return KeepAlive::alive;
}

void MemoryRegistry::withdraw_instance(const Registration& reg, std::string_view /*reason*/) {
  deregister_instance(reg);
}

bool MemoryRegistry::deregister_instance(const Registration& reg) {
  std::lock_guard lock(m_mutex);
  expire_leases(Clock::now());
  bool existed = apply_remove(reg.key);
  if (auto it = m_registrations.find(reg.key); it != m_registrations.end()) {
    revoke_lease(it->second);
    m_registrations.erase(it);
  }
  return existed;
}

std::vector<Instance> MemoryRegistry::instances(const InstanceQuery& query) {
  return instances_from_snapshot(list(query.prefix), query);
}

void MemoryRegistry::compact(std::int64_t index) {
  std::lock_guard lock(m_mutex);
  while (!m_history.empty() && m_history.front().kv.modify_index <= index) {
    m_history.pop_front();
  }
  m_compacted = std::max(m_compacted, std::min(index, m_revision));
}

std::int64_t MemoryRegistry::revision() const {
  std::lock_guard lock(m_mutex);
  return m_revision;
}

void MemoryRegistry::set_read_outage(std::optional<ErrorKind> kind) {
  std::lock_guard lock(m_mutex);
  m_outage = kind;
  m_changed.notify_all(); // a blocked watch() fails now, as a dropped connection does
}

std::size_t MemoryRegistry::refused_reads() const {
  std::lock_guard lock(m_mutex);
  return m_refused_reads;
}

bool MemoryRegistry::await_watcher(std::int64_t index, std::chrono::milliseconds timeout) {
  std::unique_lock lock(m_mutex);
  return m_watcher_caught.wait_for(lock, timeout, [&] { return m_watched_to >= index; });
}

void MemoryRegistry::check_outage(std::string_view what) {
  if (m_outage) {
    ++m_refused_reads;
    throw Error(*m_outage, fmt::format("{}: reading '{}' failed: connection lost (test outage)",
                                       describe(), what));
  }
}

void MemoryRegistry::expire_leases(Clock::time_point now) {
  std::vector<std::int64_t> expired;
  for (const auto& [id, lease] : m_leases) {
    if (lease.expires <= now) {
      expired.push_back(id);
    }
  }
  for (auto id : expired) {
    revoke_lease(id);
  }
}

void MemoryRegistry::apply_put(std::string_view key, std::string_view value, std::int64_t lease) {
  ++m_revision;
  auto it = m_keys.find(key);
  if (it == m_keys.end()) {
    it = m_keys.emplace(std::string(key), Entry{}).first;
    it->second.create_index = m_revision;
  }
  it->second.value = std::string(value);
  it->second.modify_index = m_revision;
  it->second.lease = lease;
  Event event;
  event.type = Event::Type::put;
  event.kv = to_key_value(it->first, it->second, Clock::now());
  record(std::move(event));
}

bool MemoryRegistry::apply_remove(std::string_view key) {
  auto it = m_keys.find(key);
  if (it == m_keys.end()) {
    return false;
  }
  ++m_revision;
  Event event;
  event.type = Event::Type::remove;
  event.kv.key = it->first;
  event.kv.modify_index = m_revision;
  m_keys.erase(it);
  record(std::move(event));
  return true;
}

void MemoryRegistry::revoke_lease(std::int64_t id) {
  if (m_leases.erase(id) == 0) {
    return;
  }
  std::vector<std::string> bound;
  for (const auto& [key, entry] : m_keys) {
    if (entry.lease == id) {
      bound.push_back(key);
    }
  }
  for (const auto& key : bound) {
    apply_remove(key);
  }
}

void MemoryRegistry::record(Event event) {
  m_history.push_back(std::move(event));
  while (m_history.size() > m_history_limit) {
    m_compacted = m_history.front().kv.modify_index;
    m_history.pop_front();
  }
  m_changed.notify_all();
}

KeyValue MemoryRegistry::to_key_value(const std::string& key, const Entry& entry,
                                      Clock::time_point now) const {
  KeyValue kv;
  kv.key = key;
  kv.value = entry.value;
  kv.create_index = entry.create_index;
  kv.modify_index = entry.modify_index;
  kv.lease = entry.lease;
  if (auto it = m_leases.find(entry.lease); entry.lease != 0 && it != m_leases.end()) {
    // Round up, as etcd does: a lease with 0.4 s left still reports 1 s.
    auto left = std::chrono::ceil<std::chrono::seconds>(it->second.expires - now);
    kv.ttl = std::max(left, std::chrono::seconds(0));
  }
  return kv;
}

std::optional<MemoryRegistry::Clock::time_point> MemoryRegistry::next_expiry() const {
  std::optional<Clock::time_point> out;
  for (const auto& [id, lease] : m_leases) {
    if (!out || lease.expires < *out) {
      out = lease.expires;
    }
  }
  return out;
}

std::unique_ptr<Registry> make_memory_registry(const StopToken* stop) {
  return std::make_unique<MemoryRegistry>(stop);
}

} // namespace herald::registry::memory

namespace herald::registry {

std::unique_ptr<Registry> make_memory_registry() {
  return std::make_unique<memory::MemoryRegistry>();
}

} // namespace herald::registry
