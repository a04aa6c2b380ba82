#include "herald/fleet/listing.hpp"

#include "herald/fleet/placement.hpp"
#include "herald/fleet/unit_name.hpp"

#include <algorithm>
#include <map>

namespace herald::fleet {

namespace {

std::map<std::string, std::string> ips_of(const std::vector<Machine>& machines) {
  std::map<std::string, std::string> out;
  for (const Machine& machine : machines) {
    out[machine.id] = machine.primary_ip;
  }
  return out;
}

} // namespace

std::string description_of(const std::vector<UnitOption>& options) {
  auto values = option_values(options, "Unit", "Description");
  return values.empty() ? std::string() : values.back();
}

std::vector<UnitStateRow> list_unit_states(Client& client) {
  std::vector<UnitState> states = client.list_states();
  std::vector<Unit> units = client.list_units();
  auto ips = ips_of(client.list_machines());
  std::map<std::string, const Unit*> by_name;
  for (const Unit& unit : units) {
    by_name[unit.name] = &unit;
  }
  std::vector<UnitStateRow> rows;
  std::map<std::string, bool> reported;
  for (const UnitState& state : states) {
    UnitStateRow row;
    row.unit = state.name;
    row.machine_id = state.machine_id;
    row.machine_ip = ips.count(state.machine_id) != 0 ? ips[state.machine_id] : "";
    row.hash = state.hash;
    row.load = state.load_state;
    row.active = state.active_state;
    row.sub = state.sub_state;
    if (auto it = by_name.find(state.name); it != by_name.end()) {
      row.desired = std::string(to_string(it->second->desired_state));
      if (it->second->current_state) {
        row.current = std::string(to_string(*it->second->current_state));
      }
      row.description = description_of(it->second->options);
    }
    reported[state.name] = true;
    rows.push_back(std::move(row));
  }
  for (const Unit& unit : units) {
    bool wanted = unit.desired_state != DesiredState::inactive;
    if (!wanted || reported.count(unit.name) != 0 || parse_unit_name(unit.name)->is_template()) {
      continue;
    }
    UnitStateRow row;
    row.unit = unit.name;
    row.machine_id = unit.machine_id;
    row.machine_ip = ips.count(unit.machine_id) != 0 ? ips[unit.machine_id] : "";
    row.desired = std::string(to_string(unit.desired_state));
    if (unit.current_state) {
      row.current = std::string(to_string(*unit.current_state));
    }
    row.description = description_of(unit.options);
    rows.push_back(std::move(row));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const UnitStateRow& a, const UnitStateRow& b) {
    return a.unit != b.unit ? a.unit < b.unit : a.machine_id < b.machine_id;
  });
  return rows;
}

std::vector<UnitFileRow> list_unit_files(Client& client) {
  std::vector<Unit> units = client.list_units();
  auto ips = ips_of(client.list_machines());
  std::vector<UnitFileRow> rows;
  rows.reserve(units.size());
  for (const Unit& unit : units) {
    UnitFileRow row;
    row.unit = unit.name;
    row.hash = unit_hash(unit.options);
    row.desired = std::string(to_string(unit.desired_state));
    row.global = requirements_of(unit.name, unit.options).global;
    if (unit.current_state && !row.global) {
      row.current = std::string(to_string(*unit.current_state));
    }
    row.machine_id = unit.machine_id;
    row.machine_ip = ips.count(unit.machine_id) != 0 ? ips[unit.machine_id] : "";
    row.description = description_of(unit.options);
    rows.push_back(std::move(row));
  }
  return rows;
}

} // namespace herald::fleet
