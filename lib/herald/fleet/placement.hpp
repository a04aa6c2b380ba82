#pragma once

#include "herald/fleet/model.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace herald::fleet {

/// The [X-Fleet] requirements of a unit as fleet's engine reads them (job.Job), with %n %N %p %i
/// expanded for the unit's name and the deprecated X-/X-Condition spellings folded in.
struct Requirements {
  std::vector<std::string> conflicts; ///< Conflicts= globs
  std::vector<std::string> peers;     ///< MachineOf= unit names
  std::string machine_id;             ///< MachineID= (full or the 8-digit short id); "" = any
  /// MachineMetadata=k=v: a machine needs, for every key, one of the values.
  std::map<std::string, std::set<std::string>> metadata;
  bool global = false; ///< Global=true (the last value wins)
};

/// The requirements of unit `name` with `options`.
Requirements requirements_of(std::string_view name, const std::vector<UnitOption>& options);

/// Why fleetd would refuse these options on a new unit (api.ValidateOptions), in its words
/// ("Global cannot be used with Peers"; fleet calls MachineOf "Peers"); nullopt when valid.
std::optional<std::string> options_problem(const std::vector<UnitOption>& options);

/// Go's path.Match for the globs of Conflicts= ('*', '?', '[...]'; no '/' crossing).
bool glob_match(std::string_view pattern, std::string_view name);

/// Why unit `name` cannot run on `machine` today given what fleet has scheduled (`units`, with
/// their machineID), or nullopt when it can: "its MachineID is 2222...", "no role=router",
/// "conflicts with web@2.service", "web@1.service (MachineOf) is not there".
std::optional<std::string> placement_refusal(const Unit& unit, const Machine& machine,
                                             const std::vector<Unit>& units);

/// For a unit that has no machine (a global unit: that runs nowhere): the reason no machine of
/// `machines` can take it, one clause per machine ("11111111: conflicts with hello@1.service;
/// 22222222: ..."; for a global unit only its MachineMetadata counts: "11111111: no
/// role=router"), "the cluster has no machine", or nullopt when some machine could (fleet's
/// engine will place it on its next pass, an agent will start a global unit) or when a
/// MachineOf peer is itself still waiting for a machine.
std::optional<std::string> unschedulable_reason(const Unit& unit,
                                                const std::vector<Machine>& machines,
                                                const std::vector<Unit>& units);

} // namespace herald::fleet
