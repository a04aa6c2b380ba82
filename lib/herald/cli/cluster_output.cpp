#include "herald/cli/cluster_output.hpp"

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
      },
      [&](JsonWriter& json) {
        json.begin_object();
        schema(json);
        json.key("pending");
        json.boolean(!plan.empty());
        json.key("summary");
        json.begin_object();
        for (auto action : {cluster::Action::create, cluster::Action::start,
                            cluster::Action::replace, cluster::Action::remove}) {
          json.key(to_string(action));
          json.number(plan.count(action));
        }
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
        json.end_object();
      });
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

void print_status(Printer& printer, const std::vector<cluster::AppStatus>& apps, bool instances) {
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
        json.end_object();
      });
}

} // namespace herald::cli
