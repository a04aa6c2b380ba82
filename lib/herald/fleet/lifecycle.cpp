#include "herald/fleet/lifecycle.hpp"

#include "herald/core/duration.hpp"
#include "herald/core/retry.hpp"
#include "herald/fleet/placement.hpp"
#include "herald/fleet/unit_name.hpp"

#include <algorithm>
#include <atomic>
#include <fmt/format.h>
#include <mutex>
#include <spdlog/spdlog.h>
#include <thread>

namespace herald::fleet {

namespace {

using Clock = std::chrono::steady_clock;

UnitReport final_report(const std::string& unit, Outcome outcome, std::string state,
                        std::string message = {}) {
  UnitReport report;
  report.unit = unit;
  report.outcome = outcome;
  report.final = true;
  report.state = std::move(state);
  report.message = std::move(message);
  return report;
}

UnitReport progress_report(const std::string& unit, std::string state, std::string machine = {}) {
  UnitReport report;
  report.unit = unit;
  report.state = std::move(state);
  report.machine = std::move(machine);
  return report;
}

std::string systemd_state(const UnitState& state) {
  return state.active_state + "/" + state.sub_state;
}

bool is_active(const UnitState& state) {
  return state.active_state == "active" || state.active_state == "activating" ||
         state.active_state == "deactivating" || state.active_state == "reloading";
}

bool machine_eligible(const Machine& machine, const Requirements& req) {
  for (const auto& [key, values] : req.metadata) {
    auto have = machine.metadata.find(key);
    if (have == machine.metadata.end() || values.count(have->second) == 0) {
      return false;
    }
  }
  return true;
}

std::optional<DesiredState> target_of(Verb verb) {
  switch (verb) {
  case Verb::load:
  case Verb::stop:
    return DesiredState::loaded;
  case Verb::start:
    return DesiredState::launched;
  case Verb::unload:
    return DesiredState::inactive;
  default:
    return std::nullopt;
  }
}

/// What a unit looks like once the PUT of `put` is done, for judging its states later.
Unit after_put(const std::string& name, const std::optional<Unit>& before, const UnitPut& put) {
  Unit unit = before.value_or(Unit{});
  unit.name = name;
  if (put.options) {
    unit.options = normalize_options(*put.options);
    for (UnitOption& option : unit.options) {
      option.value = join_continuation_lines(option.value);
    }
  }
  if (put.desired_state) {
    unit.desired_state = *put.desired_state;
  }
  return unit;
}

/// The state a unit is asked to reach, in words, for the report of --no-block and of a wait.
std::string asked_state(Verb verb) {
  switch (verb) {
  case Verb::submit:
    return "submitted";
  case Verb::load:
    return "loaded";
  case Verb::start:
    return "launched";
  case Verb::stop:
    return "stopped";
  case Verb::unload:
    return "unloaded";
  case Verb::destroy:
    return "destroyed";
  }
  return {};
}

} // namespace

std::string_view to_string(Verb verb) {
  switch (verb) {
  case Verb::submit:
    return "submit";
  case Verb::load:
    return "load";
  case Verb::start:
    return "start";
  case Verb::stop:
    return "stop";
  case Verb::unload:
    return "unload";
  case Verb::destroy:
    return "destroy";
  }
  return "start";
}

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
  case Outcome::ok:
    return "ok";
  case Outcome::failed:
    return "failed";
  case Outcome::unschedulable:
    return "unschedulable";
  case Outcome::timed_out:
    return "timeout";
  case Outcome::error:
    return "error";
  }
  return "error";
}

std::string machine_legend(const std::string& machine_id, const std::vector<Machine>& machines) {
  for (const Machine& machine : machines) {
    if (machine.id == machine_id) {
      return machine.primary_ip.empty()
                 ? machine.short_id() + "..."
                 : fmt::format("{}.../{}", machine.short_id(), machine.primary_ip);
    }
  }
  return machine_id.size() > 8 ? machine_id.substr(0, 8) + "..." : machine_id;
}

