#pragma once

#include "herald/core/retry.hpp"
#include "herald/core/stop.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace herald::launch {

class Metrics;

/// Starts `app` and blocks until it is routable; returns its "host:port". Throws herald::Error
/// (or any std::exception) on failure. Should return soon after `stop` is requested.
using StartFn = std::function<std::string(const std::string& app, const StopToken& stop)>;

/// How starts are spaced and bounded.
struct FlightOptions {
  /// The wait after a failed start before the next may begin; doubles with each failure in a
  /// row, up to max_backoff.
  std::chrono::milliseconds backoff{std::chrono::seconds(10)};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(5)};
  /// Starts running at once; more wait (as "starting") for a free slot.
  int max_concurrent = 4;
};

/// Where an app started on demand is.
struct Status {
  enum class State { starting, ready, failed };
  State state = State::starting;
  /// When it entered this state (the start's beginning while starting).
  std::chrono::steady_clock::time_point since;
  std::string address;   ///< "host:port" once ready
  std::string reference; ///< "L-<hex>" naming a failure, in the log line and on the error page
  std::string error;     ///< why it failed, for the log only (never shown to clients)
  /// When a failed app may be started again.
  std::chrono::steady_clock::time_point retry_at;
};

/// "starting", "ready", "failed".
const char* to_string(Status::State state);

/// Single flight: however many requests ask for an app, it is started once, on a thread of its
/// own, through the StartFn; a failure is remembered with a backoff so that requests do not start
/// it again before retry_at. A failure logs one error line with its reference. Thread safe.
class Flights {
public:
  Flights(StartFn start, FlightOptions options);
  /// Cancels the starts (their stop token) and joins their threads.
  ~Flights();
  Flights(const Flights&) = delete;
  Flights& operator=(const Flights&) = delete;

  /// The app's status, nullopt when it was never started (or forgotten).
  std::optional<Status> status(const std::string& app) const;

  /// Starts `app` unless it is starting, ready, or failed within its backoff; returns its status
  /// then. `began` is true only for the one caller that started it. After stop() nothing starts
  /// (a failed status is returned).
  Status begin(const std::string& app, bool& began);

  /// Waits until `app` is no longer starting or `timeout` passed (or stop()); its status then.
  /// Throws Error(not_found) for an app never begun (or forgotten).
  Status wait(const std::string& app, std::chrono::milliseconds timeout);

  /// Apps started on demand that exist: starting or ready (what the policy's cap counts).
  int count() const;

  /// Forgets a ready or failed app (idle stop, or after the app was stopped); a starting app is
  /// kept.
  void forget(const std::string& app);

  /// Where starts are counted (launches, in flight, durations); the Server sets it.
  void set_metrics(Metrics* metrics) { m_metrics.store(metrics); }

  /// Requests every start to stop and joins their threads; idempotent.
  void stop();

private:
  struct Flight {
    Status status;
    Backoff backoff;
    std::thread thread;
    explicit Flight(RetryPolicy policy) : backoff(policy) {}
  };
  void run(std::string app);

  StartFn m_start;
  FlightOptions m_options;
  std::atomic<Metrics*> m_metrics{nullptr};
  StopToken m_stop;

  mutable std::mutex m_mutex;
  std::condition_variable m_changed;
  std::map<std::string, std::unique_ptr<Flight>> m_flights;
  int m_running = 0; ///< StartFn calls in progress
  bool m_stopped = false;
};

} // namespace herald::launch
