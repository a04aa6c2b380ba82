#pragma once

#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/registry/opener.hpp"
#include "herald/registry/registry.hpp"
#include "herald/tmpl/funcs_consul.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace herald::render {

/// The instances consul-template's `service`/`services` read, loaded from Registry::instances()
/// before a render (never while a template executes, so a registry outage stays a registry
/// error and every dest stays as it is). Loaded only once a template subscribed.
class ServiceView final : public tmpl::ServiceSource {
public:
  /// A view over `query` (include_unhealthy is forced on: the functions filter by status).
  explicit ServiceView(registry::InstanceQuery query = {});

  const std::vector<tmpl::ServiceInstance>& service_instances() const override {
    return m_instances;
  }
  void subscribe() override { m_wanted = true; }

  /// True once a loaded template calls `service` or `services`.
  bool wanted() const { return m_wanted; }
  /// The query instances() and wait_instances() are asked with.
  const registry::InstanceQuery& query() const { return m_query; }

  /// Reads the instances again; returns true (and bumps generation()) when they changed.
  /// Throws the registry's Error.
  bool load(registry::Registry& registry);
  /// The instances the last load left out because they fail the trust model's rule (key -> why);
  /// each is logged once, escaped.
  const std::map<std::string, std::string>& skipped() const { return m_skipped; }
  /// Counts the loads that changed something, so a loop can tell whether to render again.
  std::uint64_t generation() const { return m_generation; }

  /// The route model's instance as consul-template shows it: ID is the Consul service ID
  /// (Instance::key) on Consul and APP@INSTANCE elsewhere; nullopt for a malformed address.
  static std::optional<tmpl::ServiceInstance> to_service(const registry::Instance& instance,
                                                         std::string_view backend);

private:
  registry::InstanceQuery m_query;
  std::vector<tmpl::ServiceInstance> m_instances;
  std::map<std::string, std::string> m_skipped;
  std::uint64_t m_generation = 0;
  bool m_wanted = false;
};

/// What one ChangeFeed::wait() saw.
struct FeedChange {
  registry::WatchBatch batch; ///< as Registry::watch() returns it (empty: no key change)
  bool instances_changed = false;
};

/// Waits for a change of the keys under a prefix *or* of the instances, whichever comes first:
/// the key watch and Registry::wait_instances() (Consul blocking queries) each block on their
/// own connection in their own thread, because a Registry is used from one thread at a time.
/// The memory backend, which is thread-safe, is shared instead when the opener is empty.
class ChangeFeed {
public:
  /// Starts both watchers. `watch_timeout` bounds each blocking request; `stop` ends waits.
  ChangeFeed(registry::Registry& registry, const registry::Opener& opener,
             registry::InstanceQuery query, std::chrono::milliseconds watch_timeout,
             const StopToken& stop);
  ~ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  /// Blocks until keys under `prefix` change after `index`, the instances change, or `max_wait`
  /// passes (then an empty batch with `index`). A registry error of either watcher is thrown
  /// here (once per outage), Error(cancelled) once `stop` is requested.
  FeedChange wait(std::string_view prefix, std::int64_t index, std::chrono::milliseconds max_wait);

private:
  struct KvOutcome {
    std::int64_t index = 0; ///< the index the watch started from
    std::optional<registry::WatchBatch> batch;
    std::optional<Error> error;
  };

  void run_keys();
  void run_instances();
  void post(std::int64_t index);

  registry::Registry& m_main;
  std::unique_ptr<registry::Registry> m_kv_owned;
  std::unique_ptr<registry::Registry> m_instances_owned;
  registry::Registry* m_kv = nullptr;
  registry::Registry* m_instances = nullptr;
  registry::InstanceQuery m_query;
  std::chrono::milliseconds m_watch_timeout;
  const StopToken& m_stop;
  StopToken m_halt;

  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::string m_prefix;
  std::optional<std::int64_t> m_request;   ///< a key watch to start
  std::optional<std::int64_t> m_in_flight; ///< the key watch running
  std::optional<KvOutcome> m_outcome;
  bool m_instances_changed = false;
  std::optional<Error> m_instances_error;
  bool m_halted = false;

  std::thread m_keys_thread;
  std::thread m_instances_thread;
};

} // namespace herald::render
