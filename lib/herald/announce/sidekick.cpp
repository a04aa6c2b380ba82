#include "herald/announce/sidekick.hpp"

#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace herald::announce {

namespace {

// The longest single sleep of the loop; deadlines are normally much closer. Bounding it keeps
// "now + timeout" far from overflow when nothing at all is scheduled.
constexpr std::chrono::milliseconds k_longest_sleep{std::chrono::hours(1)};

} // namespace

Sidekick::Sidekick(registry::Registry& registry, SidekickOptions options, const StopToken& stop)
    : m_registry(registry), m_options(std::move(options)), m_stop(stop),
      m_backoff(m_options.retry.capped_at(m_options.refresh)) {}

void Sidekick::set_probe(std::unique_ptr<Probe> probe) {
  m_probe = std::move(probe);
  if (m_probe) {
    m_gate.emplace(m_options.probe.rise, m_options.probe.fall);
    m_desired = false; // nothing is announced before the first check says so
  } else {
    m_gate.reset();
    m_desired = true;
  }
}

void Sidekick::set_notifier(Notifier* notifier) {
  m_notifier = notifier;
}

void Sidekick::set_cleanup(registry::Opener opener) {
  m_cleanup = std::move(opener);
}

std::string Sidekick::registered_line() const {
  const auto& reg = m_options.registration;
  return fmt::format("{} at {} = {} (ttl {}s)", reg.name.str(), escape_control(reg.key),
                     escape_control(reg.value), reg.ttl.count());
}

void Sidekick::run() {
  auto now = Clock::now();
  m_next_sync = m_desired ? now : Clock::time_point::max();
  m_next_probe = now;
  std::optional<std::chrono::milliseconds> watchdog;
  if (m_notifier != nullptr) {
    watchdog = m_notifier->watchdog_interval();
  }
  auto next_watchdog = now;

  while (!m_stop.requested()) {
    try {
      if (m_probe && Clock::now() >= m_next_probe) {
        run_probe();
        m_next_probe = Clock::now() + m_options.probe.interval;
      }
      if (!m_stop.requested() && Clock::now() >= m_next_sync) {
        sync();
      }
    } catch (const Error& e) {
      // A request or a check cut short by the stop token is the normal way out.
      if (e.kind() == ErrorKind::cancelled && m_stop.requested()) {
        break;
      }
      throw;
    }
    if (watchdog && Clock::now() >= next_watchdog) {
      m_notifier->watchdog();
      next_watchdog = Clock::now() + *watchdog;
    }

    auto wake = m_next_sync;
    if (m_probe) {
      wake = std::min(wake, m_next_probe);
    }
    if (watchdog) {
      wake = std::min(wake, next_watchdog);
    }
    now = Clock::now();
    if (wake > now) {
      auto left = wake - now;
      auto sleep = left > k_longest_sleep ? k_longest_sleep
                                          : std::chrono::ceil<std::chrono::milliseconds>(left);
      if (m_stop.wait_for(sleep)) {
        break;
      }
    }
  }
  finish();
}

void Sidekick::run_probe() {
  const auto& name = m_options.registration.name;
  bool first = !m_gate->healthy().has_value();
  ProbeResult result = m_probe->check();
  if (!result.passed) {
    m_failure = result.detail;
  }
  auto verdict = m_gate->record(result.passed);
  if (!verdict) {
    return;
  }
  m_desired = *verdict;
  m_next_sync = Clock::now();
  if (*verdict) {
    m_note = first ? Note::first : Note::restored;
    return;
  }
  if (first) {
    spdlog::warn("not registering {}: health check failed: {}", name.str(), m_failure);
    // Ready all the same: a sidekick waiting for its app to become healthy is working as
    // intended, and systemd's start timeout must not kill it meanwhile.
    if (m_notifier != nullptr) {
      m_notifier->ready(fmt::format("waiting: health check failed: {}", m_failure));
    }
  } else {
    spdlog::warn("withdrawn {}: health check failed: {}", name.str(), m_failure);
    if (m_notifier != nullptr) {
      m_notifier->status(fmt::format("withdrawn: health check failed: {}", m_failure));
    }
  }
}

