#pragma once

// The units of a cluster file beside its apps' instances: its extra units and its routers (each
// a router unit and the render unit that keeps its configuration current, as `herald unit gen
// router` writes them), the plan that makes what fleet runs match them, and their status.
//
// Herald knows its own units by the [Unit] line X-Herald-Cluster-Unit= it writes into each
// (scheduler::k_cluster_unit_key): "router NAME" or "unit". State lives in what runs: the plan
// compares the unit files fleet has with those the file makes, and a unit carrying the line that
// the file no longer makes is removed.

#include "herald/cluster/plan.hpp"
#include "herald/cluster/spec.hpp"
#include "herald/scheduler/scheduler.hpp"
#include "herald/units/generate.hpp"
#include "herald/units/unit_templates.hpp"

#include <string>
#include <vector>

namespace herald::cluster {

/// One unit the cluster file makes.
struct ClusterUnit {
  std::string name;  ///< "herald-router.service"
  std::string text;  ///< the unit file as submitted, X-Herald-Cluster-Unit line included
  std::string owner; ///< the X-Herald-Cluster-Unit value: "router herald-router", "unit"
  UnitRole role = UnitRole::extra;
  bool global = false;
};

/// The units of `cluster`, in the order `up` submits them: extra units (in file order), then
/// each router's units (render unit first, so the router starts on a rendered configuration).
/// A global router is NAME.service and NAME-render.service exactly as `herald unit gen router`
/// writes them (Global=true); a counted one with `instances: N` is NAME-1.service ...
/// NAME-N.service, each conflicting with the others (they would share the listen port), and
/// NAME-I-render.service beside each (MachineOf). An extra unit marked global gets
/// X-Fleet Global=true. Error(usage) naming the router for what the unit generator refuses.
std::vector<ClusterUnit> cluster_units(const ClusterSpec& cluster,
                                       const units::UnitTemplates& templates,
                                       const units::HostPaths& paths);

/// `text` as fleet stores and serves it: options only (comments and layout gone), sections
/// grouped in order of first appearance. What the plan compares and diffs.
std::string canonical_unit_text(const std::string& text, const std::string& name);

/// The unit changes that make `existing` (Scheduler::list_units()) match `wanted`
/// (cluster_units()): missing ones created, ones with other content replaced, stopped ones
/// started; with `prune`, units herald made that `wanted` does not have are removed. In the
/// order `up` applies them: creates, starts and replaces in `wanted` order, then removals
/// (routers before extra units).
std::vector<UnitChange> plan_units(const ClusterSpec& cluster,
                                   const std::vector<ClusterUnit>& wanted,
                                   const std::vector<scheduler::UnitInfo>& existing, bool prune);

/// One unit in `cluster status`.
struct UnitStatus {
  scheduler::UnitInfo unit; ///< as the scheduler reports it; name only when it does not exist
  UnitRole role = UnitRole::extra;
  bool in_file = false;
  bool exists = false;
  bool current = false; ///< its content is what the file makes
  int running = 0;      ///< machines where it runs

  /// In the file, current and running wherever it should.
  bool settled() const;
};

/// The status of the units of `wanted` (in order) and of the units herald made that it does not
/// have.
std::vector<UnitStatus> unit_status(const std::vector<ClusterUnit>& wanted,
                                    const std::vector<scheduler::UnitInfo>& existing);

} // namespace herald::cluster
