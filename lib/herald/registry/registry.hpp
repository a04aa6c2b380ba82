#pragma once

#include "herald/core/name.hpp"
#include "herald/core/stop.hpp"
#include "herald/http/client.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::registry {

/// One key and its value, with the backend's bookkeeping.
struct KeyValue {
  std::string key;
  std::string value;
  std::int64_t create_index = 0; ///< etcd3 create_revision, etcd2 createdIndex, Consul CreateIndex
  std::int64_t modify_index = 0; ///< etcd3 mod_revision, etcd2 modifiedIndex, Consul ModifyIndex
  /// Time to live left, when the backend knows it (etcd2 ttl, etcd3 lease TTL when asked).
  std::optional<std::chrono::seconds> ttl;
  std::int64_t lease = 0; ///< etcd3 lease ID, 0 for none

  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

/// Every key under a prefix at one moment. `index` is the revision/index of that moment: a watch
/// from it sees exactly the changes made after the snapshot.
struct Snapshot {
  std::vector<KeyValue> entries; ///< sorted by key
  std::int64_t index = 0;
};

/// A change seen by watch().
struct Event {
  enum class Type { put, remove };
  Type type = Type::put;
  KeyValue kv; ///< for remove, only `key` and `modify_index` are meaningful
};

/// What one watch() call saw.
struct WatchBatch {
  std::vector<Event> events; ///< in order; empty when the wait ended without a change
  std::int64_t index = 0;    ///< pass this as `after_index` to the next watch()
  /// The backend could not replay history from `after_index` (etcd3 compaction, etcd2 "index
  /// cleared", a Consul index reset): events is empty and the caller must list() again.
  bool resync = false;
};

/// An instance as the router sees it: the route model shared by `route ls` and templates.
struct Instance {
  enum class Health { passing, warning, critical, unknown };

  std::string app;
  std::string instance;            ///< "" for the single-key layout /services/clusters/APP
  std::string key;                 ///< where it lives: an etcd key, or a Consul service ID
  std::string value;               ///< the raw value as stored (etcd), or "ADDRESS:PORT" (Consul)
  std::optional<HostPort> address; ///< nullopt when the value is malformed (flagged, not fatal)
  std::string problem;             ///< why address is nullopt (registry::check_instance)
  Health health = Health::unknown; ///< etcd has no health: an existing key is `passing`
  std::vector<std::string> tags;
  std::map<std::string, std::string> meta;
  std::optional<std::chrono::seconds> ttl_left; ///< etcd key TTL / lease time left
  std::string node;                             ///< Consul node, "" elsewhere
};

/// Which instances instances() returns.
struct InstanceQuery {
  std::string prefix = "/services/web"; ///< etcd layout root; ignored by Consul
  std::vector<std::string> apps;        ///< empty = all
  bool include_unhealthy = false;       ///< Consul: include critical/warning instances
  bool with_ttl = false;                ///< etcd3: ask each lease its TTL left (one call a lease)
};

/// What announce keeps registered for one instance.
struct Registration {
  InstanceName name;
  std::string key;   ///< etcd key ("/services/web/web/web@1")
  std::string value; ///< etcd value ("10.0.0.5:3000" or the JSON form)
  HostPort address;
  std::vector<std::string> tags;
  std::map<std::string, std::string> meta;
  std::chrono::seconds ttl{60};
};

/// Outcome of one keep-alive.
enum class KeepAlive {
  alive, ///< the registration is in place and its TTL was extended
  lost,  ///< it is gone (expired, deleted by someone, lease unknown): register again
  /// Someone else had deleted or changed the key; it was written again in the same call (etcd3,
  /// memory). Two sidekicks announcing one instance see this at every refresh.
  rewritten
};

/// Connection settings shared by every backend. Secrets are held here and never logged.
struct Options {
  http::TlsOptions tls;
  std::string username; ///< etcd3 auth user
  std::string password; ///< etcd3 auth password (read from a file or env, never argv)
  std::string token;    ///< Consul ACL token
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds request_timeout{5000};
  const StopToken* stop = nullptr; ///< aborts in-flight requests (and watches) when requested
};

/// The HTTP client settings every backend starts from: the timeouts, TLS files and stop token of
/// `options`, named `name` in messages ("etcd at ..."). Credentials are the backend's to add.
http::ClientOptions http_client_options(const Options& options, std::string name);

/// The operations every backend offers (DESIGN.md, "The registry contract"). Errors are thrown as
/// herald::Error: unavailable/temporary (retry with backoff), config (credentials, URL), data.
/// A Registry object is used from one thread at a time.
class Registry {
public:
  virtual ~Registry() = default;