void Sidekick::sync() {
  const auto& reg = m_options.registration;
  try {
    if (m_desired) {
      if (!m_present) {
        register_now();
      } else {
        if (m_contested) {
          // Read before this refresh puts our value back: a second writer's value is there now.
          check_other_writer();
        }
        registry::KeepAlive kept = m_registry.refresh_instance(reg);
        registry_ok();
        m_contested = kept != registry::KeepAlive::alive;
        if (kept == registry::KeepAlive::lost) {
          // Expired during an outage, deleted by someone, or a v3 lease that lapsed: the lease
          // is granted again and the key rewritten.
          m_present = false;
          m_note = Note::again;
          register_now();
        }
      }
      m_next_sync = Clock::now() + m_options.refresh;
    } else {
      if (m_maybe_present) {
        m_registry.withdraw_instance(reg, "health check failed: " + m_failure);
        // m_maybe_present stays: a backend may keep a withdrawn instance (Consul keeps the
        // service with a critical check), so a stop must still deregister it.
        m_present = false;
        registry_ok();
      }
      m_next_sync = Clock::time_point::max();
    }
  } catch (const Error& e) {
    if (!e.retryable()) {
      throw;
    }
    registry_failed(e);
    m_next_sync = Clock::now() + m_backoff.next();
  }
}

void Sidekick::check_other_writer() {
  const auto& reg = m_options.registration;
  auto current = m_registry.get(reg.key);
  if (!current || current->value == reg.value) {
    return;
  }
  ++m_overwrites;
  auto now = Clock::now();
  if (now < m_next_writer_warning) {
    return;
  }
  spdlog::warn("{}: another writer changed {} to '{}' while this sidekick announces '{}' ({} "
               "time{} so far): two sidekicks announce the same instance with different "
               "addresses and overwrite each other; stop one or give them different instance "
               "names",
               reg.name.str(), escape_control(reg.key), escape_control(current->value),
               escape_control(reg.value), m_overwrites, m_overwrites == 1 ? "" : "s");
  m_writer_warning_gap = std::clamp<Clock::duration>(
      m_writer_warning_gap * 2, k_first_writer_warning_gap, k_max_writer_warning_gap);
  m_next_writer_warning = now + m_writer_warning_gap;
}

void Sidekick::register_now() {
  const auto& reg = m_options.registration;
  m_maybe_present = true;
  m_registry.register_instance(reg);
  m_present = true;
  registry_ok();
  switch (m_note) {
  case Note::first:
    spdlog::info("registered {}", registered_line());
    break;
  case Note::again:
    spdlog::info("{} was gone from the registry (expired or deleted); registered again at {}",
                 reg.name.str(), reg.key);
    break;
  case Note::restored:
    spdlog::info("restored {}: health check passes again", registered_line());
    break;
  case Note::quiet:
    break;
  }
  m_note = Note::quiet;
  if (m_notifier != nullptr) {
    m_notifier->ready(fmt::format("registered {} at {} = {}", reg.name.str(), reg.key, reg.value));
  }
}

void Sidekick::registry_ok() {
  m_backoff.reset();
  if (m_outage.recovered() && m_notifier != nullptr) {
    m_notifier->status(m_desired ? "registry back" : "registry back; withdrawn");
  }
}

void Sidekick::registry_failed(const Error& error) {
  if (m_outage.failed(error.what()) && m_notifier != nullptr) {
    m_notifier->status(
        fmt::format("registry unavailable: {}; retrying", escape_control(error.what())));
  }
}

void Sidekick::finish() {
  const auto& reg = m_options.registration;
  if (m_notifier != nullptr) {
    m_notifier->stopping(fmt::format("stopping: deregistering {}", reg.name.str()));
  }
  if (!m_maybe_present) {
    spdlog::info("stopped; {} was not registered", reg.name.str());
    return;
  }
  try {
    std::unique_ptr<registry::Registry> own;
    registry::Registry* target = &m_registry;
    if (m_cleanup) {
      own = m_cleanup.open_after_stop();
      target = own.get();
    }
    bool removed = target->deregister_instance(reg);
    m_present = false;
    m_maybe_present = false;
    if (removed) {
      spdlog::info("stopped; deregistered {} ({})", reg.name.str(), reg.key);
    } else {
      spdlog::info("stopped; {} was already gone from the registry", reg.name.str());
    }
  } catch (const Error& e) {
    spdlog::warn("stopped; could not deregister {}: {}; the key expires within its TTL ({}s)",
                 reg.name.str(), e.what(), reg.ttl.count());
  }
}

void Sidekick::register_once() {
  const auto& reg = m_options.registration;
  if (m_probe) {
    ProbeResult result = m_probe->check();
    if (!result.passed) {
      throw Error(ErrorKind::unavailable, fmt::format("not registering {}: health check failed: {}",
                                                      reg.name.str(), result.detail));
    }
  }
  m_maybe_present = true;
  m_registry.register_instance(reg);
  spdlog::info("registered {}", registered_line());
}

} // namespace herald::announce
