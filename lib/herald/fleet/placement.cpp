#include "herald/fleet/placement.hpp"

#include "herald/fleet/unit_name.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace herald::fleet {

namespace {

bool lower_equals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

/// One class "[...]" of a glob against `c`; `p` points after '['. Returns false when the class
/// is malformed (Go's path.Match then reports ErrBadPattern: no match).
bool class_matches(std::string_view pattern, std::size_t& p, char c, bool& ok) {
  bool negate = p < pattern.size() && pattern[p] == '^';
  if (negate) {
    ++p;
  }
  bool matched = false;
  bool first = true;
  while (p < pattern.size() && (first || pattern[p] != ']')) {
    first = false;
    char lo = pattern[p];
    if (lo == '\\' && p + 1 < pattern.size()) {
      lo = pattern[++p];
    }
    ++p;
    char hi = lo;
    if (p + 1 < pattern.size() && pattern[p] == '-' && pattern[p + 1] != ']') {
      hi = pattern[p + 1];
      if (hi == '\\' && p + 2 < pattern.size()) {
        hi = pattern[p + 2];
        ++p;
      }
      p += 2;
    }
    if (lo <= c && c <= hi) {
      matched = true;
    }
  }
  if (p >= pattern.size()) {
    ok = false;
    return false;
  }
  ++p; // ']'
  return matched != negate;
}

bool glob_from(std::string_view pattern, std::size_t p, std::string_view name, std::size_t n) {
  while (p < pattern.size()) {
    char c = pattern[p];
    if (c == '*') {
      ++p;
      for (std::size_t k = n;; ++k) {
        if (glob_from(pattern, p, name, k)) {
          return true;
        }
        if (k >= name.size() || name[k] == '/') {
          return false;
        }
      }
    }
    if (n >= name.size() || name[n] == '/') {
      return false;
    }
    if (c == '?') {
      ++p;
    } else if (c == '[') {
      ++p;
      bool ok = true;
      if (!class_matches(pattern, p, name[n], ok) || !ok) {
        return false;
      }
    } else {
      if (c == '\\' && p + 1 < pattern.size()) {
        c = pattern[++p];
      }
      if (c != name[n]) {
        return false;
      }
      ++p;
    }
    ++n;
  }
  return n == name.size();
}

bool matches_any(const std::vector<std::string>& globs, std::string_view name) {
  return std::any_of(globs.begin(), globs.end(),
                     [&](const std::string& glob) { return glob_match(glob, name); });
}

bool machine_matches_id(const Machine& machine, std::string_view wanted) {
  return machine.id == wanted || machine.short_id() == wanted;
}

/// "no role=web" when `machine` lacks the MachineMetadata of `req`.
std::optional<std::string> metadata_refusal(const Requirements& req, const Machine& machine) {
  for (const auto& [key, values] : req.metadata) {
    auto have = machine.metadata.find(key);
    if (have == machine.metadata.end() || values.count(have->second) == 0) {
      return fmt::format("no {}={}", key, *values.begin());
    }
  }
  return std::nullopt;
}

bool scheduled_here(const Unit& unit, const Machine& machine) {
  return unit.machine_id == machine.id && (unit.desired_state == DesiredState::loaded ||
                                           unit.desired_state == DesiredState::launched);
}

} // namespace

bool glob_match(std::string_view pattern, std::string_view name) {
  return glob_from(pattern, 0, name, 0);
}

Requirements requirements_of(std::string_view name, const std::vector<UnitOption>& options) {
  Requirements req;
  std::vector<std::string> target;
  std::vector<std::string> global;
  for (const UnitOption& option : options) {
    if (option.section != "X-Fleet") {
      continue;
    }
    std::string value = name.empty() ? option.value : expand_specifiers(option.value, name);
    const std::string& key = option.name;
    if (key == "Conflicts" || key == "X-Conflicts") {
      req.conflicts.push_back(value);
    } else if (key == "MachineOf" || key == "X-ConditionMachineOf") {
      req.peers.push_back(value);
    } else if (key == "MachineID" || key == "X-ConditionMachineID" ||
               key == "X-ConditionMachineBootID") {
      target.push_back(value);
    } else if (key == "MachineMetadata" || key == "X-ConditionMachineMetadata") {
      auto eq = value.find('=');
      // fleet reads one k=v per value and skips anything else ("a=b=c", "=v", "k=")
      if (eq != std::string::npos && eq > 0 && eq + 1 < value.size() &&
          value.find('=', eq + 1) == std::string::npos) {
        req.metadata[value.substr(0, eq)].insert(value.substr(eq + 1));
      }
    } else if (key == "Global") {
      global.push_back(value);
    }
  }
  if (!target.empty()) {
    req.machine_id = target.front();
  }
  req.global = !global.empty() && lower_equals(global.back(), "true");
  return req;
}