  /// "etcd3", "etcd2", "consul" or "memory".
  virtual std::string_view backend() const = 0;
  /// The URL it talks to, without credentials ("etcd://127.0.0.1:2379").
  virtual std::string describe() const = 0;

  // --- keys ---------------------------------------------------------------------------------

  /// The key, or nullopt when absent.
  virtual std::optional<KeyValue> get(std::string_view key) = 0;
  /// Every key under `prefix` (recursively), sorted, as one consistent snapshot.
  virtual Snapshot list(std::string_view prefix) = 0;
  /// Creates or replaces a plain key (no TTL).
  virtual void put(std::string_view key, std::string_view value) = 0;
  /// Deletes a key; returns false when it did not exist.
  virtual bool remove(std::string_view key) = 0;
  /// Blocks until keys under `prefix` change after `after_index` or `max_wait` passes (then the
  /// batch is empty with the same index). Honours Options::stop (throws Error(cancelled)).
  virtual WatchBatch watch(std::string_view prefix, std::int64_t after_index,
                           std::chrono::milliseconds max_wait) = 0;

  // --- instances (announce / deregister / route) ---------------------------------------------

  /// Makes the instance present and routable with its TTL (etcd: key bound to a lease or TTL;
  /// Consul: a service with a passing TTL check). Replaces an existing registration.
  virtual void register_instance(const Registration& reg) = 0;
  /// Extends the TTL without waking watchers where the backend allows it (etcd2 refresh=true).
  virtual KeepAlive refresh_instance(const Registration& reg) = 0;
  /// Takes the instance out of routing while its health probe fails (etcd: delete the key;
  /// Consul: turn its check critical with `reason`). register_instance() brings it back.
  virtual void withdraw_instance(const Registration& reg, std::string_view reason) = 0;
  /// Removes the instance for good; returns false when it was already gone.
  virtual bool deregister_instance(const Registration& reg) = 0;
  /// The instances the router sees, sorted by app then instance.
  virtual std::vector<Instance> instances(const InstanceQuery& query) = 0;

  /// True when an instance is a key (etcd2, etcd3, memory): then register_instance(),
  /// refresh_instance() and deregister_instance() keep any Registration's key with its TTL,
  /// whatever the key, which is how a registrator keeps its presence key
  /// (announce/registrator_presence.hpp). Consul registers services and says false.
  virtual bool instances_are_keys() const { return true; }

  /// Blocks until what instances(query) returns may have changed after `after_index`, or
  /// `max_wait` passes; returns the index to pass next time (the same index when nothing
  /// happened). `after_index` 0 returns the current index at once. etcd watches query.prefix;
  /// Consul overrides this with a blocking query on its health/catalog view. Honours
  /// Options::stop like watch().
  virtual std::int64_t wait_instances(const InstanceQuery& query, std::int64_t after_index,
                                      std::chrono::milliseconds max_wait) {
    if (after_index == 0) {
      return list(query.prefix).index;
    }
    WatchBatch batch = watch(query.prefix, after_index, max_wait);
    if (batch.resync) {
      // History is gone: report a fresh index so the caller reads instances() again.
      return list(query.prefix).index;
    }
    return batch.index;
  }

  // --- diagnostics ----------------------------------------------------------------------------

  /// How many keys the *other* keyspace of the same server holds under `prefix`. etcd 3.4+ keeps
  /// the v2 and v3 keyspaces apart, so keys a v2 sidekick wrote are invisible to a v3 reader and
  /// back; render uses this to explain an empty prefix instead of rendering an empty config.
  /// etcd3 answers for the v2 keyspace, etcd2 for the v3 one. nullopt when the backend has no
  /// other keyspace or cannot tell; never throws.
  virtual std::optional<std::size_t> count_in_other_keyspace(std::string_view /*prefix*/) {
    return std::nullopt;
  }
};

/// A parsed --registry URL.
struct Location {
  std::string scheme;                    ///< "etcd", "etcd2", "consul", "memory"
  bool tls = false;                      ///< "+https" form
  std::vector<http::Endpoint> endpoints; ///< at least one
};

/// Parses "etcd://h1:2379,h2:2379", "etcd2://h:2379", "consul://h:8500", their "+https" forms,
/// and a bare endpoint list as ETCDCTL_ENDPOINTS has it ("http://h1:2379,http://h2:2379", read
/// as etcd v3). An unknown scheme is Error(config) naming the text and the known schemes.
Location parse_location(std::string_view url);

/// Opens the backend for `url` (see parse_location).
std::unique_ptr<Registry> open(std::string_view url, const Options& options);

} // namespace herald::registry
