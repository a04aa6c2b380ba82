#include "herald/scheduler/memory/memory_scheduler.hpp"

#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/fleet/placement.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <set>

namespace herald::scheduler::memory {

namespace {

std::string unit_of(const std::string& app, const std::string& instance) {
  return app + "@" + instance + ".service";
}

/// MachineMetadata= entries as fleet reads them: for each key, the values one of which a machine
/// needs.
std::map<std::string, std::set<std::string>> metadata_wanted(const Placement& placement) {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& entry : placement.metadata) {
    auto equals = entry.find('=');
    out[entry.substr(0, equals)].insert(entry.substr(equals + 1));
  }
  return out;
}

} // namespace

MemoryScheduler::MemoryScheduler()
    : MemoryScheduler({Machine{"memory", "memory", "127.0.0.1", {}}}) {}

MemoryScheduler::MemoryScheduler(std::vector<Machine> machines) : m_machines(std::move(machines)) {}

void MemoryScheduler::check_available() const {
  if (m_unavailable) {
    throw Error(*m_unavailable, "the memory scheduler is unavailable (set by the test)");
  }
}

MemoryScheduler::Entry& MemoryScheduler::entry_of(const InstanceName& name) {
  auto it = m_entries.find({name.app, name.instance});
  if (it == m_entries.end()) {
    throw Error(ErrorKind::not_found,
                fmt::format("no instance {} on the memory scheduler", escape_control(name.str())));
  }
  return it->second;
}

const MemoryScheduler::Entry& MemoryScheduler::entry_of(const InstanceName& name) const {
  return const_cast<MemoryScheduler*>(this)->entry_of(name);
}

std::string MemoryScheduler::place(const Key& key, const Entry& entry, std::string& why) const {
  const Placement& placement = entry.spec.placement;
  auto wanted_metadata = metadata_wanted(placement);
  std::string best;
  std::size_t best_load = 0;
  std::vector<std::string> reasons;
  for (const auto& machine : m_machines) {
    std::string refusal;
    std::size_t load = 0;
    for (const auto& [other_key, other] : m_entries) {
      if (other_key == key || other.machine != machine.id) {
        continue;
      }
      ++load;
      std::string other_unit = unit_of(other_key.first, other_key.second);
      bool conflict = placement.spread && other_key.first == key.first;
      for (const auto& glob : placement.conflicts) {
        conflict = conflict || fleet::glob_match(glob, other_unit);
      }
      if (conflict && refusal.empty()) {
        refusal = "conflicts with " + other_unit;
      }
    }
    for (const auto& [name, values] : wanted_metadata) {
      auto it = machine.metadata.find(name);
      if ((it == machine.metadata.end() || !values.contains(it->second)) && refusal.empty()) {
        refusal = fmt::format("no {}={}", name, *values.begin());
      }
    }
    if (!placement.machine_of.empty() && refusal.empty()) {
      bool found = false;
      for (const auto& [other_key, other] : m_entries) {
        if (unit_of(other_key.first, other_key.second) == placement.machine_of &&
            other.machine == machine.id) {
          found = true;
        }
      }
      if (!found) {
        refusal = placement.machine_of + " (MachineOf) is not there";
      }
    }
    if (!refusal.empty()) {
      reasons.push_back(machine.name + ": " + refusal);
      continue;
    }
    if (best.empty() || load < best_load) {
      best = machine.id;
      best_load = load;
    }
  }
  if (best.empty()) {
    why =
        reasons.empty() ? std::string("no machines") : fmt::format("{}", fmt::join(reasons, "; "));
  }
  return best;
}

void MemoryScheduler::launch(const Key& key, Entry& entry) {
  std::string why;
  entry.machine = place(key, entry, why);
  if (entry.machine.empty()) {
    entry.state = State::pending;
    entry.detail = "no machine: " + why;
    return;
  }
  entry.state = m_behaviour ? m_behaviour(entry.spec) : State::running;
  entry.detail = std::string(to_string(entry.state));
  entry.port = entry.spec.host_port.value_or(m_next_port++);
}

void MemoryScheduler::place_pending() {
  for (auto& [key, entry] : m_entries) {
    if (entry.state == State::pending) {
      launch(key, entry);
    }
  }
}

Instance MemoryScheduler::view(const Key& key, const Entry& entry) const {
  Instance out;
  out.app = key.first;
  out.instance = key.second;
  out.state = entry.state;
  out.detail = entry.detail;
  out.machine = entry.machine;
  for (const auto& machine : m_machines) {
    if (machine.id == entry.machine) {
      out.machine_ip = machine.ip;
    }
  }
  if (!entry.machine.empty() && entry.state == State::running) {
    std::string host = entry.spec.host_ip.empty() ? out.machine_ip : entry.spec.host_ip;
    out.address = HostPort{host.empty() ? std::string("127.0.0.1") : host, entry.port};
  }
  out.spec_hash = entry.spec.spec_hash;
  out.image = entry.spec.image;
  out.id = "memory-" + key.first + "-" + key.second;
  return out;
}

std::vector<Instance> MemoryScheduler::list(std::string_view app) {
  std::lock_guard lock(m_mutex);
  check_available();
  std::vector<Instance> out;
  for (const auto& [key, entry] : m_entries) {
    if (app.empty() || key.first == app) {
      out.push_back(view(key, entry));
    }
  }
  std::sort(out.begin(), out.end(), instance_order);
  return out;
}

