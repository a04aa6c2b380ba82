#pragma once

#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/fleet/connection.hpp"
#include "herald/fleet/model.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace herald::fleet {

/// fleetctl's unit verbs. fleet knows three desired states; stop means `loaded`.
enum class Verb { submit, load, start, stop, unload, destroy };

/// "submit", "load", ...
std::string_view to_string(Verb verb);

/// A unit named on the command line: its name and, when it came from a local file, the options
/// of that file (for an instance, the options of the template file beside it).
struct UnitRequest {
  std::string name;
  std::optional<std::vector<UnitOption>> options;
  std::string file; ///< the file the options came from, for messages ("" for a name)
  /// For an instance named without a file: the options of a local template file beside it
  /// (./web@.service for web@1), used only when fleet has neither the unit nor its template,
  /// as fleetctl does.
  std::optional<std::vector<UnitOption>> template_options;
};

/// How run_lifecycle() goes about it.
struct LifecycleOptions {
  Verb verb = Verb::start;
  /// Wait until systemd reports the state on the machines (fleetctl's default); false returns
  /// once fleet has the desired state (--no-block).
  bool block = true;
  /// Give up waiting after this long; the units still waiting are reported timed out.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  /// A unit that has no machine this long after it was asked to load/start is checked against
  /// the machines: if none can take it, it is reported unschedulable instead of waited for.
  std::chrono::milliseconds schedule_grace{std::chrono::seconds(5)};
  /// Between two looks at /state (fleetctl: 250 ms).
  std::chrono::milliseconds poll_interval{250};
  /// Replace a submitted unit whose options differ from the file (fleetctl --replace): fleet
  /// stops it, rewrites it and starts it again.
  bool replace = false;
  /// Requests in flight at once.
  std::size_t concurrency = 8;
  const StopToken* stop = nullptr;
};

/// How one unit ended.
enum class Outcome {
  ok,            ///< it is in the asked state (or was already)
  failed,        ///< systemd reports it failed
  unschedulable, ///< no machine can take it
  timed_out,     ///< still not there when --timeout ran out
  error          ///< fleet refused or could not be reached; `message` says why
};

/// "ok", "failed", "unschedulable", "timeout", "error".
std::string_view to_string(Outcome outcome);

/// What became of one unit, and as it goes, where it is.
struct UnitReport {
  std::string unit;
  Outcome outcome = Outcome::ok;
  bool final = false;
  /// Where it is: "submitted", "launched", "active/running", "waiting for a machine",
  /// "inactive/dead", "destroyed", "absent", ...
  std::string state;
  /// The machines it is on, fleetctl style: "11111111.../10.0.0.1" (several for a global unit).
  std::string machine;
  /// Why it failed, or a note ("kept the submitted unit: it differs from web@.service").
  std::string message;
  /// For Outcome::error: the kind of the error (unavailable when fleet could not be reached).
  ErrorKind error = ErrorKind::failed;
};

/// Receives every change of a unit's report, from one thread at a time.
class ProgressSink {
public:
  virtual ~ProgressSink() = default;
  /// Called whenever a unit's state, machine or message changes, and once with final = true.
  virtual void update(const UnitReport& report) = 0;
};

/// Brings each unit to what `options.verb` asks, as fleetctl does but concurrently: one list of
/// the units, then at most `concurrency` requests in flight (an instance of a submitted template
/// gets the template's options and its desired state in one PUT), then, when blocking, one look
/// at /state (and /units when needed) per poll for all units together. Idempotent: a unit
/// already in the state is reported ok; destroying or stopping a unit fleet does not have is ok.
/// Returns one final report per request, in order. Error(cancelled) when `stop` fires; other
/// errors are reported per unit.
std::vector<UnitReport> run_lifecycle(const Connection& connection,
                                      const std::vector<UnitRequest>& requests,
                                      const LifecycleOptions& options, ProgressSink& progress);

// --- the decisions, apart from the I/O (unit-tested) -----------------------------------------

/// What to send for one request, given what fleet has.
struct Step {
  std::optional<UnitPut> put; ///< a PUT to send
  bool remove = false;        ///< a DELETE to send
  bool wait = false;          ///< then wait for the state on the machines
  /// A result known without waiting (ok with a state, or an error), when nothing is to be done.
  std::optional<UnitReport> report;
  std::string note; ///< a warning to keep in the report ("differs from the file")
};

/// The step for `request` under `options` (verb, replace), given the units fleet has by name.
Step plan_step(const UnitRequest& request, const LifecycleOptions& options,
               const std::map<std::string, Unit>& units);

/// How many times a wait must see a unit enter systemd's auto-restart on one machine before it
/// reports the unit failed (a crash loop). A unit with Restart= never shows "failed" while
/// systemd keeps restarting it (activating/auto-restart, then activating again), so without
/// this `start` would wait out --timeout. One restart is a hiccup (a dependency not up yet, a
/// slow pull); a third one within the same wait means it is not recovering. With the
/// RestartSec=2-5 of the generated units that is some 6-20 s, far below the default --timeout
/// of 5m. A restart that comes and goes between two looks at /state (RestartSec shorter than
/// the poll interval) is not seen: such a unit is still bounded by --timeout.
inline constexpr int k_crash_loop_restarts = 3;

/// Counts, per unit, machine and unit file (hash), how often a wait saw the unit enter
/// systemd's auto-restart: once per look at /state in which it is restarting and was not in
/// the look before. The wait loop keeps one; judge_state() reads its counts.
class RestartCounter {
public:
  /// Takes one /state answer (every unit of it).
  void observe(const std::vector<UnitState>& states);
  /// The counts of `unit` running the file `hash` (empty: any file), by machine ID; machines
  /// where it was never seen restarting are absent.
  std::map<std::string, int> counts(const std::string& unit, const std::string& hash) const;

private:
  using Key = std::tuple<std::string, std::string, std::string>; // unit, machine, hash
  std::set<Key> m_restarting;                                    // in the last look
  std::map<Key, int> m_counts;
};

/// True when systemd's sub-state says the unit is between two runs of Restart=: auto-restart
/// (and systemd 254's auto-restart-queued, dead-/failed-before-auto-restart).
bool is_auto_restart(const UnitState& state);

/// What /state (and the unit, when known) says about `unit` for `verb`: final ok or failed, or
/// still on its way (final = false, with the state it is in). `hash` is the unit file it should
/// run (empty: any), `machines` the cluster, for global units and the machine legend.
/// `restarts` (RestartCounter::counts) are the times the wait saw it enter auto-restart, by
/// machine: from k_crash_loop_restarts on, a unit that is not active/running there is failed.
UnitReport judge_state(const std::string& unit, Verb verb, const std::string& hash,
                       const std::vector<UnitState>& states, const std::optional<Unit>& known,
                       const std::vector<Machine>& machines,
                       const std::map<std::string, int>& restarts = {});

/// "11111111.../10.0.0.1", as fleetctl names a machine; the id alone when it is unknown.
std::string machine_legend(const std::string& machine_id, const std::vector<Machine>& machines);

} // namespace herald::fleet
