#include "herald/announce/container_sidekick.hpp"

#include "herald/core/address.hpp"
#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/docker/events.hpp"
#include "herald/docker/ports.hpp"

#include <condition_variable>
#include <exception>
#include <fmt/format.h>
#include <mutex>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <thread>

namespace herald::announce {

namespace {

/// How often the main loop looks at the stop token while it waits for the container.
constexpr std::chrono::milliseconds k_stop_poll{50};

/// Waits until one of two tokens fires; poll() on their pipes, so no periodic wake-ups.
void wait_either(const StopToken& a, const StopToken& b) {
  pollfd fds[2] = {{a.fd(), POLLIN, 0}, {b.fd(), POLLIN, 0}};
  while (!a.requested() && !b.requested()) {
    ::poll(fds, 2, -1);
  }
}

std::vector<std::string> published_ports(const docker::Container& container) {
  if (container.network_mode == "host") {
    return container.exposed_ports;
  }
  std::vector<std::string> ports;
  for (const auto& [port, bindings] : container.ports) {
    if (!bindings.empty()) {
      ports.push_back(port);
    }
  }
  return ports;
}

} // namespace

std::string node_address(const std::string& host_flag, const EnvLookup& env) {
  constexpr const char* variable = "COREOS_PRIVATE_IPV4";
  std::string host = host_flag;
  std::string from = "--host";
  if (host.empty()) {
    if (auto value = env(variable)) {
      host = std::string(trim(*value));
      from = variable;
    } else if (auto file_value = read_env_file_value(environment_file(env), variable)) {
      host = std::string(trim(*file_value));
      from = fmt::format("{} in {}", variable, environment_file(env));
    }
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']' &&
      host.find(':') != std::string::npos) {
    host = host.substr(1, host.size() - 2);
  }
  if (!host.empty() && !is_valid_host(host)) {
    throw Error(ErrorKind::usage,
                fmt::format("invalid host '{}' from {}: use an IP address or a DNS name (letters, "
                            "digits, '-' and '.')",
                            escape_control(host), from));
  }
  return host;
}

/// What the events thread and the announcing thread share.
struct ContainerSidekick::State {
  std::mutex mutex;
  std::condition_variable changed;
  std::optional<HostPort> wanted;         ///< where the container is reachable now, if it runs
  std::shared_ptr<StopToken> active;      ///< ends the announcement in progress
  std::optional<HostPort> active_address; ///< what it announces
  std::exception_ptr failure;             ///< the events thread's fatal error
  bool events_done = false;

