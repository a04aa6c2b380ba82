#include "herald/cluster/registrator_check.hpp"

#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/registry/layout.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace herald::cluster {

namespace {

/// The commands that start a registrator for this cluster: `herald --registry URL announce
/// --docker-events --prefix P` on the engine's host (with DOCKER_HOST when the file names
/// another engine than the local socket), and the `unit gen` that writes its systemd unit.
struct StartCommands {
  std::string run;
  std::string unit;
};

StartCommands start_commands(const ClusterSpec* cluster, const std::string& registry_url,
                             const std::string& prefix) {
  std::string docker_host;
  if (cluster != nullptr && cluster->scheduler.docker.endpoint != DockerScheduler{}.endpoint) {
    docker_host = "DOCKER_HOST=" + cluster->scheduler.docker.endpoint + " ";
  }
  return StartCommands{
      fmt::format("{}herald --registry {} announce --docker-events --prefix {}", docker_host,
                  registry_url, prefix),
      fmt::format("herald --registry {} unit gen registrator --prefix {}", registry_url, prefix)};
}

} // namespace

RegistratorCheck check_registrator(const ClusterSpec* cluster, scheduler::Scheduler& scheduler,
                                   registry::Registry& registry) {
  RegistratorCheck out;
  if (cluster != nullptr && cluster->scheduler.kind != SchedulerKind::docker) {
    return out;
  }
  std::string prefix(registry::without_trailing_slashes(
      cluster != nullptr && !cluster->registry.prefix.empty() ? cluster->registry.prefix
                                                              : registry::k_default_prefix));
  std::string url = registry.describe();
  StartCommands start = start_commands(cluster, url, prefix);
  out.remedy = fmt::format("start one on the engine's host: {} (as a service: {} writes its unit)",
                           start.run, start.unit);
  if (!registry.instances_are_keys()) {
    out.state = RegistratorCheck::State::unknown;
    out.problem = fmt::format("cannot tell whether a registrator runs: {} registers services, "
                              "not keys, so registrators do not announce themselves there",
                              url);
    return out;
  }
  std::vector<scheduler::Machine> machines = scheduler.machines();
  if (machines.empty()) {
    throw Error(
        ErrorKind::unavailable,
        fmt::format("{} names no engine to look for a registrator of", scheduler.describe()));
  }
  const scheduler::Machine& engine = machines.front();
  std::vector<std::string> elsewhere; // prefixes a registrator of this engine writes under
  for (auto& presence : announce::live_registrators(registry)) {
    if (presence.engine_id != engine.id) {
      continue;
    }
    if (presence.prefix == prefix) {
      out.alive.push_back(std::move(presence));
    } else if (std::find(elsewhere.begin(), elsewhere.end(), presence.prefix) == elsewhere.end()) {
      elsewhere.push_back(presence.prefix);
    }
  }
  if (!out.alive.empty()) {
    out.state = RegistratorCheck::State::alive;
    out.remedy.clear();
    return out;
  }
  out.state = RegistratorCheck::State::missing;
  std::string other;
  if (!elsewhere.empty()) {
    other = fmt::format(" (one of this engine registers under {} instead)",
                        escape_control(elsewhere.front()));
  }
  out.problem =
      fmt::format("no registrator is alive for Docker engine {} (ID {}) in {} under {}{}",
                  herald::quoted(engine.name), escape_control(engine.id), url, prefix, other);
  return out;
}

} // namespace herald::cluster
