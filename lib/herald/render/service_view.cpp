#include "herald/render/service_view.hpp"

#include "herald/core/strings.hpp"
#include "herald/registry/layout.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace herald::render {

namespace {

using Clock = std::chrono::steady_clock;

} // namespace

// --- ServiceView ---------------------------------------------------------------------------------

ServiceView::ServiceView(registry::InstanceQuery query) : m_query(std::move(query)) {
  m_query.include_unhealthy = true;
}

std::optional<tmpl::ServiceInstance> ServiceView::to_service(const registry::Instance& instance,
                                                             std::string_view backend) {
  if (!instance.address) {
    return std::nullopt; // a router cannot use it; route ls shows it flagged
  }
  tmpl::ServiceInstance s;
  if (backend == "consul" || instance.instance.empty()) {
    s.id = backend == "consul" ? instance.key : instance.app;
  } else {
    s.id = instance.app + "@" + instance.instance;
  }
  s.name = instance.app;
  s.address = instance.address->host;
  s.port = instance.address->port;
  s.tags = instance.tags;
  s.meta = instance.meta;
  s.node = instance.node;
  // etcd has no health: a key that exists is routable.
  s.status = backend == "consul" ? registry::health_name(instance.health)
                                 : (instance.health == registry::Instance::Health::unknown
                                        ? "passing"
                                        : registry::health_name(instance.health));
  return s;
}

bool ServiceView::load(registry::Registry& registry) {
  std::vector<tmpl::ServiceInstance> next;
  std::map<std::string, std::string> skipped;
  for (const auto& instance : registry.instances(m_query)) {
    if (auto s = to_service(instance, registry.backend())) {
      next.push_back(std::move(*s));
    } else {
      skipped[instance.key] = instance.problem;
    }
  }
  for (const auto& [key, why] : skipped) {
    auto it = m_skipped.find(key);
    if (it == m_skipped.end() || it->second != why) {
      // Once per bad instance, escaped: a Consul service ID or an etcd key cannot forge a line.
      spdlog::warn("service: skipping {}: {}", escape_control(key), escape_control(why));
    }
  }
  m_skipped = std::move(skipped);
  if (next == m_instances) {
    return false;
  }
  m_instances = std::move(next);
  ++m_generation;
  return true;
}

// --- ChangeFeed ----------------------------------------------------------------------------------

ChangeFeed::ChangeFeed(registry::Registry& registry, const registry::Opener& opener,
                       registry::InstanceQuery query, std::chrono::milliseconds watch_timeout,
                       const StopToken& stop)
    : m_main(registry), m_query(std::move(query)), m_watch_timeout(watch_timeout), m_stop(stop) {
  if (opener) {
    m_kv_owned = opener.open(m_halt);
    m_instances_owned = opener.open(m_halt);
    m_kv = m_kv_owned.get();
    m_instances = m_instances_owned.get();
  } else if (registry.backend() == "memory") {
    // Thread-safe, but deaf to m_halt: keep its waits short so the destructor joins quickly.
    m_kv = m_instances = &registry;
    m_watch_timeout = std::min(m_watch_timeout, std::chrono::milliseconds(1000));
  } else {
    throw Error(ErrorKind::internal,
                "watching instances needs a second registry connection: no opener was given");
  }
  m_keys_thread = std::thread([this] { run_keys(); });
  m_instances_thread = std::thread([this] { run_instances(); });
}

ChangeFeed::~ChangeFeed() {
  {
    std::lock_guard lock(m_mutex);
    m_halted = true;
  }
  m_halt.request();
  m_cv.notify_all();
  m_keys_thread.join();
  m_instances_thread.join();
}

void ChangeFeed::post(std::int64_t index) {
  if (m_outcome && m_outcome->index != index) {
    m_outcome.reset(); // the loop moved on (resync, re-list): that answer is stale
  }
  if (m_outcome || m_in_flight == index || m_request == index) {
    return;
  }
  m_request = index;
  m_cv.notify_all();
}

FeedChange ChangeFeed::wait(std::string_view prefix, std::int64_t index,
                            std::chrono::milliseconds max_wait) {
  std::unique_lock lock(m_mutex);
  m_prefix = std::string(prefix);
  auto deadline = Clock::now() + max_wait;
  for (;;) {
    if (m_instances_error) {
      Error e = *m_instances_error;
      m_instances_error.reset();
      throw e;
    }
    post(index);
    if (m_outcome) {
      KvOutcome outcome = std::move(*m_outcome);
      m_outcome.reset();
      if (outcome.error) {
        throw *outcome.error;
      }
      FeedChange change{std::move(*outcome.batch), std::exchange(m_instances_changed, false)};
      return change;
    }
    if (m_instances_changed) {
      m_instances_changed = false;
      registry::WatchBatch none;
      none.index = index;
      return {std::move(none), true};
    }
    if (m_stop.requested()) {
      throw Error(ErrorKind::cancelled, "stopped while waiting for a registry change");
    }
    auto now = Clock::now();
    if (now >= deadline) {
      registry::WatchBatch none;
      none.index = index;
      return {std::move(none), false};
    }
    // The stop token has no condition variable: look at it every 200ms.
    m_cv.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(200)));
  }
}

void ChangeFeed::run_keys() {
  std::unique_lock lock(m_mutex);
  for (;;) {
    m_cv.wait(lock, [this] { return m_halted || m_request.has_value(); });
    if (m_halted) {
      return;
    }
    std::int64_t index = *m_request;
    m_request.reset();
    m_in_flight = index;
    std::string prefix = m_prefix;
    lock.unlock();
    KvOutcome outcome;
    outcome.index = index;
    try {
      outcome.batch = m_kv->watch(prefix, index, m_watch_timeout);
    } catch (const Error& e) {
      outcome.error = e;
    }
    lock.lock();
    m_in_flight.reset();
    if (m_halted) {
      return;
    }
    m_outcome = std::move(outcome);
    m_cv.notify_all();
  }
}

void ChangeFeed::run_instances() {
  std::int64_t index = 0;
  bool failing = false;
  auto retry = std::chrono::milliseconds(500);
  while (!m_halt.requested()) {
    try {
      std::int64_t next = m_instances->wait_instances(m_query, index, m_watch_timeout);
      failing = false;
      retry = std::chrono::milliseconds(500);
      // The first answer (index 0) is the baseline taken after the loop's own read: report it
      // as a change too, so nothing registered in between is missed.
      if (next != index || index == 0) {
        std::lock_guard lock(m_mutex);
        m_instances_changed = true;
        m_cv.notify_all();
      }
      index = next;
    } catch (const Error& e) {
      if (m_halt.requested() || e.kind() == ErrorKind::cancelled) {
        return;
      }
      if (!failing) {
        // Reported once per outage; the loop logs it and backs off.
        std::lock_guard lock(m_mutex);
        m_instances_error = e;
        m_cv.notify_all();
        failing = true;
      }
      index = 0; // start from a fresh baseline: changes made meanwhile are picked up
      m_halt.wait_for(retry);
      retry = std::min(retry * 2, std::chrono::milliseconds(10000));
    }
  }
}

} // namespace herald::render
