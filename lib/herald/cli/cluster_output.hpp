#pragma once

// What `cluster plan` and `cluster status` print, as rows and JSON documents.

#include "herald/cli/printer.hpp"
#include "herald/cluster/plan.hpp"
#include "herald/cluster/status.hpp"
#include "herald/cluster/units.hpp"

#include <vector>

namespace herald::cli {

/// The version of the JSON documents of the cluster commands.
inline constexpr int k_cluster_schema_version = 1;

/// `cluster plan`: action, instance, reason; wide: image (before -> after).
const std::vector<Column>& plan_columns();
/// The plan as a table (one row a change: instances, then units), followed with table and wide
/// output by the unified diff of each unit change; or as {"schema", "pending", "summary":
/// {"create": N, "start": N, "replace": N, "remove": N, "units": {same keys}}, "changes":
/// [{"action", "app", "instance", "reason", "fields": [...], "image_before", "image_after"}],
/// "unit_changes": [{"action", "unit", "role", "owner", "global", "reason", "diff"}]}.
void print_plan(Printer& printer, const cluster::Plan& plan);

/// `cluster status`: app, desired, running, current, registered, healthy; wide: state.
const std::vector<Column>& app_status_columns();
/// `cluster status --instances`: instance, state, machine, address, routed, current; wide:
/// image, detail, id.
const std::vector<Column>& instance_status_columns();
/// The status, one row an app (or with `instances` one an instance), then one row a unit (with
/// `instances` one a unit and machine: DESIRED says "global" or 1, RUNNING the machines it runs
/// on, CURRENT 1 when its content is the file's, REGISTERED and HEALTHY "-"), or as {"schema",
/// "apps": [{"app", "in_file", "settled", "desired", "running", "current", "registered",
/// "healthy", "instances": [{"instance", "state", "detail", "machine", "address", "registered",
/// "healthy", "current", "image", "id"}]}], "units": [{"unit", "role", "owner", "global",
/// "in_file", "exists", "current", "settled", "state", "detail", "machines": [{"machine",
/// "state", "detail"}]}]}.
void print_status(Printer& printer, const std::vector<cluster::AppStatus>& apps, bool instances,
                  const std::vector<cluster::UnitStatus>& units = {});

} // namespace herald::cli