Step plan_step(const UnitRequest& request, const LifecycleOptions& options,
               const std::map<std::string, Unit>& units) {
  const std::string& name = request.name;
  Step step;
  if (auto problem = unit_name_problem(name)) {
    step.report = final_report(name, Outcome::error, "invalid",
                               fmt::format("invalid unit name '{}': {}", name, *problem));
    return step;
  }
  auto info = parse_unit_name(name);
  auto found = units.find(name);
  std::optional<Unit> existing;
  if (found != units.end()) {
    existing = found->second;
  }
  Verb verb = options.verb;

  if (verb == Verb::destroy || verb == Verb::stop || verb == Verb::unload) {
    if (!existing) {
      step.report = final_report(name, Outcome::ok, "absent", "fleet has no such unit");
      return step;
    }
    if (verb == Verb::destroy) {
      step.remove = true;
      step.wait = options.block && !info->is_template();
      return step;
    }
    if (info->is_template()) {
      step.report = final_report(name, Outcome::ok, "template", "a template never runs");
      return step;
    }
    DesiredState target = *target_of(verb);
    // stop leaves an unloaded unit unloaded: "stopped" is true of it already.
    bool lower = verb == Verb::unload ? existing->desired_state != DesiredState::inactive
                                      : existing->desired_state == DesiredState::launched;
    if (lower) {
      step.put = UnitPut{std::nullopt, target};
    }
    step.wait = options.block;
    if (!step.put && !step.wait) {
      step.report = final_report(name, Outcome::ok, asked_state(verb));
    }
    return step;
  }

  // submit, load, start: the unit must exist, from fleet, a file, or its template.
  std::optional<std::vector<UnitOption>> options_to_send;
  if (existing) {
    if (request.options &&
        serialize_unit_file(*request.options) != serialize_unit_file(existing->options)) {
      std::string from = request.file.empty() ? "the given unit file" : request.file;
      if (options.replace) {
        options_to_send = request.options;
      } else if (verb == Verb::submit) {
        step.report = final_report(
            name, Outcome::error, "differs",
            fmt::format("fleet already has {} with other contents than {}; pass --replace to "
                        "replace it (fleet then restarts it)",
                        name, from));
        return step;
      } else {
        step.note = fmt::format("fleet's {} differs from {}: kept fleet's (--replace replaces "
                                "it)",
                                name, from);
      }
    }
  } else if (request.options) {
    options_to_send = request.options;
  } else if (info->is_instance() && units.count(info->template_name()) != 0) {
    // fleetd does not instantiate templates: the instance gets the template's options.
    options_to_send = units.at(info->template_name()).options;
  } else if (request.template_options) {
    options_to_send = request.template_options;
  } else {
    std::string hint = info->is_instance()
                           ? fmt::format(" nor its template {}", info->template_name())
                           : std::string();
    step.report = final_report(
        name, Outcome::error, "unknown",
        fmt::format("fleet has no unit {}{}: submit the unit file first (herald unit submit "
                    "FILE), or name the file instead of the unit",
                    name, hint));
    return step;
  }
  if (options_to_send) {
    if (auto problem = options_problem(*options_to_send)) {
      step.report =
          final_report(name, Outcome::error, "invalid",
                       fmt::format("{}: {}", request.file.empty() ? name : request.file, *problem));
      return step;
    }
  }

  std::optional<DesiredState> target = target_of(verb);
  if (info->is_template()) {
    target.reset(); // fleet refuses to load or launch a template; submitting it is all
  }
  // load does not stop a launched unit (fleetctl's would): "at least loaded".
  bool beyond = verb == Verb::load && existing && existing->desired_state == DesiredState::launched;
  if (beyond) {
    target.reset();
  }
  std::optional<DesiredState> desired;
  if (target && (!existing || existing->desired_state != *target)) {
    desired = target;
  }
  if (options_to_send && existing && !desired && verb != Verb::submit && !info->is_template()) {
    desired = existing->desired_state; // a replace keeps the unit where it was
  }
  if (options_to_send || desired) {
    UnitPut put;
    put.options = options_to_send;
    put.desired_state = desired;
    step.put = put;
  }
  step.wait = options.block && target.has_value();
  if (!step.put && !step.wait) {
    // Nothing to send: the unit is there as asked ("unchanged" for a submit of the same file).
    std::string state = verb == Verb::submit  ? "unchanged"
                        : info->is_template() ? "template"
                        : beyond              ? "launched"
                                              : asked_state(verb);
    step.report = final_report(name, Outcome::ok, state, step.note);
  }
  return step;
}