void MemoryScheduler::start(const InstanceSpec& spec) {
  validate(spec);
  std::lock_guard lock(m_mutex);
  check_available();
  Key key{spec.app, spec.instance};
  std::string label = fmt::format("start {} {}", spec.name().str(), spec.spec_hash);
  auto it = m_entries.find(key);
  if (it != m_entries.end() && it->second.spec.spec_hash == spec.spec_hash) {
    Entry& entry = it->second;
    State s = entry.state;
    if (s == State::running || s == State::starting || s == State::pending) {
      m_journal.push_back(label + " (unchanged)");
      return;
    }
    entry.spec = spec;
    launch(key, entry);
    m_journal.push_back(label);
    return;
  }
  if (it != m_entries.end()) {
    label += " (replaced " + it->second.spec.spec_hash + ")";
    m_entries.erase(it);
  }
  Entry entry;
  entry.spec = spec;
  launch(key, entry);
  m_entries.emplace(key, std::move(entry));
  m_journal.push_back(label);
}

bool MemoryScheduler::stop(const InstanceName& name, std::chrono::seconds /*grace*/) {
  std::lock_guard lock(m_mutex);
  check_available();
  Entry& entry = entry_of(name);
  m_journal.push_back("stop " + name.str());
  if (entry.state == State::stopped || entry.state == State::failed) {
    return false;
  }
  entry.state = State::stopped;
  entry.detail = "stopped";
  return true;
}

bool MemoryScheduler::withdraw(const InstanceName& name) {
  std::lock_guard lock(m_mutex);
  check_available();
  Entry& entry = entry_of(name);
  m_journal.push_back("withdraw " + name.str());
  return entry.state == State::running || entry.state == State::starting;
}

bool MemoryScheduler::remove(const InstanceName& name) {
  std::lock_guard lock(m_mutex);
  check_available();
  m_journal.push_back("remove " + name.str());
  bool removed = m_entries.erase({name.app, name.instance}) > 0;
  if (removed) {
    // A conflict or MachineOf it held may have been what kept another pending.
    place_pending();
  }
  return removed;
}

std::vector<std::string> MemoryScheduler::logs(const InstanceName& name, std::size_t lines) {
  std::lock_guard lock(m_mutex);
  check_available();
  const Entry& entry = entry_of(name);
  std::size_t first = entry.log.size() > lines ? entry.log.size() - lines : 0;
  std::vector<std::string> out;
  for (std::size_t i = first; i < entry.log.size(); ++i) {
    out.push_back(escape_control(entry.log[i]));
  }
  return out;
}

std::vector<Machine> MemoryScheduler::machines() {
  std::lock_guard lock(m_mutex);
  check_available();
  return m_machines;
}

void MemoryScheduler::set_start_behaviour(StartBehaviour behaviour) {
  std::lock_guard lock(m_mutex);
  m_behaviour = std::move(behaviour);
}

void MemoryScheduler::set_state(const InstanceName& name, State state, std::string detail) {
  std::lock_guard lock(m_mutex);
  Entry& entry = entry_of(name);
  entry.state = state;
  entry.detail = detail.empty() ? std::string(to_string(state)) : std::move(detail);
}

void MemoryScheduler::fail(const InstanceName& name, const std::vector<std::string>& log_lines) {
  std::lock_guard lock(m_mutex);
  Entry& entry = entry_of(name);
  entry.state = State::failed;
  entry.detail = "exited (1)";
  entry.log.insert(entry.log.end(), log_lines.begin(), log_lines.end());
}

void MemoryScheduler::append_log(const InstanceName& name,
                                 const std::vector<std::string>& log_lines) {
  std::lock_guard lock(m_mutex);
  Entry& entry = entry_of(name);
  entry.log.insert(entry.log.end(), log_lines.begin(), log_lines.end());
}

bool MemoryScheduler::lose_machine(const std::string& machine_id) {
  std::lock_guard lock(m_mutex);
  auto it = std::find_if(m_machines.begin(), m_machines.end(),
                         [&](const Machine& m) { return m.id == machine_id; });
  if (it == m_machines.end()) {
    return false;
  }
  m_machines.erase(it);
  // Free every instance of the machine first, so that they do not conflict with each other's
  // old places, then place again those that were meant to run.
  std::vector<Key> moved;
  for (auto& [key, entry] : m_entries) {
    if (entry.machine == machine_id) {
      entry.machine.clear();
      if (entry.state == State::stopped || entry.state == State::failed) {
        entry.detail = "no machine: its machine left";
      } else {
        entry.state = State::pending;
        moved.push_back(key);
      }
    }
  }
  for (const auto& key : moved) {
    launch(key, m_entries.at(key));
  }
  return true;
}

void MemoryScheduler::add_machine(Machine machine) {
  std::lock_guard lock(m_mutex);
  m_machines.push_back(std::move(machine));
  place_pending();
}

void MemoryScheduler::set_unavailable(std::optional<ErrorKind> kind) {
  std::lock_guard lock(m_mutex);
  m_unavailable = kind;
}

std::vector<std::string> MemoryScheduler::journal() const {
  std::lock_guard lock(m_mutex);
  return m_journal;
}

InstanceSpec MemoryScheduler::spec_of(const InstanceName& name) const {
  std::lock_guard lock(m_mutex);
  return entry_of(name).spec;
}

} // namespace herald::scheduler::memory
