#include "herald/launch/flights.hpp"

#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/launch/metrics.hpp"

#include <fmt/format.h>
#include <random>
#include <spdlog/spdlog.h>

namespace herald::launch {

namespace {

using Clock = std::chrono::steady_clock;

/// "L-" and 8 hex digits: short enough to read out over the phone, random enough not to repeat
/// in one log.
std::string make_reference() {
  thread_local std::mt19937 generator{std::random_device{}()};
  return fmt::format("L-{:08x}", static_cast<std::uint32_t>(generator()));
}

} // namespace

const char* to_string(Status::State state) {
  switch (state) {
  case Status::State::starting:
    return "starting";
  case Status::State::ready:
    return "ready";
  case Status::State::failed:
    return "failed";
  }
  return "unknown";
}

Flights::Flights(StartFn start, FlightOptions options)
    : m_start(std::move(start)), m_options(options) {
  m_options.max_concurrent = std::max(1, m_options.max_concurrent);
}

Flights::~Flights() {
  stop();
}

std::optional<Status> Flights::status(const std::string& app) const {
  std::lock_guard lock(m_mutex);
  auto it = m_flights.find(app);
  if (it == m_flights.end()) {
    return std::nullopt;
  }
  return it->second->status;
}

Status Flights::begin(const std::string& app, bool& began) {
  began = false;
  std::unique_lock lock(m_mutex);
  auto now = Clock::now();
  if (m_stopped) {
    Status s;
    s.state = Status::State::failed;
    s.since = now;
    s.retry_at = now + std::chrono::seconds(1);
    s.error = "the launcher is stopping";
    return s;
  }
  auto it = m_flights.find(app);
  if (it != m_flights.end()) {
    const Status& s = it->second->status;
    if (s.state != Status::State::failed || now < s.retry_at) {
      return s;
    }
  } else {
    RetryPolicy policy;
    policy.initial = m_options.backoff;
    policy.cap = std::max(m_options.backoff, m_options.max_backoff);
    policy.multiplier = 2.0;
    policy.jitter = 0;
    it = m_flights.emplace(app, std::make_unique<Flight>(policy)).first;
  }
  Flight& flight = *it->second;
  if (flight.thread.joinable()) {
    // The previous attempt's thread has finished (the app was failed): reap it.
    flight.thread.join();
  }
  flight.status = Status{};
  flight.status.state = Status::State::starting;
  flight.status.since = now;
  began = true;
  if (auto* metrics = m_metrics.load()) {
    metrics->add_in_flight(1);
  }
  flight.thread = std::thread([this, app] { run(app); });
  return flight.status;
}

void Flights::run(std::string app) {
  {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [&] { return m_stopped || m_running < m_options.max_concurrent; });
    if (!m_stopped) {
      ++m_running;
    }
  }
  auto began_at = Clock::now();
  std::string address;
  std::string error;
  bool ok = false;
  if (m_stop.requested()) {
    error = "the launcher is stopping";
  } else {
    try {
      address = m_start(app, m_stop);
      ok = true;
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown error";
    }
    std::lock_guard lock(m_mutex);
    --m_running;
  }
  auto now = Clock::now();
  std::string reference;
  std::chrono::milliseconds backoff{0};
  if (!ok) {
    std::lock_guard lock(m_mutex);
    auto it = m_flights.find(app);
    if (it != m_flights.end()) {
      backoff = it->second->backoff.next();
    }
    reference = make_reference();
  }
  // Logged and counted before anyone waiting sees the outcome: the log line a failure page's
  // reference points to is there by the time the page is.
  if (auto* metrics = m_metrics.load()) {
    metrics->add_in_flight(-1);
    metrics->launched(ok, now - began_at);
  }
  auto seconds = std::chrono::duration<double>(now - began_at).count();
  if (ok) {
    spdlog::info("launched {} at {} in {:.1f}s", app, escape_control(address), seconds);
  } else if (m_stop.requested()) {
    spdlog::info("launch of {} stopped: {}", app, escape_control(error));
  } else {
    spdlog::error("launch of {} failed (reference {}) after {:.1f}s: {}; next try in {}s at the "
                  "earliest",
                  app, reference, seconds, escape_control(error),
                  std::chrono::duration_cast<std::chrono::seconds>(backoff).count());
  }
  std::lock_guard lock(m_mutex);
  auto it = m_flights.find(app);
  if (it != m_flights.end()) {
    Flight& flight = *it->second;
    flight.status.since = now;
    if (ok) {
      flight.status.state = Status::State::ready;
      flight.status.address = address;
      flight.backoff.reset();
    } else {
      flight.status.state = Status::State::failed;
      flight.status.reference = reference;
      flight.status.error = error;
      flight.status.retry_at = now + backoff;
    }
  }
  m_changed.notify_all();
}

Status Flights::wait(const std::string& app, std::chrono::milliseconds timeout) {
  std::unique_lock lock(m_mutex);
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto it = m_flights.find(app);
    if (it == m_flights.end()) {
      throw Error(ErrorKind::not_found, fmt::format("launch: no start of {} is known", app));
    }
    if (it->second->status.state != Status::State::starting || m_stopped) {
      return it->second->status;
    }
    if (m_changed.wait_until(lock, deadline) == std::cv_status::timeout) {
      auto again = m_flights.find(app);
      if (again == m_flights.end()) {
        throw Error(ErrorKind::not_found, fmt::format("launch: no start of {} is known", app));
      }
      return again->second->status;
    }
  }
}

int Flights::count() const {
  std::lock_guard lock(m_mutex);
  int n = 0;
  for (const auto& [app, flight] : m_flights) {
    if (flight->status.state != Status::State::failed) {
      ++n;
    }
  }
  return n;
}

void Flights::forget(const std::string& app) {
  std::lock_guard lock(m_mutex);
  auto it = m_flights.find(app);
  if (it == m_flights.end() || it->second->status.state == Status::State::starting) {
    return;
  }
  // Its thread has set the final state and takes m_mutex no more: joining here is safe and quick.
  if (it->second->thread.joinable()) {
    it->second->thread.join();
  }
  m_flights.erase(it);
}

void Flights::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(m_mutex);
    m_stopped = true;
    m_stop.request();
    m_changed.notify_all();
    for (auto& [app, flight] : m_flights) {
      if (flight->thread.joinable()) {
        threads.push_back(std::move(flight->thread));
      }
    }
  }
  for (auto& t : threads) {
    t.join();
  }
}

} // namespace herald::launch