bool is_auto_restart(const UnitState& state) {
  return state.sub_state.find("auto-restart") != std::string::npos;
}

void RestartCounter::observe(const std::vector<UnitState>& states) {
  std::set<Key> now;
  for (const UnitState& state : states) {
    if (!is_auto_restart(state)) {
      continue;
    }
    Key key{state.name, state.machine_id, state.hash};
    if (m_restarting.count(key) == 0) {
      ++m_counts[key];
    }
    now.insert(std::move(key));
  }
  m_restarting = std::move(now);
}

std::map<std::string, int> RestartCounter::counts(const std::string& unit,
                                                  const std::string& hash) const {
  std::map<std::string, int> out;
  for (const auto& [key, count] : m_counts) {
    const auto& [name, machine, file] = key;
    if (name == unit && (hash.empty() || file == hash)) {
      out[machine] += count;
    }
  }
  return out;
}

UnitReport judge_state(const std::string& unit, Verb verb, const std::string& hash,
                       const std::vector<UnitState>& states, const std::optional<Unit>& known,
                       const std::vector<Machine>& machines,
                       const std::map<std::string, int>& restarts) {
  std::vector<const UnitState*> mine;
  for (const UnitState& state : states) {
    if (state.name == unit) {
      mine.push_back(&state);
    }
  }
  auto legend_of = [&](const std::vector<const UnitState*>& entries) {
    std::string out;
    for (const UnitState* entry : entries) {
      out += (out.empty() ? "" : ", ") + machine_legend(entry->machine_id, machines);
    }
    return out;
  };
  auto current = [&](const UnitState* state) { return hash.empty() || state->hash == hash; };

  if (verb == Verb::destroy) {
    if (mine.empty()) {
      return final_report(unit, Outcome::ok, "destroyed");
    }
    return progress_report(unit, "stopping (" + systemd_state(*mine.front()) + ")",
                           legend_of(mine));
  }
  if (verb == Verb::stop || verb == Verb::unload) {
    std::vector<const UnitState*> active;
    for (const UnitState* state : mine) {
      if (is_active(*state)) {
        active.push_back(state);
      }
    }
    bool unscheduled = !known || known->machine_id.empty();
    if (active.empty() && (verb == Verb::stop || unscheduled)) {
      UnitReport report =
          final_report(unit, Outcome::ok, mine.empty() ? "inactive" : systemd_state(*mine.front()));
      report.machine = verb == Verb::stop ? legend_of(mine) : std::string();
      return report;
    }
    return progress_report(unit,
                           active.empty() ? std::string("unloading")
                                          : "stopping (" + systemd_state(*active.front()) + ")",
                           legend_of(active.empty() ? mine : active));
  }

  // load and start: systemd's view on every machine the unit belongs on.
  bool start = verb == Verb::start;
  for (const UnitState* state : mine) {
    if (state->active_state == "failed" && current(state)) {
      UnitReport report = final_report(unit, Outcome::failed, systemd_state(*state),
                                       "systemd reports it failed; see journalctl -u " + unit +
                                           " on " + machine_legend(state->machine_id, machines));
      report.machine = machine_legend(state->machine_id, machines);
      return report;
    }
  }
  for (const UnitState* state : mine) {
    auto seen = restarts.find(state->machine_id);
    bool running = state->active_state == "active" && state->sub_state == "running";
    if (current(state) && !running && seen != restarts.end() &&
        seen->second >= k_crash_loop_restarts) {
      std::string where = machine_legend(state->machine_id, machines);
      UnitReport report = final_report(
          unit, Outcome::failed, systemd_state(*state),
          fmt::format("crash loop: systemd keeps restarting it after failures (seen entering "
                      "auto-restart {} times); see journalctl -u {} on {}",
                      seen->second, unit, where));
      report.machine = where;
      return report;
    }
  }
  auto reached = [&](const UnitState* state) {
    return current(state) && state->load_state == "loaded" &&
           (!start || (state->active_state == "active" && state->sub_state == "running"));
  };
  Requirements req = known ? requirements_of(unit, known->options) : Requirements{};
  if (req.global) {
    std::vector<const UnitState*> done;
    std::size_t eligible = 0;
    for (const Machine& machine : machines) {
      if (!machine_eligible(machine, req)) {
        continue;
      }
      ++eligible;
      for (const UnitState* state : mine) {
        if (state->machine_id == machine.id && reached(state)) {
          done.push_back(state);
        }
      }
    }
    if (eligible > 0 && done.size() >= eligible) {
      UnitReport report =
          final_report(unit, Outcome::ok, start ? "active/running" : systemd_state(*done[0]));
      report.machine = legend_of(done);
      return report;
    }
    return progress_report(
        unit,
        fmt::format("{} on {} of {} machines", start ? "running" : "loaded", done.size(), eligible),
        legend_of(done));
  }
  for (const UnitState* state : mine) {
    if (reached(state)) {
      UnitReport report = final_report(unit, Outcome::ok, systemd_state(*state));
      report.machine = machine_legend(state->machine_id, machines);
      return report;
    }
  }
  if (!mine.empty()) {
    const UnitState* state = mine.front();
    std::string what = current(state)
                           ? systemd_state(*state)
                           : "restarting with the new unit file (" + systemd_state(*state) + ")";
    return progress_report(unit, what, machine_legend(state->machine_id, machines));
  }
  if (known && !known->machine_id.empty()) {
    return progress_report(unit, "scheduled", machine_legend(known->machine_id, machines));
  }
  return progress_report(unit, "waiting for a machine");
}

