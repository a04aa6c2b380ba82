#pragma once

#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/registry/registry.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace herald::registry::memory {

/// An in-process Registry with etcd v3 semantics: one global revision, per-key create/modify
/// indexes, leases (steady clock) behind instance registrations, and blocking watches replayed
/// from a bounded history. Unlike the network backends it is thread-safe, so a test can change it
/// from one thread while another blocks in watch().
class MemoryRegistry final : public Registry {
public:
  /// How many events watch() can replay by default.
  static constexpr std::size_t k_default_history = 1000;

  /// `stop` (optional) makes a blocked watch() throw Error(cancelled) once a stop is requested.
  explicit MemoryRegistry(const StopToken* stop = nullptr,
                          std::size_t history_limit = k_default_history);

  std::string_view backend() const override { return "memory"; }
  std::string describe() const override { return "memory://"; }

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

  /// Forgets the history up to and including `index`, as etcd compaction does: a watch from an
  /// older index then reports resync.
  void compact(std::int64_t index);

  /// The revision of the latest change (0 before the first).
  std::int64_t revision() const;

  // --- test knobs: what a network backend does to its callers, on demand -------------------

  /// Cuts the readers off, as a partition between a watcher and its server does: while `kind` is
  /// set, get(), list(), watch() and instances() throw Error(*kind) (a blocked watch() at once),
  /// while writes still succeed, as other clients' writes reach the server. nullopt ends the
  /// outage; data and history are kept, so a watch resumes from the index it had.
  void set_read_outage(std::optional<ErrorKind> kind);

  /// How many reads set_read_outage() has refused so far.
  std::size_t refused_reads() const;

  /// Waits up to `timeout` until some watch() is blocked with nothing to report up to revision
  /// `index` or later, i.e. its caller has taken in every change up to there; true when one did.
  /// A test calls it before asserting on what the watcher did with those changes.
  bool await_watcher(std::int64_t index, std::chrono::milliseconds timeout);

private:
  using Clock = std::chrono::steady_clock;

  struct Entry {
    std::string value;
    std::int64_t create_index = 0;
    std::int64_t modify_index = 0;
    std::int64_t lease = 0;
  };
  struct Lease {
    std::chrono::seconds ttl{0};
    Clock::time_point expires;
  };

  void expire_leases(Clock::time_point now);
  void apply_put(std::string_view key, std::string_view value, std::int64_t lease);
  bool apply_remove(std::string_view key);
  void revoke_lease(std::int64_t id);
  void record(Event event);
  void check_outage(std::string_view what);
  KeyValue to_key_value(const std::string& key, const Entry& entry, Clock::time_point now) const;
  std::optional<Clock::time_point> next_expiry() const;

  const StopToken* m_stop;
  std::size_t m_history_limit;
  mutable std::mutex m_mutex;
  std::condition_variable m_changed;
  std::map<std::string, Entry, std::less<>> m_keys;
  std::map<std::int64_t, Lease> m_leases;
  std::map<std::string, std::int64_t, std::less<>> m_registrations; ///< key -> its lease
  std::deque<Event> m_history;  ///< every change after m_compacted, oldest first
  std::int64_t m_revision = 0;  ///< the latest change
  std::int64_t m_compacted = 0; ///< history after this revision is complete
  std::int64_t m_next_lease = 1;
  std::optional<ErrorKind> m_outage; ///< set_read_outage()
  std::size_t m_refused_reads = 0;
  std::int64_t m_watched_to = -1;           ///< the latest revision a blocked watch() had seen
  std::condition_variable m_watcher_caught; ///< m_watched_to moved
};

/// A MemoryRegistry whose watches honour `stop` (the memory:// row of registry::open()).
std::unique_ptr<Registry> make_memory_registry(const StopToken* stop);

} // namespace herald::registry::memory
