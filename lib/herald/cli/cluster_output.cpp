#include "herald/cli/cluster_output.hpp"

#include <array>
#include <fmt/format.h>
#include <string>

namespace herald::cli {

namespace {

void schema(JsonWriter& json) {
  json.key("schema");
  json.number(k_cluster_schema_version);
}

std::string image_cell(const cluster::Change& change) {
  if (change.image_before.empty() || change.image_before == change.image_after ||
      change.image_after.empty()) {
    return or_dash(change.image_after.empty() ? change.image_before : change.image_after);
  }
  return change.image_before + " -> " + change.image_after;
}

constexpr std::array<cluster::Action, 4> k_actions = {
    cluster::Action::create, cluster::Action::start, cluster::Action::replace,
    cluster::Action::remove};

/// A diff fit for a terminal: each line terminal_safe (fleet's unit files are the cluster's
/// state, not herald's words).
std::string safe_lines(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    out += terminal_safe(line);
    out += '\n';
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
  return out;
}

std::string unit_state(const cluster::UnitStatus& unit) {
  if (!unit.in_file) {
    return "not in file";
  }
  return unit.settled() ? "settled" : "changes pending";
}

std::string app_state(const cluster::AppStatus& app) {
  if (!app.in_file) {
    return "not in file";
  }
  return app.settled() ? "settled" : "changes pending";
}

} // namespace

const std::vector<Column>& plan_columns() {
  static const std::vector<Column> columns = {{"action", "ACTION"},
                                              {"instance", "INSTANCE"},
                                              {"reason", "REASON"},
                                              {"image", "IMAGE", /*wide=*/true}};
  return columns;
}

void print_plan(Printer& printer, const cluster::Plan& plan) {
  printer.print(
      [&](Table& table) {
        for (const auto& app : plan.apps) {
          for (const auto& change : app.changes) {
            table.add_row({std::string(to_string(change.action)), change.name.str(), change.reason,
                           image_cell(change)});
          }
        }
        for (const auto& change : plan.units) {
          table.add_row({std::string(to_string(change.action)), change.name, change.reason, "-"});
        }
      },
      [&](JsonWriter& json) {
        json.begin_object();
        schema(json);
        json.key("pending");
        json.boolean(!plan.empty());
        json.key("summary");
        json.begin_object();
        for (auto action : k_actions) {
          json.key(to_string(action));
          json.number(plan.count(action));
        }
        json.key("units");
        json.begin_object();
        for (auto action : k_actions) {
          json.key(to_string(action));
          json.number(plan.count_units(action));
        }
        json.end_object();
        json.end_object();
        json.key("changes");
        json.begin_array();
        for (const auto& app : plan.apps) {
          for (const auto& change : app.changes) {
            json.begin_object();
            json.key("action");
            json.string(to_string(change.action));
            json.key("app");
            json.string(change.name.app);
            json.key("instance");
            json.string(change.name.str());
            json.key("reason");
            json.string(change.reason);
            json.key("fields");
            json.begin_array();
            for (const auto& field : change.fields) {
              json.string(field);
            }
            json.end_array();
            json.string_or_null("image_before", change.image_before);
            json.string_or_null("image_after", change.image_after);
            json.end_object();
          }
        }
        json.end_array();
        json.key("unit_changes");
        json.begin_array();
        for (const auto& change : plan.units) {
          json.begin_object();
          json.key("action");
          json.string(to_string(change.action));
          json.key("unit");
          json.string(change.name);
          json.key("role");
          json.string(to_string(change.role));
          json.key("owner");
          json.string(change.owner);
          json.key("global");
          json.boolean(change.global);
          json.key("reason");
          json.string(change.reason);
          json.string_or_null("diff", change.diff);
          json.end_object();
        }
        json.end_array();
        json.end_object();
      });
  auto format = printer.options().format;
  if (format != OutputFormat::table && format != OutputFormat::wide) {
    return;
  }
  for (const auto& change : plan.units) {
    if (!change.diff.empty()) {
      printer.print_text("\n" + safe_lines(change.diff));
    }
  }
}

const std::vector<Column>& app_status_columns() {
  static const std::vector<Column> columns = {{"app", "APP"},
                                              {"desired", "DESIRED"},
                                              {"running", "RUNNING"},
                                              {"current", "CURRENT"},
                                              {"registered", "REGISTERED"},
                                              {"healthy", "HEALTHY"},
                                              {"state", "STATE", /*wide=*/true}};
  return columns;
}

const std::vector<Column>& instance_status_columns() {
  static const std::vector<Column> columns = {
      {"instance", "INSTANCE"}, {"state", "STATE"},         {"machine", "MACHINE"},
      {"address", "ADDRESS"},   {"routed", "ROUTED"},       {"current", "CURRENT"},
      {"image", "IMAGE", true}, {"detail", "DETAIL", true}, {"id", "ID", true}};
  return columns;
}

void print_status(Printer& printer, const std::vector<cluster::AppStatus>& apps, bool instances,
                  const std::vector<cluster::UnitStatus>& units) {
  auto unit_rows = [&](Table& table) {
    for (const auto& row : units) {
      const auto& u = row.unit;
      std::string current = row.current ? "yes" : "no";
      if (!instances) {
        table.add_row({u.name, row.in_file ? (u.global ? "global" : "1") : "-",
                       std::to_string(row.running), row.current ? "1" : "0", "-", "-",
                       unit_state(row)});
        continue;
      }
      if (u.placements.empty()) {
        table.add_row({u.name, std::string(scheduler::to_string(u.state)), "-", "-", "-", current,
                       "-", or_dash(u.detail), u.name});
      }
      for (const auto& place : u.placements) {
        table.add_row({u.name, std::string(scheduler::to_string(place.state)),
                       or_dash(place.machine.substr(0, 8)), "-", "-", current, "-",
                       or_dash(place.detail), u.name});
      }
    }
  };
  printer.print(
      [&](Table& table) {
        for (const auto& app : apps) {
          if (!instances) {
            table.add_row({app.app, app.in_file ? std::to_string(app.desired) : "-",
                           std::to_string(app.running), std::to_string(app.current),
                           std::to_string(app.registered), std::to_string(app.healthy),
                           app_state(app)});
            continue;
          }
          for (const auto& row : app.instances) {
            const auto& i = row.instance;
            std::string routed = row.healthy ? "yes" : row.registered ? "unhealthy" : "no";
            table.add_row({i.name().str(), std::string(scheduler::to_string(i.state)),
                           or_dash(i.machine), row.address ? row.address->str() : "-", routed,
                           row.current ? "yes" : "no", or_dash(i.image), or_dash(i.detail),
                           or_dash(i.id.substr(0, 12))});
          }
        }
        unit_rows(table);
      },
      [&](JsonWriter& json) {
        json.begin_object();
        schema(json);
        json.key("apps");
        json.begin_array();
        for (const auto& app : apps) {
          json.begin_object();
          json.key("app");
          json.string(app.app);
          json.key("in_file");
          json.boolean(app.in_file);
          json.key("settled");
          json.boolean(app.settled());
          for (auto [key, value] :
               {std::pair{"desired", app.desired}, std::pair{"running", app.running},
                std::pair{"current", app.current}, std::pair{"registered", app.registered},
                std::pair{"healthy", app.healthy}}) {
            json.key(key);
            json.number(value);
          }
          json.key("instances");
          json.begin_array();
          for (const auto& row : app.instances) {
            const auto& i = row.instance;
            json.begin_object();
            json.key("instance");
            json.string(i.name().str());
            json.key("state");
            json.string(scheduler::to_string(i.state));
            json.string_or_null("detail", i.detail);
            json.string_or_null("machine", i.machine);
            json.string_or_null("address", row.address ? row.address->str() : "");
            json.key("registered");
            json.boolean(row.registered);
            json.key("healthy");
            json.boolean(row.healthy);
            json.key("current");
            json.boolean(row.current);
            json.string_or_null("image", i.image);
            json.string_or_null("id", i.id);
            json.end_object();
          }
          json.end_array();
          json.end_object();
        }
        json.end_array();
        json.key("units");
        json.begin_array();
        for (const auto& row : units) {
          const auto& u = row.unit;
          json.begin_object();
          json.key("unit");
          json.string(u.name);
          json.key("role");
          json.string(to_string(row.role));
          json.key("owner");
          json.string(u.owner);
          json.key("global");
          json.boolean(u.global);
          json.key("in_file");
          json.boolean(row.in_file);
          json.key("exists");
          json.boolean(row.exists);
          json.key("current");
          json.boolean(row.current);
          json.key("settled");
          json.boolean(row.settled());
          json.key("state");
          json.string(row.exists ? scheduler::to_string(u.state) : "absent");
          json.string_or_null("detail", u.detail);
          json.key("machines");
          json.begin_array();
          for (const auto& place : u.placements) {
            json.begin_object();
            json.key("machine");
            json.string(place.machine);
            json.key("state");
            json.string(scheduler::to_string(place.state));
            json.string_or_null("detail", place.detail);
            json.end_object();
          }
          json.end_array();
          json.end_object();
        }
        json.end_array();
        json.end_object();
      });
}

} // namespace herald::cli