namespace {

/// The shared state of one run: reports, serialised calls to the sink.
class Run {
public:
  Run(const std::vector<UnitRequest>& requests, ProgressSink& sink)
      : m_reports(requests.size()), m_sink(sink) {
    for (std::size_t i = 0; i < requests.size(); ++i) {
      m_reports[i].unit = requests[i].name;
    }
  }

  /// Records `report` for unit `i` and tells the sink when anything changed.
  void update(std::size_t i, UnitReport report) {
    std::lock_guard lock(m_mutex);
    UnitReport& old = m_reports[i];
    if (old.final) {
      return;
    }
    if (report.message.empty() && !old.message.empty() && !report.final) {
      report.message = old.message;
    }
    bool changed = report.final != old.final || report.state != old.state ||
                   report.machine != old.machine || report.message != old.message ||
                   report.outcome != old.outcome;
    old = std::move(report);
    if (changed) {
      m_sink.update(old);
    }
  }

  bool is_final(std::size_t i) {
    std::lock_guard lock(m_mutex);
    return m_reports[i].final;
  }

  std::vector<UnitReport> take() {
    std::lock_guard lock(m_mutex);
    return m_reports;
  }

private:
  std::mutex m_mutex;
  std::vector<UnitReport> m_reports;
  ProgressSink& m_sink;
};

void check_stop(const StopToken* stop) {
  if (stop != nullptr && stop->requested()) {
    throw Error(ErrorKind::cancelled, "interrupted");
  }
}

/// Runs `work(i, client)` for every index in `indices`, `concurrency` at a time, each worker
/// with its own Client.
template <typename Work>
void in_parallel(const Connection& connection, const std::vector<std::size_t>& indices,
                 std::size_t concurrency, Work work) {
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    Client client = connection.client();
    for (std::size_t k = next++; k < indices.size(); k = next++) {
      work(indices[k], client);
    }
  };
  std::size_t threads = std::min(std::max<std::size_t>(concurrency, 1), indices.size());
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) {
    pool.emplace_back(worker);
  }
  if (threads > 0) {
    worker(); // the calling thread is one of the workers
  }
  for (std::thread& thread : pool) {
    thread.join();
  }
}

} // namespace