  /// Records `address` and ends an announcement of another address. Call with `mutex` held.
  void set_wanted(std::optional<HostPort> address) {
    wanted = std::move(address);
    if (active && active_address != wanted) {
      active->request();
    }
    changed.notify_all();
  }
};

ContainerSidekick::ContainerSidekick(docker::Client& docker, docker::Client& events,
                                     ContainerSidekickOptions options, const StopToken& stop,
                                     Notifier* notifier)
    : m_docker(docker), m_events(events), m_options(std::move(options)), m_stop(stop),
      m_notifier(notifier) {}

std::optional<HostPort>
ContainerSidekick::wanted_address(const std::optional<docker::Container>& container, bool strict) {
  if (!container || !container->running || container->paused) {
    return std::nullopt;
  }
  const std::string& name = container->name;
  try {
    std::string port = m_options.container_port;
    if (port.empty()) {
      auto ports = published_ports(*container);
      if (ports.empty()) {
        throw Error(ErrorKind::data,
                    fmt::format("container '{}' publishes no port: run it with -p PORT (such as "
                                "-p 3000) so herald has a host port to announce",
                                name));
      }
      if (ports.size() > 1) {
        throw Error(ErrorKind::usage,
                    fmt::format("container '{}' publishes several ports ({}): pass "
                                "--container-port to pick one",
                                name, fmt::join(ports, ", ")));
      }
      port = ports.front();
    }
    docker::HostAddress address =
        docker::published_address(*container, port, m_options.node_address);
    return HostPort{address.host, address.port};
  } catch (const Error& e) {
    if (strict) {
      throw;
    }
    spdlog::warn("not announcing: {}", e.what());
    return std::nullopt;
  }
}

void ContainerSidekick::check() {
  if (!m_options.container_port.empty()) {
    docker::normalize_container_port(m_options.container_port, "--container-port");
  }
  std::optional<docker::Container> container = m_docker.find(m_options.container);
  if (!container) {
    // The name on the command line is wrong (or the container was never created): bad input,
    // not a runtime failure.
    throw Error(ErrorKind::data,
                fmt::format("no such container '{}' on {}: create it first (docker run --name "
                            "{} ...) or check the name with 'docker ps -a'",
                            m_options.container, m_docker.connection().str(), m_options.container));
  }
  wanted_address(container, true);
}

void ContainerSidekick::run() {
  State state;
  const std::string& target = m_options.container;
  // The stream starts before the first inspect, so a change between the two is replayed.
  docker::EventQuery query;
  query.filters = {{"type", {"container"}},
                   {"container", {target}},
                   {"event", {"start", "die", "stop", "destroy", "pause", "unpause"}}};
  query.since_nano = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  {
    std::lock_guard lock(state.mutex);
    state.set_wanted(wanted_address(m_docker.find(target), false));
  }

  StopToken events_stop;
  auto update = [&] {
    auto address = wanted_address(m_events.find(target), false);
    std::lock_guard lock(state.mutex);
    if (address != state.wanted) {
      if (address) {
        spdlog::info("container '{}' runs with {} published at {}", target,
                     m_options.container_port.empty() ? "its port" : m_options.container_port,
                     address->str());
      } else {
        spdlog::info("container '{}' is not running: withdrawing", target);
      }
    }
    state.set_wanted(address);
  };
  std::thread events_thread([&] {
    docker::EventFollower follower(m_events, query);
    try {
      follower.run(
          events_stop,
          [&](const docker::Event&) {
            try {
              update();
            } catch (const Error& e) {
              // The daemon going away mid-event: the stream ends too, and the reconnection looks
              // at the container again.
              if (!e.retryable()) {
                throw;
              }
              spdlog::debug("could not inspect container '{}': {}", target, e.what());
            }
            return true;
          },
          update);
    } catch (...) {
      std::lock_guard lock(state.mutex);
      state.failure = std::current_exception();
    }
    std::lock_guard lock(state.mutex);
    state.events_done = true;
    if (state.active) {
      state.active->request();
    }
    state.changed.notify_all();
  });
  // Forwards SIGTERM (m_stop) to the stream and the announcement in progress.
  std::thread forwarder([&] {
    wait_either(m_stop, events_stop);
    events_stop.request();
    std::lock_guard lock(state.mutex);
    if (state.active) {
      state.active->request();
    }
    state.changed.notify_all();
  });
  struct Joiner {
    StopToken& stop;
    std::thread& a;
    std::thread& b;
    ~Joiner() {
      stop.request();
      a.join();
      b.join();
    }
  } joiner{events_stop, events_thread, forwarder};

  bool waiting_logged = false;
  std::optional<std::chrono::milliseconds> watchdog;
  if (m_notifier != nullptr) {
    watchdog = m_notifier->watchdog_interval();
  }
  auto next_watchdog = std::chrono::steady_clock::now();
  while (!m_stop.requested()) {
    std::shared_ptr<StopToken> generation;
    HostPort address;
    {
      std::unique_lock lock(state.mutex);
      while (!state.wanted && !state.events_done && !m_stop.requested()) {
        if (!waiting_logged) {
          spdlog::info("waiting for container '{}' to run", target);
          if (m_notifier != nullptr) {
            // Ready all the same: waiting for the container is this sidekick's normal work.
            m_notifier->ready(fmt::format("waiting for container '{}' to run", target));
          }
          waiting_logged = true;
        }
        state.changed.wait_for(lock, k_stop_poll);
        // No Sidekick runs while the container is down, so its watchdog pings are sent here.
        if (watchdog && std::chrono::steady_clock::now() >= next_watchdog) {
          m_notifier->watchdog();
          next_watchdog = std::chrono::steady_clock::now() + *watchdog;
        }
      }
      if (state.failure) {
        std::rethrow_exception(state.failure);
      }
      if (m_stop.requested() || state.events_done) {
        break;
      }
      waiting_logged = false;
      address = *state.wanted;
      generation = std::make_shared<StopToken>();
      state.active = generation;
      state.active_address = address;
    }

    SidekickOptions options = m_options.sidekick;
    options.registration = m_options.registration_for(address);
    std::unique_ptr<registry::Registry> registry = m_options.registry.open(*generation);
    Sidekick sidekick(*registry, options, *generation);
    if (m_options.make_probe) {
      sidekick.set_probe(m_options.make_probe(address, *generation));
    }
    if (m_options.once) {
      sidekick.register_once();
      return;
    }
    sidekick.set_notifier(m_notifier);
    sidekick.set_cleanup(m_options.registry);
    sidekick.run();

    std::lock_guard lock(state.mutex);
    state.active.reset();
    state.active_address.reset();
    if (state.failure) {
      std::rethrow_exception(state.failure);
    }
    if (!m_options.follow && !state.wanted && !m_stop.requested()) {
      spdlog::info("container '{}' stopped; exiting (--follow waits for it to run again)", target);
      return;
    }
  }
}

} // namespace herald::announce
