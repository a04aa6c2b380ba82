#include "herald/announce/registrator.hpp"

#include "herald/announce/container_services.hpp"
#include "herald/announce/registration.hpp"
#include "herald/announce/registrator_presence.hpp"
#include "herald/core/address.hpp"
#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/docker/events.hpp"
#include "herald/docker/ports.hpp"
#include "herald/version.hpp"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <fmt/format.h>
#include <mutex>
#include <spdlog/spdlog.h>
#include <thread>
#include <unistd.h>

namespace herald::announce {

namespace {

using Clock = std::chrono::steady_clock;

/// How often the main loop looks at the stop token while it waits for Docker events.
constexpr std::chrono::milliseconds k_stop_poll{50};

std::string short_id(const std::string& id) {
  return id.substr(0, 12);
}

bool same_registration(const registry::Registration& a, const registry::Registration& b) {
  return a.key == b.key && a.value == b.value && a.tags == b.tags && a.meta == b.meta &&
         a.ttl == b.ttl;
}

std::string container_of(const registry::Registration& reg) {
  auto it = reg.meta.find(k_container_meta);
  return it == reg.meta.end() ? std::string("?") : short_id(it->second);
}

/// What this process says about itself in its presence key while it follows engine `info`.
RegistratorPresence presence_of(const docker::SystemInfo& info, const RegistratorOptions& options) {
  RegistratorPresence presence;
  presence.engine_id = info.id;
  presence.engine_name = info.name;
  presence.node = options.node;
  presence.prefix = std::string(registry::without_trailing_slashes(options.prefix));
  presence.version = k_version;
  presence.pid = ::getpid();
  return presence;
}

} // namespace

std::vector<registry::Registration> container_registrations(const docker::Container& container,
                                                            const RegistratorOptions& options) {
  std::vector<registry::Registration> out;
  if (!container.running || container.paused) {
    return out;
  }
  for (const auto& service : container_services(container)) {
    std::string id = service_instance_id(options.node, container, service);
    InstanceName name;
    try {
      name = parse_instance_name(service.name + "@" + id);
    } catch (const Error& e) {
      spdlog::warn("not registering container '{}' port {}: {}", escape_control(container.name),
                   service.container_port, escape_control(e.what()));
      continue;
    }
    HostPort address;
    try {
      docker::HostAddress published =
          docker::published_address(container, service.container_port, options.node_address);
      address = HostPort{published.host, published.port};
    } catch (const Error& e) {
      spdlog::warn("not registering {}: {}", name.str(), escape_control(e.what()));
      continue;
    }
    if (!is_valid_host(address.host)) {
      spdlog::warn("not registering {}: Docker publishes it at host '{}', which is neither an IP "
                   "address nor a DNS name",
                   name.str(), escape_control(address.host));
      continue;
    }
    std::vector<std::string> tags = service.tags;
    for (const auto& tag : options.tags) {
      if (std::find(tags.begin(), tags.end(), tag) == tags.end()) {
        tags.push_back(tag);
      }
    }
    std::map<std::string, std::string> meta = service.attributes;
    meta[k_owner_meta] = options.node;
    meta[k_container_meta] = container.id;
    // Labels and env are written by whoever builds or runs the image: what would not survive the
    // trust model's rule is never stored (one warning, escaped, per container port).
    if (auto problem = registry::labels_problem(tags, meta)) {
      spdlog::warn("not registering {} (container '{}'): its labels or env give {}", name.str(),
                   escape_control(container.name), escape_control(*problem));
      continue;
    }
    out.push_back(make_registration(name, registry::instance_key(options.prefix, name), address,
                                    options.format, std::move(tags), std::move(meta), options.ttl));
  }
  return out;
}

bool owned_by(const registry::Instance& instance, const std::string& node) {
  if (!instance.instance.starts_with(node + ":")) {
    return false;
  }
  auto it = instance.meta.find(k_owner_meta);
  return it == instance.meta.end() || it->second == node;
}

ContainerRegistrations::ContainerRegistrations(registry::Registry& registry,
                                               RegistratorOptions options)
    : m_registry(registry), m_options(std::move(options)) {}

void ContainerRegistrations::set_container(const std::string& id,
                                           const std::optional<docker::Container>& container) {
  std::vector<registry::Registration> desired;
  if (container) {
    desired = container_registrations(*container, m_options);
  }
  std::set<std::string> keys;
  for (const auto& reg : desired) {
    keys.insert(reg.key);
  }
  if (auto old = m_by_container.find(id); old != m_by_container.end()) {
    for (const auto& key : old->second) {
      if (keys.contains(key)) {
        continue;
      }
      if (auto it = m_wanted.find(key); it != m_wanted.end()) {
        m_unwanted[key] = it->second;
        m_wanted.erase(it);
      }
      m_pending.erase(key);
    }
  }
  for (auto& reg : desired) {
    auto it = m_wanted.find(reg.key);
    m_unwanted.erase(reg.key);
    if (it != m_wanted.end() && same_registration(it->second, reg)) {
      continue;
    }
    m_pending.insert(reg.key);
    m_wanted[reg.key] = std::move(reg);
  }
  if (keys.empty()) {
    m_by_container.erase(id);
  } else {
    m_by_container[id] = std::move(keys);
  }
}

void ContainerRegistrations::resync(const std::vector<docker::Container>& running) {
  std::set<std::string> ids;
  for (const auto& container : running) {
    ids.insert(container.id);
    set_container(container.id, container);
  }
  std::vector<std::string> gone;
  for (const auto& [id, keys] : m_by_container) {
    if (!ids.contains(id)) {
      gone.push_back(id);
    }
  }
  for (const auto& id : gone) {
    set_container(id, std::nullopt);
  }
  registry::InstanceQuery query;
  query.prefix = m_options.prefix;
  query.include_unhealthy = true;
  for (const auto& instance : m_registry.instances(query)) {
    if (!owned_by(instance, m_options.node) || m_wanted.contains(instance.key)) {
      continue;
    }
    registry::Registration reg;
    reg.name = InstanceName{instance.app, instance.instance};
    reg.key = instance.key;
    reg.value = instance.value;
    if (instance.address) {
      reg.address = *instance.address;
    }
    reg.tags = instance.tags;
    reg.meta = instance.meta;
    reg.ttl = m_options.ttl;
    m_unwanted[instance.key] = std::move(reg);
  }
}

void ContainerRegistrations::sync() {
  while (!m_unwanted.empty()) {
    auto it = m_unwanted.begin();
    bool existed = m_registry.deregister_instance(it->second);
    if (existed) {
      spdlog::info("deregistered {} ({}): container {} is gone or stopped", it->second.name.str(),
                   it->first, container_of(it->second));
    }
    m_present.erase(it->first);
    m_unwanted.erase(it);
  }
  while (!m_pending.empty()) {
    auto key = *m_pending.begin();
    const auto& reg = m_wanted.at(key);
    m_registry.register_instance(reg);
    m_present.insert(key);
    m_pending.erase(m_pending.begin());
    spdlog::info("registered {} at {} = {} (container {}, ttl {}s)", reg.name.str(), reg.key,
                 reg.value, container_of(reg), reg.ttl.count());
  }
}

void ContainerRegistrations::refresh() {
  for (const auto& key : m_present) {
    auto it = m_wanted.find(key);
    if (it == m_wanted.end() || m_pending.contains(key)) {
      continue;
    }
    if (m_registry.refresh_instance(it->second) == registry::KeepAlive::lost) {
      m_registry.register_instance(it->second);
      spdlog::info("{} was gone from the registry (expired or deleted); registered again at {}",
                   it->second.name.str(), key);
    }
  }
}

void ContainerRegistrations::deregister_all(registry::Registry& registry) {
  std::size_t done = 0;
  for (const auto& [key, reg] : m_wanted) {
    if (!m_present.contains(key) && !m_pending.contains(key)) {
      continue;
    }
    try {
      registry.deregister_instance(reg);
      ++done;
    } catch (const Error& e) {
      spdlog::warn("could not deregister {}: {}; the key expires within its TTL ({}s)",
                   reg.name.str(), e.what(), reg.ttl.count());
    }
  }
  m_present.clear();
  spdlog::info("stopped; deregistered {} container instance(s)", done);
}

bool kill_withdraws(const docker::Event& event) {
  std::string signal = event.attribute("signal").value_or("");
  if (signal.rfind("SIG", 0) == 0) {
    signal.erase(0, 3);
  }
  static const std::set<std::string> k_reload = {"1",   "10",   "12",   "28",
                                                 "HUP", "USR1", "USR2", "WINCH"};
  return k_reload.count(signal) == 0;
}

Registrator::Registrator(registry::Registry& registry, docker::Client& docker,
                         docker::Client& events, RegistratorOptions options, const StopToken& stop)
    : m_registry(registry), m_docker(docker), m_events(events), m_options(std::move(options)),
      m_stop(stop) {}

void Registrator::set_cleanup(registry::Opener opener) {
  m_cleanup = std::move(opener);
}

void Registrator::set_notifier(Notifier* notifier) {
  m_notifier = notifier;
}

void Registrator::run() {
  // Permission problems and an API too old end the command here, before any thread starts.
  m_docker.api_version();

  std::mutex mutex;
  std::condition_variable wake;
  std::set<std::string> queued; // container ids with news
  // Containers sent a signal (`docker stop`, `docker kill`, `cluster up`'s SIGCONT): out of the
  // registry until they start again, so the router lets go of them before they go away.
  std::set<std::string> withdrawn;
  bool resync_needed = true;
  bool reconnected = false; // Docker is back: retry at once rather than after the backoff
  std::exception_ptr events_failure;

  // The stream starts from this moment, so that nothing between the first container listing and
  // the stream's opening is missed (the daemon replays from `since`).
  docker::EventQuery query;
  query.filters = {{"type", {"container"}},
                   {"event", {"start", "die", "stop", "destroy", "pause", "unpause", "kill"}}};
  query.since_nano = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  StopToken events_stop;
  std::thread follower_thread([&] {
    docker::EventFollower follower(m_events, query);
    try {
      follower.run(
          events_stop,
          [&](const docker::Event& event) {
            std::lock_guard lock(mutex);
            if (event.base_action == "kill") {
              if (!kill_withdraws(event)) {
                return true; // a reload signal: the container keeps serving
              }
              withdrawn.insert(event.actor_id);
            } else if (event.base_action == "start" || event.base_action == "unpause" ||
                       event.base_action == "destroy") {
              withdrawn.erase(event.actor_id);
            }
            queued.insert(event.actor_id);
            wake.notify_one();
            return true;
          },
          [&] {
            // Events during the outage are gone: list everything again.
            std::lock_guard lock(mutex);
            resync_needed = true;
            reconnected = true;
            wake.notify_one();
          });
    } catch (...) {
      std::lock_guard lock(mutex);
      events_failure = std::current_exception();
      wake.notify_one();
    }
  });
  struct Joiner {
    StopToken& stop;
    std::thread& thread;
    ~Joiner() {
      stop.request();
      if (thread.joinable()) {
        thread.join();
      }
    }
  } joiner{events_stop, follower_thread};

  ContainerRegistrations registrations(m_registry, m_options);
  // The key that shows `cluster up` a registrator follows this engine (registrator_presence.hpp).
  PresenceKey presence(m_options.ttl);
  bool announce_self = m_registry.instances_are_keys();
  if (!announce_self) {
    spdlog::warn("{} registers services, not keys: this registrator cannot announce itself, so "
                 "'herald cluster up' cannot tell that it runs",
                 m_registry.describe());
  }
  std::string presence_problem_seen;
  Backoff backoff(m_options.retry.capped_at(m_options.refresh));
  OutageLog outage("registry or Docker");
  // Plain time points with flags: g++ 12 warns falsely about std::optional<time_point> here.
  auto next_refresh = Clock::now() + m_options.refresh;
  bool retrying = false;
  Clock::time_point retry_at{};
  bool ready = false;

  while (!m_stop.requested()) {
    std::set<std::string> ids;
    bool resync = false;
    {
      std::unique_lock lock(mutex);
      auto deadline = retrying ? std::min(retry_at, next_refresh) : next_refresh;
      while (!m_stop.requested() && !events_failure && Clock::now() < deadline &&
             ((queued.empty() && !resync_needed) || (retrying && !reconnected))) {
        wake.wait_for(lock, std::min<Clock::duration>(k_stop_poll, deadline - Clock::now()));
      }
      if (events_failure) {
        std::rethrow_exception(events_failure);
      }
      if (m_stop.requested()) {
        break;
      }
      ids.swap(queued);
      resync = resync_needed;
      resync_needed = false;
      reconnected = false;
    }
    retrying = false;
    try {
      if (resync) {
        docker::ListOptions list;
        list.filters = {{"status", {"running"}}};
        std::vector<docker::Container> running;
        for (const auto& summary : m_docker.list_containers(list)) {
          if (auto container = m_docker.find(summary.id)) {
            running.push_back(std::move(*container));
          }
        }
        {
          std::lock_guard lock(mutex);
          std::erase_if(running,
                        [&](const docker::Container& c) { return withdrawn.count(c.id) != 0; });
        }
        registrations.resync(running);
        spdlog::info("resynced with {} running container(s): {} registration(s) wanted",
                     running.size(), registrations.wanted().size());
        if (announce_self) {
          // Asked again at every resync: a daemon replaced in between is another engine.
          RegistratorPresence self = presence_of(m_docker.info(), m_options);
          if (auto problem = presence_problem(self)) {
            if (*problem != presence_problem_seen) {
              spdlog::warn("cannot announce this registrator: {}", escape_control(*problem));
            }
            presence_problem_seen = *problem;
          } else {
            presence.set(self);
          }
        }
        resync = false;
      }
      for (auto it = ids.begin(); it != ids.end();) {
        bool out;
        {
          std::lock_guard lock(mutex);
          out = withdrawn.count(*it) != 0;
        }
        registrations.set_container(*it, out ? std::nullopt : m_docker.find(*it));
        it = ids.erase(it);
      }
      registrations.sync();
      bool refresh_due = Clock::now() >= next_refresh;
      if (refresh_due) {
        registrations.refresh();
      }
      presence.keep(m_registry, refresh_due);
      if (refresh_due) {
        next_refresh = Clock::now() + m_options.refresh;
      }
      backoff.reset();
      outage.recovered();
      if (!ready && m_notifier != nullptr) {
        m_notifier->ready(fmt::format("registering containers of {} ({} instance(s))",
                                      m_options.node, registrations.wanted().size()));
      }
      ready = true;
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::cancelled && m_stop.requested()) {
        break;
      }
      if (!e.retryable()) {
        throw;
      }
      outage.failed(e.what());
      // Keep the work that did not happen for the next attempt.
      std::lock_guard lock(mutex);
      queued.insert(ids.begin(), ids.end());
      resync_needed = resync_needed || resync;
      retrying = true;
      retry_at = Clock::now() + backoff.next();
    }
  }

  if (m_notifier != nullptr) {
    m_notifier->stopping("stopping: deregistering container instances");
  }
  try {
    std::unique_ptr<registry::Registry> own;
    registry::Registry* target = &m_registry;
    if (m_cleanup) {
      own = m_cleanup.open_after_stop();
      target = own.get();
    }
    // The presence goes first: from now on nothing follows the engine.
    try {
      presence.remove(*target);
    } catch (const Error& e) {
      spdlog::warn("could not remove this registrator's presence {}: {}; it expires within its "
                   "TTL ({}s)",
                   presence.key(), e.what(), m_options.ttl.count());
    }
    registrations.deregister_all(*target);
  } catch (const Error& e) {
    spdlog::warn("stopped; could not deregister: {}; the keys expire within their TTL", e.what());
  }
}

} // namespace herald::announce
