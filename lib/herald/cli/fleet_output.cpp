#include "herald/cli/fleet_output.hpp"

#include "herald/core/error.hpp"
#include "herald/core/exit_code.hpp"

#include <fmt/format.h>

namespace herald::cli {

namespace {

std::string hash_cell(const std::string& hash, bool full) {
  return hash.empty() ? "-" : full ? hash : hash.substr(0, 7);
}

void schema(JsonWriter& json) {
  json.key("schema");
  json.number(k_unit_schema_version);
}

} // namespace

std::string machine_cell(const std::string& id, const std::string& ip, bool full) {
  if (id.empty()) {
    return "-";
  }
  std::string shown = full ? id : id.substr(0, 8) + "...";
  return ip.empty() ? shown : shown + "/" + ip;
}

const std::vector<Column>& unit_state_columns() {
  static const std::vector<Column> columns = {{"unit", "UNIT"},           {"machine", "MACHINE"},
                                              {"active", "ACTIVE"},       {"sub", "SUB"},
                                              {"load", "LOAD", true},     {"hash", "HASH", true},
                                              {"dstate", "DSTATE", true}, {"state", "STATE", true},
                                              {"desc", "DESC", true}};
  return columns;
}

void print_unit_states(Printer& printer, const std::vector<fleet::UnitStateRow>& rows, bool full) {
  printer.print(
      [&](Table& table) {
        for (const auto& row : rows) {
          table.add_row({row.unit, machine_cell(row.machine_id, row.machine_ip, full),
                         or_dash(row.active), or_dash(row.sub), or_dash(row.load),
                         hash_cell(row.hash, full), or_dash(row.desired), or_dash(row.current),
                         or_dash(row.description)});
        }
      },
      [&](JsonWriter& json) {
        json.begin_object();
        schema(json);
        json.key("states");
        json.begin_array();
        for (const auto& row : rows) {
          json.begin_object();
          json.string_or_null("unit", row.unit);
          json.string_or_null("machine", row.machine_id);
          json.string_or_null("ip", row.machine_ip);
          json.string_or_null("load", row.load);
          json.string_or_null("active", row.active);
          json.string_or_null("sub", row.sub);
          json.string_or_null("hash", row.hash);
          json.string_or_null("dstate", row.desired);
          json.string_or_null("state", row.current);
          json.string_or_null("desc", row.description);
          json.end_object();
        }
        json.end_array();
        json.end_object();
      });
}

const std::vector<Column>& unit_file_columns() {
  static const std::vector<Column> columns = {
      {"unit", "UNIT"},     {"hash", "HASH"},       {"dstate", "DSTATE"},      {"state", "STATE"},
      {"target", "TARGET"}, {"desc", "DESC", true}, {"global", "GLOBAL", true}};
  return columns;
}

void print_unit_files(Printer& printer, const std::vector<fleet::UnitFileRow>& rows, bool full) {
  printer.print(
      [&](Table& table) {
        for (const auto& row : rows) {
          table.add_row({row.unit, hash_cell(row.hash, full), or_dash(row.desired),
                         or_dash(row.current),
                         row.global ? "global" : machine_cell(row.machine_id, row.machine_ip, full),
                         or_dash(row.description), row.global ? "true" : "false"});
        }
      },
      [&](JsonWriter& json) {
        json.begin_object();
        schema(json);
        json.key("units");
        json.begin_array();
        for (const auto& row : rows) {
          json.begin_object();
          json.string_or_null("unit", row.unit);
          json.string_or_null("hash", row.hash);
          json.string_or_null("dstate", row.desired);
          json.string_or_null("state", row.current);
          json.string_or_null("target", row.machine_id);
          json.string_or_null("ip", row.machine_ip);
          json.key("global");
          json.boolean(row.global);
          json.string_or_null("desc", row.description);
          json.end_object();
        }
        json.end_array();
        json.end_object();
      });
}

const std::vector<Column>& machine_columns() {
  static const std::vector<Column> columns = {
      {"machine", "MACHINE"}, {"ip", "IP"}, {"metadata", "METADATA"}};
  return columns;
}

void print_machines(Printer& printer, const std::vector<fleet::Machine>& machines, bool full) {
  printer.print(
      [&](Table& table) {
        for (const auto& machine : machines) {
          std::string metadata;
          for (const auto& [key, value] : machine.metadata) {
            metadata += fmt::format("{}{}={}", metadata.empty() ? "" : ",", key, value);
          }
          table.add_row({full ? machine.id : machine.short_id() + "...",
                         or_dash(machine.primary_ip), or_dash(metadata)});
        }
      },
      [&](JsonWriter& json) {
        json.begin_object();
        schema(json);
        json.key("machines");
        json.begin_array();
        for (const auto& machine : machines) {
          json.begin_object();
          json.string_or_null("machine", machine.id);
          json.string_or_null("ip", machine.primary_ip);
          json.key("metadata");
          json.begin_object();
          for (const auto& [key, value] : machine.metadata) {
            json.key(key);
            json.string(value);
          }
          json.end_object();
          json.end_object();
        }
        json.end_array();
        json.end_object();
      });
}

const std::vector<Column>& unit_report_columns() {
  static const std::vector<Column> columns = {{"unit", "UNIT"},
                                              {"state", "STATE"},
                                              {"machine", "MACHINE"},
                                              {"result", "RESULT", true},
                                              {"message", "MESSAGE", true}};
  return columns;
}

void print_unit_reports(Printer& printer, fleet::Verb verb,
                        const std::vector<fleet::UnitReport>& reports) {
  printer.print(
      [&](Table& table) {
        for (const auto& report : reports) {
          table.add_row({report.unit, or_dash(report.state), or_dash(report.machine),
                         std::string(fleet::to_string(report.outcome)), or_dash(report.message)});
        }
      },
      [&](JsonWriter& json) {
        json.begin_object();
        schema(json);
        json.key("action");
        json.string(fleet::to_string(verb));
        json.key("units");
        json.begin_array();
        for (const auto& report : reports) {
          json.begin_object();
          json.string_or_null("unit", report.unit);
          json.key("result");
          json.string(fleet::to_string(report.outcome));
          json.string_or_null("state", report.state);
          json.string_or_null("machine", report.machine);
          json.string_or_null("message", report.message);
          json.end_object();
        }
        json.end_array();
        json.end_object();
      });
}

UnitProgressLines::UnitProgressLines(ProgressLines& lines,
                                     const std::vector<fleet::UnitRequest>& requests)
    : m_lines(lines) {
  std::vector<std::string> keys;
  for (const auto& request : requests) {
    keys.push_back(request.name);
  }
  m_lines.declare(keys);
}

void UnitProgressLines::update(const fleet::UnitReport& report) {
  std::string text = report.state;
  if (!report.machine.empty()) {
    text += " on " + report.machine;
  }
  if (report.final && report.outcome != fleet::Outcome::ok) {
    text += fmt::format(" [{}]", fleet::to_string(report.outcome));
  }
  if (!report.message.empty() && (report.final || report.outcome != fleet::Outcome::ok)) {
    text += ": " + report.message;
  }
  m_lines.set(report.unit, text);
}

int lifecycle_exit_code(const std::vector<fleet::UnitReport>& reports) {
  bool failed = false;
  bool unreachable = false;
  bool late = false;
  for (const auto& report : reports) {
    switch (report.outcome) {
    case fleet::Outcome::ok:
      break;
    case fleet::Outcome::timed_out:
      late = true;
      break;
    case fleet::Outcome::error:
      if (exit_code_for(report.error) == ExitCode::unavailable) {
        unreachable = true;
      } else {
        failed = true;
      }
      break;
    default:
      failed = true;
    }
  }
  if (failed) {
    return to_int(ExitCode::failure);
  }
  if (unreachable) {
    return to_int(ExitCode::unavailable);
  }
  return late ? to_int(ExitCode::temporary) : 0;
}

} // namespace herald::cli