std::vector<UnitReport> run_lifecycle(const Connection& connection,
                                      const std::vector<UnitRequest>& given,
                                      const LifecycleOptions& options, ProgressSink& progress) {
  // A template file named in the same command is the template of its instances named there
  // (`start units/web@.service web@1`), whether or not fleet has it yet.
  std::vector<UnitRequest> requests = given;
  for (UnitRequest& request : requests) {
    auto info = parse_unit_name(request.name);
    if (request.options || !info || !info->is_instance()) {
      continue;
    }
    for (const UnitRequest& other : given) {
      if (other.name == info->template_name() && other.options) {
        request.template_options = other.options;
      }
    }
  }
  Run run(requests, progress);
  Client client = connection.client();
  std::map<std::string, Unit> units;
  for (Unit& unit : client.list_units()) {
    units.emplace(unit.name, std::move(unit));
  }

  // Plan every unit, then send the PUTs and DELETEs concurrently.
  std::vector<Step> steps;
  std::vector<std::size_t> to_send;
  std::map<std::string, Unit> expected; // what each waited-for unit will look like
  for (std::size_t i = 0; i < requests.size(); ++i) {
    steps.push_back(plan_step(requests[i], options, units));
    Step& step = steps.back();
    if (step.report) {
      run.update(i, *step.report);
      continue;
    }
    const std::string& name = requests[i].name;
    auto found = units.find(name);
    std::optional<Unit> before;
    if (found != units.end()) {
      before = found->second;
    }
    expected[name] = step.put ? after_put(name, before, *step.put) : before.value_or(Unit{});
    if (step.put || step.remove) {
      to_send.push_back(i);
    }
  }
  std::atomic<bool> cancelled{false};
  in_parallel(connection, to_send, options.concurrency, [&](std::size_t i, Client& worker) {
    const Step& step = steps[i];
    const std::string& name = requests[i].name;
    try {
      if (cancelled || (options.stop != nullptr && options.stop->requested())) {
        cancelled = true;
        return;
      }
      if (step.remove) {
        bool existed = worker.delete_unit(name);
        if (!step.wait || !existed) {
          run.update(i, final_report(name, Outcome::ok, existed ? "destroyed" : "absent"));
        } else {
          run.update(i, progress_report(name, "destroying"));
        }
        return;
      }
      PutOutcome outcome = worker.put_unit(name, *step.put);
      std::string state =
          !step.put->desired_state ? "submitted"
          : outcome == PutOutcome::created && step.put->options && units.count(name) != 0
              ? "replaced"
              : std::string(to_string(*step.put->desired_state));
      if (!step.wait) {
        std::string shown = options.verb == Verb::submit
                                ? (units.count(name) != 0 ? "replaced" : "submitted")
                                : state;
        run.update(i, final_report(name, Outcome::ok, shown, step.note));
      } else {
        UnitReport report = progress_report(name, state);
        report.message = step.note;
        run.update(i, report);
      }
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::cancelled) {
        cancelled = true;
        return;
      }
      UnitReport report = final_report(name, Outcome::error, "refused", e.what());
      report.error = e.kind();
      run.update(i, report);
    }
  });
  if (cancelled) {
    throw Error(ErrorKind::cancelled, "interrupted");
  }

  std::vector<std::size_t> waiting;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (steps[i].wait && !run.is_final(i)) {
      waiting.push_back(i);
    }
  }
  if (waiting.empty()) {
    return run.take();
  }

  // Wait: one look at /state per poll for all units, /units when a unit needs fleet's view.
  std::vector<Machine> machines = client.list_machines();
  auto started = Clock::now();
  auto deadline = started + options.timeout;
  // fleetd restarting or etcd away: one warning and one line when it is back (core/retry), polls
  // spaced by a capped backoff meanwhile instead of every poll interval.
  OutageLog outage(fmt::format("fleet at {}", connection.describe()), "still waiting");
  RetryPolicy policy;
  policy.initial = options.poll_interval;
  policy.cap = std::max(options.poll_interval, std::chrono::milliseconds(2000));
  Backoff backoff(policy);
  std::string last_error;
  RestartCounter restarts; // a unit that keeps restarting is failed, not waited for
  while (true) {
    std::chrono::milliseconds pause = options.poll_interval;
    check_stop(options.stop);
    try {
      std::vector<UnitState> states = client.list_states();
      restarts.observe(states);
      auto now = Clock::now();
      bool past_grace = now - started >= options.schedule_grace;
      bool need_units = options.verb == Verb::unload;
      for (std::size_t i : waiting) {
        const std::string& name = requests[i].name;
        bool has_state = std::any_of(states.begin(), states.end(),
                                     [&](const UnitState& s) { return s.name == name; });
        need_units = need_units || (past_grace && !has_state && !run.is_final(i));
      }
      std::vector<Unit> fresh;
      if (need_units) {
        fresh = client.list_units();
        for (const Unit& unit : fresh) {
          auto it = expected.find(unit.name);
          if (it != expected.end()) {
            it->second.machine_id = unit.machine_id;
            it->second.current_state = unit.current_state;
            it->second.options = unit.options;
          }
        }
        for (auto& [name, unit] : expected) {
          if (std::none_of(fresh.begin(), fresh.end(),
                           [&](const Unit& u) { return u.name == name; })) {
            unit.machine_id.clear();
          }
        }
        if (std::any_of(fresh.begin(), fresh.end(), [&](const Unit& unit) {
              return !unit.machine_id.empty() &&
                     std::none_of(machines.begin(), machines.end(),
                                  [&](const Machine& m) { return m.id == unit.machine_id; });
            })) {
          machines = client.list_machines();
        }
      }
      if (outage.recovered()) {
        backoff.reset();
      }
      bool machines_listed = false; // by this poll
      bool pending = false;
      for (std::size_t i : waiting) {
        if (run.is_final(i)) {
          continue;
        }
        const std::string& name = requests[i].name;
        auto it = expected.find(name);
        std::optional<Unit> known;
        if (it != expected.end() && !it->second.name.empty()) {
          known = it->second;
        }
        std::string hash = known && !known->options.empty() ? unit_hash(known->options) : "";
        UnitReport report = judge_state(name, options.verb, hash, states, known, machines,
                                        restarts.counts(name, hash));
        bool no_state = std::none_of(states.begin(), states.end(),
                                     [&](const UnitState& s) { return s.name == name; });
        if (!report.final && need_units && past_grace && no_state && known &&
            known->machine_id.empty() &&
            (options.verb == Verb::start || options.verb == Verb::load)) {
          auto why = unschedulable_reason(*known, machines, fresh);
          if (why && !machines_listed) {
            // The machines were listed when the wait began: one that joined since may take it
            // (a global unit gets no machineID to tell of it).
            machines = client.list_machines();
            machines_listed = true;
            why = unschedulable_reason(*known, machines, fresh);
          }
          if (why) {
            report = final_report(name, Outcome::unschedulable, "unschedulable",
                                  name + " cannot be scheduled: " + *why);
          }
        }
        if (!report.final && now >= deadline) {
          std::string where = report.machine.empty() ? "" : " on " + report.machine;
          report = final_report(name, Outcome::timed_out, report.state,
                                fmt::format("not {} after {}: still {}{}",
                                            options.verb == Verb::start ? "active/running"
                                                                        : asked_state(options.verb),
                                            format_duration(options.timeout), report.state, where));
        }
        if (report.message.empty()) {
          report.message = steps[i].note;
        }
        run.update(i, report);
        pending = pending || !report.final;
      }
      if (!pending) {
        break;
      }
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::cancelled) {
        throw;
      }
      if (!e.retryable()) {
        for (std::size_t i : waiting) {
          UnitReport report = final_report(requests[i].name, Outcome::error, "unknown", e.what());
          report.error = e.kind();
          run.update(i, report);
        }
        break;
      }
      outage.failed(e.what());
      last_error = e.what();
      if (Clock::now() >= deadline) {
        for (std::size_t i : waiting) {
          run.update(i, final_report(requests[i].name, Outcome::timed_out, "unknown",
                                     "fleet did not answer before --timeout: " + last_error));
        }
        break;
      }
      pause = backoff.next();
    }
    if (options.stop == nullptr) {
      std::this_thread::sleep_for(pause);
    } else if (options.stop->wait_for(pause)) {
      throw Error(ErrorKind::cancelled, "interrupted");
    }
  }
  return run.take();
}

} // namespace herald::fleet
