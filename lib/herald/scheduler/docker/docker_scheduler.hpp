#pragma once

// The docker backend: one container per instance on one Docker engine.
//
// A container is named herald-APP-INSTANCE and labelled
//   herald.app=APP  herald.instance=INSTANCE  herald.spec=SPEC_HASH
// (list() finds instances by the label herald.app, never by name), restarted by Docker unless
// stopped (restart policy unless-stopped), and publishes its container port on InstanceSpec::
// host_ip with an ephemeral host port (or the fixed host_port).
//
// It is registered by the node's registrator, `herald announce --docker-events` (announce/
// registrator.hpp; what it reads: announce/container_services.hpp and herald-announce(1),
// "registrator mode"), from these labels (registrator's conventions; a label wins over the env):
//   SERVICE_NAME=APP                        the service, so the instance is APP@NODE:CONTAINER:PORT
//   SERVICE_TAGS=a,b                        Routing::tags
//   SERVICE_HOST=APP.DOMAIN / SERVICE_PATH  Routing::domain / path: meta "host" / "path"
//   SERVICE_<KEY>=value                     Routing::meta (KEY upper-cased; meta key lowercase)
//   SERVICE_CHECK_HTTP=/health, SERVICE_CHECK_INTERVAL=2s, SERVICE_CHECK_TIMEOUT=1s,
//   SERVICE_CHECK_RISE=2, SERVICE_CHECK_FALL=3
//                                           HealthCheck, stored as meta check_* (the registrator
//                                           does not run checks: whoever waits for health does)
// The registration carries meta herald.container = the container id, which is how a caller
// matches a registration to Instance::id.

#include "herald/docker/client.hpp"
#include "herald/scheduler/scheduler.hpp"

#include <chrono>
#include <map>
#include <string>

namespace herald::scheduler::docker {

/// The labels herald's own bookkeeping uses.
inline constexpr const char* k_app_label = "herald.app";
inline constexpr const char* k_instance_label = "herald.instance";
inline constexpr const char* k_spec_label = "herald.spec";

/// Settings of a DockerScheduler.
struct DockerSchedulerOptions {
  /// How long start() waits for the pull of an image the engine does not have.
  std::chrono::milliseconds pull_timeout{std::chrono::minutes(5)};
  /// The grace remove() (and a replacing start()) gives a running container before SIGKILL.
  std::chrono::seconds remove_grace{10};
};

/// "herald-web-1" for web@1.
std::string container_name(const InstanceName& name);

/// The labels of the container for `spec`: herald's, the registrator's (above), then
/// InstanceSpec::labels where they do not collide. Error(usage) for a Routing::meta key the
/// registrator cannot carry (not lower-case [a-z0-9_], or one of name/tags/ignore/id).
std::map<std::string, std::string> container_labels(const InstanceSpec& spec);

/// The create request for `spec`: name, image, command, env, labels, the published port, the
/// restart policy.
herald::docker::ContainerSpec container_spec(const InstanceSpec& spec);

/// The Instance a container describes (its state mapped: running -> running, restarting ->
/// failed when it has been restarted (Docker restarts a crashed container with a growing delay:
/// between two runs it is failed, Instance::restarts counts them), created -> stopped, exited with
/// 0 or after a stop signal (143 SIGTERM, 137 SIGKILL) -> stopped, other exit codes and dead ->
/// failed).
Instance instance_of(const herald::docker::Container& container, const std::string& host);

/// A Scheduler over one Docker engine through herald's Docker client.
class DockerScheduler final : public Scheduler {
public:
  explicit DockerScheduler(herald::docker::Client client, DockerSchedulerOptions options = {});

  std::string_view backend() const override { return "docker"; }
  std::string describe() const override;
  bool health_gates_registration() const override { return false; }

  std::vector<Instance> list(std::string_view app = {}) override;
  std::optional<Instance> find(const InstanceName& name) override;
  void start(const InstanceSpec& spec) override;
  bool stop(const InstanceName& name, std::chrono::seconds grace) override;
  bool remove(const InstanceName& name) override;
  bool withdraw(const InstanceName& name) override;
  std::vector<std::string> logs(const InstanceName& name, std::size_t lines) override;
  std::vector<Machine> machines() override;

private:
  /// The container of `name` if it exists and is one of herald's (labelled for that instance).
  std::optional<herald::docker::Container> container_of(const InstanceName& name);
  herald::docker::Container existing(const InstanceName& name);
  /// The engine's host name, asked once.
  const std::string& host();
  void ensure_image(const std::string& image);

  herald::docker::Client m_client;
  DockerSchedulerOptions m_options;
  std::string m_host;
};

} // namespace herald::scheduler::docker
