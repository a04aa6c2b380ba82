#pragma once

#include "herald/cli/printer.hpp"
#include "herald/cli/progress.hpp"
#include "herald/fleet/lifecycle.hpp"
#include "herald/fleet/listing.hpp"

#include <string>
#include <vector>

namespace herald::cli {

/// The version of the JSON documents of the unit commands; raised only on an incompatible change.
inline constexpr int k_unit_schema_version = 1;

/// `unit ls`: unit, machine, active, sub (shown by default, as by fleetctl list-units), and the
/// wide load, hash, dstate, state, desc.
const std::vector<Column>& unit_state_columns();
/// `unit ls` as a table or as {"schema", "states": [{"unit", "machine", "ip", "load", "active",
/// "sub", "hash", "dstate", "state", "desc"}]}. `full`: whole machine ids and hashes.
void print_unit_states(Printer& printer, const std::vector<fleet::UnitStateRow>& rows, bool full);

/// `unit ls --files`: unit, hash, dstate, state, target (fleetctl list-unit-files), and the
/// wide desc, global.
const std::vector<Column>& unit_file_columns();
/// {"schema", "units": [{"unit", "hash", "dstate", "state", "target", "ip", "global", "desc"}]}.
void print_unit_files(Printer& printer, const std::vector<fleet::UnitFileRow>& rows, bool full);

/// `unit machines`: machine, ip, metadata.
const std::vector<Column>& machine_columns();
/// {"schema", "machines": [{"machine", "ip", "metadata": {...}}]}.
void print_machines(Printer& printer, const std::vector<fleet::Machine>& machines, bool full);

/// The result of a lifecycle command: unit, state, machine, result, message (wide).
const std::vector<Column>& unit_report_columns();
/// {"schema", "action", "units": [{"unit", "result", "state", "machine", "message"}]}.
void print_unit_reports(Printer& printer, fleet::Verb verb,
                        const std::vector<fleet::UnitReport>& reports);

/// The exit code of a lifecycle command: 0 when every unit is ok; 1 when a unit failed, cannot
/// be scheduled or was refused; else 69 when fleet could not be reached for one; else 75 when
/// the only trouble is time (--timeout ran out).
int lifecycle_exit_code(const std::vector<fleet::UnitReport>& reports);

/// A machine as a table shows it: "11111111.../10.0.0.1", or the whole id with `full`; "-" for
/// none.
std::string machine_cell(const std::string& id, const std::string& ip, bool full);

/// Shows each unit's progress on ProgressLines (stderr): "activating/start-pre on 11111111...".
class UnitProgressLines : public fleet::ProgressSink {
public:
  UnitProgressLines(ProgressLines& lines, const std::vector<fleet::UnitRequest>& requests);
  void update(const fleet::UnitReport& report) override;

private:
  ProgressLines& m_lines;
};

} // namespace herald::cli
