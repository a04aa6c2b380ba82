#pragma once

// Whether a registrator serves the cluster. On the docker scheduler nothing but the node's
// registrator (`herald announce --docker-events`) registers the containers `cluster up` starts:
// without one, up would wait for registrations that never come. A registrator announces itself
// with a presence key (announce/registrator_presence.hpp) naming the engine it follows, under
// the registry and prefix it writes to; this is where the cluster commands look for it.

#include "herald/announce/registrator_presence.hpp"
#include "herald/cluster/spec.hpp"
#include "herald/registry/registry.hpp"
#include "herald/scheduler/scheduler.hpp"

#include <string>
#include <vector>

namespace herald::cluster {

/// What check_registrator() found.
struct RegistratorCheck {
  enum class State {
    not_needed, ///< not the docker scheduler: fleet's instances have their sidekick units
    alive,      ///< a registrator announces itself for the engine, registry and prefix
    missing,    ///< none does: `message` says so and how to start one
    unknown     ///< the registry holds no presence keys (Consul): `message` says so
  };
  State state = State::not_needed;
  /// For missing and unknown, what is wrong: "no registrator is alive for Docker engine "host"
  /// (ID ...) in etcd://... under /services/web" (and one of another prefix, when there is one).
  std::string problem;
  /// For missing and unknown, what to do: the command that starts a registrator on the engine's
  /// host and the `herald unit gen registrator` that writes its unit.
  std::string remedy;
  std::vector<announce::RegistratorPresence> alive; ///< the registrators that serve the cluster
};

/// Looks in `registry` for a live registrator of the engine `scheduler` runs on (the docker
/// backend's one machine, by engine ID) that registers under the cluster's prefix. `cluster`
/// may be null (`cluster down` without a file: the local engine and the default prefix). When
/// none is found and a registrator of the engine writes under another prefix, the message says
/// that too. Scheduler and registry errors are thrown.
RegistratorCheck check_registrator(const ClusterSpec* cluster, scheduler::Scheduler& scheduler,
                                   registry::Registry& registry);

} // namespace herald::cluster
