#pragma once

#include "herald/announce/sidekick.hpp"
#include "herald/core/retry.hpp"
#include "herald/core/stop.hpp"
#include "herald/docker/client.hpp"
#include "herald/registry/layout.hpp"
#include "herald/registry/opener.hpp"
#include "herald/registry/registry.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace herald::announce {

/// The meta key that records which node's registrator owns a registration.
inline constexpr const char* k_owner_meta = "herald.node";
/// The meta key that records the container behind a registration.
inline constexpr const char* k_container_meta = "herald.container";

/// How `herald announce --docker-events` names and keeps registrations.
struct RegistratorOptions {
  std::string node; ///< owner of the registrations: the instance IDs start with "NODE:"
  std::string prefix{registry::k_default_prefix};
  registry::ValueFormat format = registry::ValueFormat::hostport;
  std::vector<std::string> tags; ///< added to every registration (--tag)
  /// Stands for a port published on every interface (0.0.0.0, ::); "" = such ports are skipped
  /// with a warning.
  std::string node_address;
  std::chrono::seconds ttl{60};
  std::chrono::milliseconds refresh{20000};
  /// Retries after a registry or Docker error; capped by `refresh` too.
  RetryPolicy retry;
};

/// The registrations a registrator wants for `container` (none when it is not running, paused,
/// or does not ask): one per service of container_services(), named
/// SERVICE@NODE:CONTAINER:PORT, carrying the owner and container id in meta. A port that cannot
/// be resolved to an address is logged and left out.
std::vector<registry::Registration> container_registrations(const docker::Container& container,
                                                            const RegistratorOptions& options);

/// Whether a container's `kill` event withdraws its registrations until it starts again: every
/// signal (`docker stop`'s SIGTERM, `docker kill`, the SIGCONT `cluster up` sends to drain an
/// instance) but those apps take as "reload" or "reopen logs" (HUP, USR1, USR2, WINCH). Docker
/// names the signal by number ("15"); names, with or without "SIG", are read too.
bool kill_withdraws(const docker::Event& event);

/// True when `instance` was written by the registrator of `node` (its ID starts with "NODE:" and
/// any owner meta it carries names `node`).
bool owned_by(const registry::Instance& instance, const std::string& node);

/// The desired registrations of every container on the node, and what is known to be in the
/// registry; sync() makes the registry match, refresh() keeps TTLs alive. Knows nothing of
/// Docker's API, so tests drive it with Container values and the memory registry.
class ContainerRegistrations {
public:
  /// `registry` must outlive this object.
  ContainerRegistrations(registry::Registry& registry, RegistratorOptions options);

  /// Records the state of container `id`: absent (nullopt), stopped, or running with its ports.
  /// Nothing is written until sync().
  void set_container(const std::string& id, const std::optional<docker::Container>& container);

  /// A full resync: `running` is every container on the node; registrations of containers not in
  /// it are dropped, and instances in the registry owned by this node but wanted by no container
  /// are removed by the next sync().
  void resync(const std::vector<docker::Container>& running);

  /// Writes what differs: registers missing or changed instances, deregisters unwanted ones.
  /// A retryable registry error is thrown after the work done so far is recorded, so calling
  /// sync() again continues where it stopped.
  void sync();

  /// Extends every registration's TTL; a lost one is registered again.
  void refresh();

  /// Deregisters everything this object registered through `registry` (on stop); errors are
  /// logged, the TTL ends what remains.
  void deregister_all(registry::Registry& registry);

  /// True while some write is pending (a sync() failed part way).
  bool dirty() const { return !m_pending.empty() || !m_unwanted.empty(); }

  /// The registrations wanted now, by key.
  const std::map<std::string, registry::Registration>& wanted() const { return m_wanted; }

private:
  registry::Registry& m_registry;
  RegistratorOptions m_options;
  std::map<std::string, registry::Registration> m_wanted;      ///< key -> registration
  std::map<std::string, std::set<std::string>> m_by_container; ///< container id -> keys
  std::set<std::string> m_pending;                             ///< wanted keys not yet written
  std::map<std::string, registry::Registration> m_unwanted;    ///< keys to deregister
  std::set<std::string> m_present;                             ///< keys written and not lost
};

/// `herald announce --docker-events`: registers every container of the node that asks for it
/// (see container_services) and removes it when it stops, following the Docker events
/// stream across daemon restarts (each reconnect resyncs). On start it resyncs: registers what
/// runs, removes owned registrations whose container is gone. Beside them it keeps its own
/// presence key (registrator_presence.hpp), naming the engine it follows (asked at every
/// resync), so that `cluster up` can see it. TTLs are refreshed every `refresh`; registry
/// outages are ridden out with backoff; on stop the presence and everything else are removed.
class Registrator {
public:
  /// `registry`, `docker` and `events` (a second client for the stream) and `stop` must outlive
  /// the Registrator.
  Registrator(registry::Registry& registry, docker::Client& docker, docker::Client& events,
              RegistratorOptions options, const StopToken& stop);

  /// Deregisters on stop through `opener`'s open_after_stop() (the main one is bound to `stop`).
  void set_cleanup(registry::Opener opener);
  /// Reports READY/STATUS/WATCHDOG/STOPPING through `notifier` (not owned).
  void set_notifier(Notifier* notifier);

  /// Runs until `stop` fires. Docker errors retrying cannot fix (permission denied, API too old)
  /// and non-retryable registry errors are thrown.
  void run();

private:
  registry::Registry& m_registry;
  docker::Client& m_docker;
  docker::Client& m_events;
  RegistratorOptions m_options;
  const StopToken& m_stop;
  registry::Opener m_cleanup;
  Notifier* m_notifier = nullptr;
};

} // namespace herald::announce
