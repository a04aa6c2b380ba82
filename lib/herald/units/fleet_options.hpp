#pragma once

// A unit file as fleet's API carries it: the "options" list of {"section","name","value"}.

#include "herald/units/unit_file.hpp"

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace herald::units {

/// One option as fleet's API carries it. The same shape as fleet::UnitOption, which replaces it
/// when the fleet client lands.
struct FleetOption {
  std::string section;
  std::string name;
  std::string value;

  friend bool operator==(const FleetOption&, const FleetOption&) = default;
};

/// The options of `file` in file order. Values are what systemd reads, so continuation lines
/// arrive joined (fleet refuses a value with a newline). Error(data) naming the option when a
/// value still cannot travel: one with a newline, which no unit file can hold.
std::vector<FleetOption> to_fleet_options(const UnitFile& file);

/// The unit file fleet stores for `options`: sections in the order each first appears, options
/// in order within a section (go-systemd's Serialize, which fleetd applies to what it is sent).
/// Error(data) naming the option when one cannot be written (see UnitFile::emit()).
UnitFile from_fleet_options(const std::vector<FleetOption>& options);

/// The options as fleet's JSON: [{"section":..,"name":..,"value":..}, ...].
nlohmann::json fleet_options_json(const std::vector<FleetOption>& options);

/// Reads fleet's JSON "options" array (keys in any order, as fleetd answers them). Error(data)
/// when it is not an array of objects with three strings.
std::vector<FleetOption> parse_fleet_options_json(const nlohmann::json& options);

/// The text fleet hashes and `fleetctl cat` prints for these options: for each section
/// "[Section]\n" then "Name=Value\n" per option, one blank line between sections.
std::string fleet_serialize(const std::vector<FleetOption>& options);

} // namespace herald::units
