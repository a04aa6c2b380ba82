#pragma once

#include "herald/cli/fleet_options.hpp"
#include "herald/cli/global_options.hpp"
#include "herald/cli/printer.hpp"
#include "herald/cluster/spec.hpp"
#include "herald/core/stop.hpp"
#include "herald/registry/opener.hpp"
#include "herald/scheduler/scheduler.hpp"

#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

namespace herald::commands {

/// A command as main() sees it: the CLI11 (sub)command and what runs it once parsing is done.
struct Command {
  CLI::App* app = nullptr;  ///< the leaf subcommand ("announce", "ls" under "route")
  std::function<int()> run; ///< runs the command; returns its exit code
};

/// `herald announce APP@INSTANCE`: register an instance and keep it registered (the sidekick).
Command add_announce(CLI::App& app, const cli::GlobalOptions& global);

/// `herald deregister APP@INSTANCE`: remove an instance's registration now.
Command add_deregister(CLI::App& app, const cli::GlobalOptions& global);

/// `herald completion bash|zsh|fish`: completion scripts generated from the CLI model.
Command add_completion(CLI::App& app, const cli::GlobalOptions& global);

/// `herald render`: confd templates rendered from the registry, checked, installed, reloaded.
Command add_render(CLI::App& app, const cli::GlobalOptions& global);

/// `herald route ls [APP...]`: the instances the router sees, as a table, JSON or YAML.
Command add_route_ls(CLI::App& app, const cli::GlobalOptions& global);

/// `herald unit`: the parent of the unit commands (it requires one). Each child is added onto the
/// returned parent by its own add_unit_<name>(CLI::App* unit, ...), in its own file.
CLI::App* add_unit(CLI::App& app);

/// `herald unit gen APP | router | launcher | registrator`: units rendered from the unit
/// templates, written into a directory or printed. Returns the router, launcher and registrator
/// commands before the APP form (the parent `gen` is parsed along with them). The registrator's
/// unit passes the global --registry on.
std::vector<Command> add_unit_gen(CLI::App* unit, const cli::GlobalOptions& global);

/// `herald unit submit|load|start|stop|unload|destroy|ls|machines|cat`: fleetctl's lifecycle and
/// listings on a fleet cluster (unit_fleet.cpp).
std::vector<Command> add_unit_fleet(CLI::App* unit);

/// `herald cluster plan|up|down|status`: the cluster file applied through a scheduler
/// (cluster.cpp).
std::vector<Command> add_cluster(CLI::App& app, const cli::GlobalOptions& global);

/// `herald launch APP[@N]` and `herald launch serve`: apps of the cluster file started on demand
/// (launch.cpp).
std::vector<Command> add_launch(CLI::App& app, const cli::GlobalOptions& global);

/// The scheduler a cluster file names (the local Docker engine without a file), cancelled by
/// `stop` (cluster.cpp).
scheduler::Options cluster_scheduler_options(const cluster::ClusterSpec* spec,
                                             const StopToken* stop);

/// The registry of a cluster command: --registry, else the file's, else HERALD_REGISTRY and the
/// defaults (cluster.cpp).
registry::Opener cluster_registry(const cli::GlobalOptions& global,
                                  const cluster::ClusterSpec* spec);

/// On the docker scheduler, Error(config) when no registrator serves the file's engine,
/// registry and prefix (nothing it started would be registered); a warning when that cannot be
/// told (cluster.cpp).
void require_registrator(const cluster::ClusterSpec& spec, scheduler::Scheduler& sched,
                         registry::Registry& registry);

/// This machine's host name, the default node of a registrator and a launcher; Error(config)
/// when it cannot be read (announce.cpp).
std::string default_node_name();

/// The fleet connection flags (--endpoint, --tunnel, ...), one group on each command that talks
/// to fleet (fleet_options.cpp).
void add_fleet_options(CLI::App& cmd, cli::FleetFlags& flags);

/// Every command of herald, wired onto `app`. Options structs are owned by the closures.
std::vector<Command> add_all(CLI::App& app, const cli::GlobalOptions& global);

/// Global flags (--registry, TLS, credentials, logging), bound once on the top-level app and
/// visible from every subcommand.
void add_global_options(CLI::App& app, cli::GlobalOptions& global);

/// The flags of a command that lists, bound to `opts`: -o/--output, --no-legend and, when
/// `offer_fields`, --fields, whose help names `columns`. Written once; every listing command calls
/// it and then make_printer().
void add_list_options(CLI::App& cmd, cli::ListOptions& opts,
                      const std::vector<cli::Column>& columns, bool offer_fields = true);

/// The fields of `columns`, comma-separated, for help texts.
std::string column_names(const std::vector<cli::Column>& columns);

/// The printer on stdout for `opts` and `columns`, knowing whether stdout is a terminal. Throws
/// Error(usage) for a bad -o or --fields: call it before opening anything.
cli::Printer make_printer(const cli::ListOptions& opts, std::vector<cli::Column> columns);

/// The printer on stdout for a command whose output is text it made itself (Printer::print_text).
cli::Printer make_text_printer();

/// Tunes malloc for a command that reads a whole registry (render, route ls): large buffers come
/// from the heap and freed memory stays there for the next one, instead of each growth of a
/// multi-megabyte buffer mapping fresh pages from the kernel. Not for the sidekick, whose
/// resident memory must stay small.
void prepare_for_bulk_data();

// One add_<name>() per command; each lives in commands/<name>.cpp, binds its flags to an options
// struct it owns, and returns the Command whose run() calls into lib/. add_all() lists them.

} // namespace herald::commands
