#pragma once

#include "herald/fleet/client.hpp"
#include "herald/fleet/model.hpp"

#include <string>
#include <vector>

namespace herald::fleet {

/// One row of `herald unit ls` (fleetctl list-units): a unit on a machine as systemd reports it,
/// or a unit fleet was asked to load or start that no machine reports yet (machine and systemd
/// states empty: fleetctl leaves these out, which hides units that cannot be scheduled).
struct UnitStateRow {
  std::string unit;
  std::string machine_id; ///< "" when no machine has it
  std::string machine_ip;
  std::string hash;        ///< of the unit file the machine runs ("" when none)
  std::string load;        ///< systemd's load state ("" when no machine has it)
  std::string active;      ///< systemd's active state
  std::string sub;         ///< systemd's sub state
  std::string desired;     ///< fleet's desiredState ("" for a state of a unit fleet no longer has)
  std::string current;     ///< fleet's currentState ("" when fleet does not say)
  std::string description; ///< [Unit] Description=
};

/// The rows of `unit ls`, sorted by unit then machine: /state, /machines and /units read once.
std::vector<UnitStateRow> list_unit_states(Client& client);

/// One row of `herald unit ls --files` (fleetctl list-unit-files): a submitted unit.
struct UnitFileRow {
  std::string unit;
  std::string hash;    ///< unit_hash() of its options
  std::string desired; ///< desiredState
  std::string current; ///< currentState ("" for a global unit)
  bool global = false;
  std::string machine_id; ///< the machine it is scheduled to
  std::string machine_ip;
  std::string description;
};

/// The rows of `unit ls --files`, sorted by unit: /units and /machines read once.
std::vector<UnitFileRow> list_unit_files(Client& client);

/// The [Unit] Description of `options`, "" when it has none.
std::string description_of(const std::vector<UnitOption>& options);

} // namespace herald::fleet