std::optional<std::string> options_problem(const std::vector<UnitOption>& options) {
  for (const UnitOption& option : options) {
    if (option.value.find('\n') != std::string::npos ||
        option.name.find('\n') != std::string::npos ||
        option.section.find('\n') != std::string::npos) {
      return std::string("unexpected newline encountered while parsing option name");
    }
  }
  Requirements req = requirements_of("", options);
  for (const std::string& peer : req.peers) {
    for (const std::string& conflict : req.conflicts) {
      if (glob_match(conflict, peer)) {
        return fmt::format(R"(unresolvable requirements: peer "{}" matches conflict "{}")", peer,
                           conflict);
      }
    }
  }
  bool target = !req.machine_id.empty();
  if (target && !req.peers.empty()) {
    return std::string("MachineID cannot be used with Peers");
  }
  if (target && !req.conflicts.empty()) {
    return std::string("MachineID cannot be used with Conflicts");
  }
  if (target && req.global) {
    return std::string("MachineID cannot be used with Global");
  }
  if (req.global && !req.peers.empty()) {
    return std::string("Global cannot be used with Peers");
  }
  if (req.global && !req.conflicts.empty()) {
    return std::string("Global cannot be used with Conflicts");
  }
  return std::nullopt;
}

std::optional<std::string> placement_refusal(const Unit& unit, const Machine& machine,
                                             const std::vector<Unit>& units) {
  Requirements req = requirements_of(unit.name, unit.options);
  if (!req.machine_id.empty() && !machine_matches_id(machine, req.machine_id)) {
    return fmt::format("MachineID={}", req.machine_id);
  }
  if (auto refusal = metadata_refusal(req, machine)) {
    return refusal;
  }
  for (const std::string& peer : req.peers) {
    bool there = std::any_of(units.begin(), units.end(), [&](const Unit& other) {
      return other.name == peer && scheduled_here(other, machine);
    });
    if (!there) {
      return fmt::format("{} (MachineOf) is not there", peer);
    }
  }
  for (const Unit& other : units) {
    if (other.name == unit.name || !scheduled_here(other, machine)) {
      continue;
    }
    if (matches_any(req.conflicts, other.name) ||
        matches_any(requirements_of(other.name, other.options).conflicts, unit.name)) {
      return fmt::format("conflicts with {}", other.name);
    }
  }
  return std::nullopt;
}

std::optional<std::string> unschedulable_reason(const Unit& unit,
                                                const std::vector<Machine>& machines,
                                                const std::vector<Unit>& units) {
  Requirements req = requirements_of(unit.name, unit.options);
  for (const std::string& peer : req.peers) {
    auto it = std::find_if(units.begin(), units.end(),
                           [&](const Unit& other) { return other.name == peer; });
    if (it == units.end()) {
      return fmt::format("its MachineOf unit {} does not exist", peer);
    }
    if (it->machine_id.empty()) {
      return std::nullopt; // it follows its peer, which is still waiting itself
    }
  }
  if (machines.empty()) {
    return std::string("the cluster has no machine");
  }
  std::string reasons;
  for (const Machine& machine : machines) {
    // A global unit is not placed by the engine: each agent runs it when its machine has the
    // metadata (fleet's desiredAgentState looks at nothing else; Global forbids MachineID,
    // MachineOf and Conflicts of its own).
    auto refusal =
        req.global ? metadata_refusal(req, machine) : placement_refusal(unit, machine, units);
    if (!refusal) {
      return std::nullopt;
    }
    reasons += fmt::format("{}{}: {}", reasons.empty() ? "" : "; ", machine.short_id(), *refusal);
  }
  return "no machine can take it (" + reasons + ")";
}

} // namespace herald::fleet
