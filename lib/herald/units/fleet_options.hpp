#pragma once

// A unit file as fleet's API carries it: the "options" list of {"section","name","value"}
// (fleet::UnitOption; fleet/model.hpp decodes, serializes and hashes them).

#include "herald/fleet/model.hpp"
#include "herald/units/unit_file.hpp"

#include <vector>

namespace herald::units {

/// The options of `file` in file order. Values are what systemd reads, so continuation lines
/// arrive joined (fleet refuses a value with a newline). Error(data) naming the option when a
/// value still cannot travel: one with a newline, which no unit file can hold.
std::vector<fleet::UnitOption> to_fleet_options(const UnitFile& file);

/// The unit file fleet stores for `options`: sections in the order each first appears, options
/// in order within a section (go-systemd's Serialize, which fleetd applies to what it is sent).
/// Error(data) naming the option when one cannot be written (see UnitFile::emit()).
UnitFile from_fleet_options(const std::vector<fleet::UnitOption>& options);

} // namespace herald::units
