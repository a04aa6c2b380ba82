#pragma once

#include "herald/scheduler/scheduler.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace herald::scheduler::memory {

/// An in-process Scheduler for the planner's unit tests: instances with states a test drives
/// (fail one, lose a machine), placement as fleet's engine does it (spread = one instance of an
/// app per machine, machine metadata; an instance no machine takes is pending), logs a test
/// writes, and a journal of the operations it was asked for. Thread-safe, so a test may drive
/// it from one thread while another blocks in wait().
class MemoryScheduler final : public Scheduler {
public:
  /// Decides the state a started instance gets (default: running).
  using StartBehaviour = std::function<State(const InstanceSpec&)>;

  /// One machine, "memory" (as the docker backend has one engine).
  MemoryScheduler();
  /// These machines (fleet-like: placement chooses among them, in order, fewest instances first).
  explicit MemoryScheduler(std::vector<Machine> machines);

  std::string_view backend() const override { return "memory"; }
  std::string describe() const override { return "memory scheduler"; }
  bool health_gates_registration() const override { return m_health_gated; }

  std::vector<Instance> list(std::string_view app = {}) override;
  void start(const InstanceSpec& spec) override;
  bool stop(const InstanceName& name, std::chrono::seconds grace) override;
  bool remove(const InstanceName& name) override;
  bool withdraw(const InstanceName& name) override;
  std::vector<std::string> logs(const InstanceName& name, std::size_t lines) override;
  std::vector<Machine> machines() override;

  // --- test knobs ---------------------------------------------------------------------------

  /// What start() makes of a spec from now on (e.g. State::failed for one image, State::starting
  /// to keep instances starting until set_state() says otherwise).
  void set_start_behaviour(StartBehaviour behaviour);
  /// Drives an instance to `state` (with `detail`, default the state's name). Error(not_found)
  /// when it does not exist.
  void set_state(const InstanceName& name, State state, std::string detail = {});
  /// The instance fails as a crashed process does: state failed, `log_lines` appended to its log.
  void fail(const InstanceName& name, const std::vector<std::string>& log_lines = {});
  /// Appends lines to an instance's log.
  void append_log(const InstanceName& name, const std::vector<std::string>& log_lines);
  /// The machine leaves, as fleet sees it: its instances are placed again on the others (or are
  /// pending when none takes them) and start again there. False when there was no such machine.
  bool lose_machine(const std::string& machine_id);
  /// A machine joins; pending instances are placed on it when they fit.
  void add_machine(Machine machine);
  /// Makes every call fail with Error(kind) (as an engine that went away), until cleared.
  void set_unavailable(std::optional<ErrorKind> kind);
  /// Whether registrations wait for health checks, as fleet's sidekicks (default) or not, as
  /// docker's registrator.
  void set_health_gates_registration(bool gated) { m_health_gated = gated; }

  /// What the scheduler was asked to do, in order: "start web@1 abc123", "withdraw web@2",
  /// "stop web@2", "remove web@2" (start names the spec hash; a start that changed nothing is
  /// "start web@1 HASH (unchanged)").
  std::vector<std::string> journal() const;
  /// The spec the instance was last started from. Error(not_found) when it does not exist.
  InstanceSpec spec_of(const InstanceName& name) const;

protected:
  std::chrono::milliseconds poll_interval() const override { return std::chrono::milliseconds(5); }

private:
  struct Entry {
    InstanceSpec spec;
    State state = State::stopped;
    std::string detail;
    std::string machine;    ///< machine id; "" when pending
    std::uint16_t port = 0; ///< the host port it was given at launch
    std::vector<std::string> log;
  };

  using Key = std::pair<std::string, std::string>; ///< app, instance

  void check_available() const;
  Entry& entry_of(const InstanceName& name);
  const Entry& entry_of(const InstanceName& name) const;
  /// The machine `key` may run on now, "" for none (and the reason in `why`).
  std::string place(const Key& key, const Entry& entry, std::string& why) const;
  /// Places every pending, launched instance that fits somewhere now.
  void place_pending();
  void launch(const Key& key, Entry& entry);
  Instance view(const Key& key, const Entry& entry) const;

  mutable std::mutex m_mutex;
  std::vector<Machine> m_machines;
  std::map<Key, Entry> m_entries;
  StartBehaviour m_behaviour;
  std::optional<ErrorKind> m_unavailable;
  std::atomic<bool> m_health_gated{true};
  std::vector<std::string> m_journal;
  std::uint16_t m_next_port = 32768; ///< ephemeral ports, as Docker hands them out
};

} // namespace herald::scheduler::memory
