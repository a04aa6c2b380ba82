#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/docker/connection.hpp"
#include "herald/scheduler/backends.hpp"
#include "herald/scheduler/docker/docker_scheduler.hpp"
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
constexpr std::array<BackendRow, 1> k_backends{{
    {"docker", &make_docker_scheduler},
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
