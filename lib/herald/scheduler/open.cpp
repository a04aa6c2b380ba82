#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/docker/connection.hpp"
#include "herald/scheduler/backends.hpp"
#include "herald/scheduler/docker/docker_scheduler.hpp"
#include "herald/scheduler/fleet/fleet_scheduler.hpp"
#include "herald/scheduler/scheduler.hpp"

#include <array>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace herald::scheduler {

namespace {

using Factory = std::unique_ptr<Scheduler> (*)(const Options&);

/// One row of the backend table: a name as the cluster file's `scheduler:` spells it.
struct BackendRow {
  std::string_view name;
  Factory factory;
};

// No memory row: an in-process scheduler seen by nobody else would start nothing. Tests build
// a memory::MemoryScheduler themselves.
constexpr std::array<BackendRow, 2> k_backends{{
    {"docker", &make_docker_scheduler},
    {"fleet", &make_fleet_scheduler},
}};

} // namespace

std::unique_ptr<Scheduler> make_docker_scheduler(const Options& options) {
  herald::docker::DockerEnv env = herald::docker::DockerEnv::from_process();
  if (!options.docker_host.empty()) {
    env.docker_host = options.docker_host;
  }
  herald::docker::ClientOptions client_options;
  client_options.stop = options.stop;
  return std::make_unique<docker::DockerScheduler>(
      herald::docker::Client(herald::docker::resolve_connection(env), client_options));
}

units::UnitTemplates unit_templates(const Options& options) {
  return options.unit_templates_dir.empty() ? units::UnitTemplates()
                                            : units::UnitTemplates(options.unit_templates_dir);
}

units::HostPaths host_paths(const Options& options) {
  units::HostPaths paths = units::HostPaths::installed();
  if (!options.herald_path.empty()) {
    paths.herald = options.herald_path;
  }
  return paths;
}

std::unique_ptr<Scheduler> make_fleet_scheduler(const Options& options) {
  auto connection = std::make_unique<herald::fleet::Connection>(options.fleet, options.stop);
  return std::make_unique<fleet::FleetScheduler>(std::move(connection), unit_templates(options),
                                                 host_paths(options));
}

std::vector<std::string> backend_names() {
  std::vector<std::string> out;
  for (const auto& row : k_backends) {
    out.emplace_back(row.name);
  }
  return out;
}

std::unique_ptr<Scheduler> open(const Options& options) {
  for (const auto& row : k_backends) {
    if (row.name == options.backend) {
      return row.factory(options);
    }
  }
  std::string hint;
  if (auto near = closest_match(options.backend, backend_names())) {
    hint = fmt::format(" (did you mean '{}'?)", *near);
  }
  throw Error(ErrorKind::config,
              fmt::format("unknown scheduler '{}'{}: known schedulers are {}",
                          escape_control(options.backend), hint, fmt::join(backend_names(), ", ")));
}

} // namespace herald::scheduler
