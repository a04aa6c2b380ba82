#pragma once

#include "herald/announce/address.hpp"
#include "herald/announce/notify.hpp"
#include "herald/announce/probe.hpp"
#include "herald/announce/sidekick.hpp"
#include "herald/core/name.hpp"
#include "herald/core/stop.hpp"
#include "herald/docker/client.hpp"
#include "herald/registry/opener.hpp"
#include "herald/registry/registry.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace herald::announce {

/// The node's own address, the stand-in for a container port published on every interface:
/// `host_flag` (--host), else COREOS_PRIVATE_IPV4 from the environment, else from
/// /etc/environment (see environment_file); "" when none is known.
std::string node_address(const std::string& host_flag, const EnvLookup& env = process_env());

/// How `herald announce APP@INSTANCE --docker CONTAINER` runs.
struct ContainerSidekickOptions {
  std::string container;      ///< name or id, as typed
  std::string container_port; ///< "3000" or "3000/udp"; "" = the one port the container publishes
  std::string node_address;   ///< see node_address(); "" = unknown
  bool follow = false;        ///< after the container stops, wait for it to run again
  bool once = false;          ///< register once with the TTL when it runs, then exit
  /// Everything but the registration, which is built for each address by `registration_for`.
  SidekickOptions sidekick;
  std::function<registry::Registration(const HostPort&)> registration_for;
  /// Opens the registry of each announcement, bound to a token fired when it ends, and the one
  /// that deregisters after the stop (see Sidekick::set_cleanup).
  registry::Opener registry;
  /// Makes the health probe of one announcement at its address (empty = no probe).
  std::function<std::unique_ptr<Probe>(const HostPort& address, const StopToken& stop)> make_probe;
};

/// Announces the host port a container publishes: waits until the container runs, reads the
/// published address, runs a Sidekick for it, and follows the container through the Docker
/// events stream (across daemon restarts): a restart on another port re-announces, `die`/`stop`
/// withdraws at once; then it returns, or waits for the container to run again with `follow`.
class ContainerSidekick {
public:
  /// `docker` (inspect) and `events` (the stream, on a thread of its own) must be distinct
  /// clients; they, `stop` and `notifier` (may be null) must outlive the object.
  ContainerSidekick(docker::Client& docker, docker::Client& events,
                    ContainerSidekickOptions options, const StopToken& stop,
                    Notifier* notifier = nullptr);

  /// Checks what the user named before anything is registered: the container exists (else
  /// Error(data) "no such container"), and when it runs it publishes the port (else
  /// Error(data)). Docker's own problems (permission, API too old) are thrown as they are.
  void check();

  /// Runs until `stop` fires or (without `follow`) the container stopped after being announced.
  /// Returns normally in both cases, after withdrawing the instance.
  void run();

private:
  struct State;
  std::optional<HostPort> wanted_address(const std::optional<docker::Container>& container,
                                         bool strict);

  docker::Client& m_docker;
  docker::Client& m_events;
  ContainerSidekickOptions m_options;
  const StopToken& m_stop;
  Notifier* m_notifier;
};

} // namespace herald::announce
