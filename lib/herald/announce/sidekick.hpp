#pragma once

#include "herald/announce/notify.hpp"
#include "herald/announce/probe.hpp"
#include "herald/core/error.hpp"
#include "herald/core/retry.hpp"
#include "herald/core/stop.hpp"
#include "herald/registry/opener.hpp"
#include "herald/registry/registry.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace herald::announce {

/// How a Sidekick keeps its registration.
struct SidekickOptions {
  registry::Registration registration;
  std::chrono::milliseconds refresh{20000}; ///< keep-alive period, shorter than the TTL
  ProbeSettings probe;                      ///< used when a probe is set
  /// Retries after a registry error; the refresh period caps its delays too, so a registry that
  /// comes back sees the instance again within one refresh.
  RetryPolicy retry;
};

/// The heartbeat loop of `herald announce`: registers an instance, refreshes it, registers it
/// again when it was lost (expired, deleted, a lapsed lease), rides out registry outages with
/// capped jittered backoff, withdraws it while its health probe fails and deregisters it when
/// stopped. One thread and one next-deadline schedule for refresh, probe and watchdog, so the
/// Registry is never used concurrently. Logs one line per state change, none per heartbeat.
class Sidekick {
public:
  /// `registry` and `stop` must outlive the Sidekick; `stop` ends run().
  Sidekick(registry::Registry& registry, SidekickOptions options, const StopToken& stop);

  /// Gates the registration on `probe` (see HealthGate for rise/fall).
  void set_probe(std::unique_ptr<Probe> probe);
  /// Reports READY/STATUS/WATCHDOG/STOPPING to systemd through `notifier` (not owned).
  void set_notifier(Notifier* notifier);
  /// Deregisters on stop through registry::Opener::open_after_stop() instead of the main
  /// registry, which is bound to the stop token and would cancel every request.
  void set_cleanup(registry::Opener opener);

  /// Runs until the stop token fires, then deregisters and returns. Retryable registry errors
  /// never end it; a non-retryable one (bad credentials, a rejected request) is thrown as is.
  void run();

  /// --once: checks the probe (if any) once and registers with the TTL, without keep-alive.
  /// Throws Error(unavailable) when the probe fails, and any registry error as is.
  void register_once();

private:
  using Clock = std::chrono::steady_clock;
  enum class Note { first, again, restored, quiet };

  void run_probe();
  void sync();
  void register_now();
  /// Warns (at most once per backoff gap, which doubles up to an hour) when the key holds
  /// another writer's value.
  void check_other_writer();
  void registry_ok();
  void registry_failed(const Error& error);
  void finish();
  std::string registered_line() const;

  registry::Registry& m_registry;
  SidekickOptions m_options;
  const StopToken& m_stop;
  std::unique_ptr<Probe> m_probe;
  std::optional<HealthGate> m_gate;
  Notifier* m_notifier = nullptr;
  registry::Opener m_cleanup;
  Backoff m_backoff;
  OutageLog m_outage{"registry"};

  bool m_desired = true;        ///< the instance should be registered (probe passes / no probe)
  bool m_present = false;       ///< we registered it and have not seen it go
  bool m_maybe_present = false; ///< a write may have reached the registry: deregister on stop
  Note m_note = Note::first;    ///< what to log at the next successful registration
  std::string m_failure;        ///< the last probe failure, for withdraw_instance's reason
  Clock::time_point m_next_sync;
  /// The last refresh found the key rewritten or gone: read it before the next one.
  bool m_contested = false;
  std::uint64_t m_overwrites = 0; ///< values of another writer seen so far
  Clock::duration m_writer_warning_gap{};
  Clock::time_point m_next_writer_warning{};
  static constexpr std::chrono::minutes k_first_writer_warning_gap{1};
  static constexpr std::chrono::hours k_max_writer_warning_gap{1};
  Clock::time_point m_next_probe;
};

} // namespace herald::announce
