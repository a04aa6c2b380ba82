// herald unit submit|load|start|stop|unload|destroy|ls|machines|cat: fleetctl's unit lifecycle,
// concurrent and idempotent, as children of `herald unit` (unit.cpp).
#include "commands/commands.hpp"
#include "herald/cli/fleet_options.hpp"
#include "herald/cli/fleet_output.hpp"
#include "herald/cli/progress.hpp"
#include "herald/cli/unit_args.hpp"
#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/fleet/connection.hpp"
#include "herald/fleet/lifecycle.hpp"
#include "herald/fleet/listing.hpp"

#include <cstdio>
#include <fmt/format.h>
#include <memory>
#include <spdlog/spdlog.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace herald::commands {

namespace {

/// Flags of a lifecycle command (submit, load, start, stop, unload, destroy), as typed.
struct LifecycleFlags {
  fleet::Verb verb = fleet::Verb::start;
  std::vector<std::string> units;
  cli::FleetFlags fleet;
  cli::ListOptions list;
  bool no_block = false;
  bool replace = false;
  std::string timeout = "5m";
  std::size_t parallel = 8;
};

/// Flags of `unit ls`, `unit machines` and `unit cat`.
struct ListFlags {
  cli::FleetFlags fleet;
  cli::ListOptions list;
  bool files = false;
  bool full = false;
  std::vector<std::string> units;
};

struct VerbInfo {
  fleet::Verb verb;
  const char* name;
  const char* summary;
  const char* footer;
};

const VerbInfo k_verbs[] = {
    {fleet::Verb::submit, "submit", "Send unit files to fleet (without loading them)",
     R"(Each FILE is sent as the unit named by its file name; a unit fleet already has with the
same contents is left alone, one with other contents needs --replace.

Examples:
  herald unit submit units/web@.service units/web-discovery@.service
      the templates, ready for `herald unit start web@1 web-discovery@1`
  herald unit submit --replace units/router.service
      replace a changed unit (fleet restarts it if it runs)

Exit codes: 0 every unit submitted (or already there), 1 a unit refused, 2 usage,
69 fleet or the tunnel unreachable, 78 bad configuration. See herald-unit(1).)"},
    {fleet::Verb::load, "load", "Schedule units onto machines without starting them",
     R"(A unit not yet in fleet is submitted first, from its FILE or, for an instance such as
web@1, from its template web@.service. A launched unit stays launched.

Examples:
  herald unit load web@1 web@2
  herald unit load --no-block units/router.service

Exit codes: 0 loaded, 1 a unit failed or cannot be scheduled, 2 usage, 69 fleet
unreachable, 75 --timeout ran out, 78 bad configuration. See herald-unit(1).)"},
    {fleet::Verb::start, "start", "Start units and wait until systemd runs them",
     R"(A unit not yet in fleet is submitted first, from its FILE or, for an instance such as
web@1, from its template web@.service (fleet does not instantiate templates). herald waits
until systemd reports each unit active/running on its machine; a unit that fails or that
no machine can take is reported by name instead of waited for. Up to --parallel units are
sent at once; starting a started unit is success.

Examples:
  herald unit start web@{1..3} web-discovery@{1..3}
      three instances and their sidekicks, from the submitted templates
  herald unit start units/router.service --no-block
      submit and launch a global router, without waiting
  herald unit start web@4 --tunnel core@10.0.0.1 --timeout 2m
      from a laptop, through ssh

Exit codes: 0 every unit active/running, 1 a unit failed or cannot be scheduled,
2 usage, 69 fleet or the tunnel unreachable, 75 --timeout ran out, 78 bad configuration,
130 interrupted. See herald-unit(1).)"},
    {fleet::Verb::stop, "stop", "Stop units (they stay loaded on their machine)",
     R"(As fleetctl stop: the desired state becomes loaded; herald waits until systemd reports each
unit inactive. A unit fleet does not have is reported absent, not an error.

Examples:
  herald unit stop web@2
  herald unit stop web@{1..3} --no-block

Exit codes: 0 stopped, 1 a unit refused, 2 usage, 69 fleet unreachable, 75 --timeout
ran out. See herald-unit(1).)"},
    {fleet::Verb::unload, "unload", "Stop units and take them off their machine",
     R"(As fleetctl unload: the desired state becomes inactive; herald waits until the unit has
left its machine.

Examples:
  herald unit unload web@2

Exit codes: 0 unloaded, 1 a unit refused, 2 usage, 69 fleet unreachable, 75 --timeout
ran out. See herald-unit(1).)"},
    {fleet::Verb::destroy, "destroy", "Remove units from fleet and wait until they are stopped",
     R"(Destroying a unit fleet does not have is success. herald waits until no machine reports
the unit any more (fleetctl destroy does not wait); --no-block returns at once.

Examples:
  herald unit destroy web@3 web-discovery@3
  herald unit destroy web@.service --no-block

Exit codes: 0 destroyed (or absent), 1 a unit refused, 2 usage, 69 fleet unreachable,
75 --timeout ran out. See herald-unit(1).)"},
};

/// Logs one line on stderr for each unit that is not ok (a warning for an ok unit's note) and
/// returns the run's exit code (cli::lifecycle_exit_code()).
int exit_code_of(const std::vector<fleet::UnitReport>& reports) {
  for (const auto& report : reports) {
    if (report.outcome == fleet::Outcome::ok) {
      if (!report.message.empty()) {
        spdlog::warn("{}: {}", report.unit, report.message);
      }
      continue;
    }
    spdlog::error("{}: {}", report.unit,
                  report.message.empty() ? std::string(fleet::to_string(report.outcome))
                                         : report.message);
  }
  return cli::lifecycle_exit_code(reports);
}

int run_lifecycle_command(const LifecycleFlags& flags) {
  cli::Printer printer = make_printer(flags.list, cli::unit_report_columns());
  fleet::LifecycleOptions options;
  options.verb = flags.verb;
  options.block = !flags.no_block;
  options.replace = flags.replace;
  options.timeout = parse_duration(flags.timeout, "--timeout");
  if (flags.parallel == 0) {
    throw Error(ErrorKind::usage, "--parallel must be at least 1");
  }
  options.concurrency = flags.parallel;
  std::vector<fleet::UnitRequest> requests = cli::unit_requests(
      flags.units, flags.verb == fleet::Verb::submit || flags.verb == fleet::Verb::load ||
                       flags.verb == fleet::Verb::start);
  fleet::ConnectionSettings settings = cli::resolve_fleet_settings(flags.fleet);

  StopToken stop;
  install_stop_signals(stop);
  options.stop = &stop;
  fleet::Connection connection(settings, &stop);
  std::size_t rows = 0;
  bool terminal = cli::is_terminal(STDERR_FILENO, &rows);
  std::vector<fleet::UnitReport> reports;
  {
    cli::ProgressLines lines(stderr, terminal, rows);
    cli::UnitProgressLines progress(lines, requests);
    reports = fleet::run_lifecycle(connection, requests, options, progress);
  }
  print_unit_reports(printer, flags.verb, reports);
  return exit_code_of(reports);
}

int run_unit_ls(const ListFlags& flags) {
  bool files = flags.files;
  cli::Printer printer =
      make_printer(flags.list, files ? cli::unit_file_columns() : cli::unit_state_columns());
  bool full = flags.full || printer.options().format == cli::OutputFormat::wide;
  StopToken stop;
  install_stop_signals(stop);
  fleet::Connection connection(cli::resolve_fleet_settings(flags.fleet), &stop);
  fleet::Client client = connection.client();
  if (files) {
    cli::print_unit_files(printer, fleet::list_unit_files(client), full);
  } else {
    cli::print_unit_states(printer, fleet::list_unit_states(client), full);
  }
  return 0;
}

int run_unit_machines(const ListFlags& flags) {
  cli::Printer printer = make_printer(flags.list, cli::machine_columns());
  bool full = flags.full || printer.options().format == cli::OutputFormat::wide;
  StopToken stop;
  install_stop_signals(stop);
  fleet::Connection connection(cli::resolve_fleet_settings(flags.fleet), &stop);
  fleet::Client client = connection.client();
  cli::print_machines(printer, client.list_machines(), full);
  return 0;
}

int run_unit_cat(const ListFlags& flags) {
  std::vector<fleet::UnitRequest> requests = cli::unit_requests(flags.units, false);
  StopToken stop;
  install_stop_signals(stop);
  fleet::Connection connection(cli::resolve_fleet_settings(flags.fleet), &stop);
  fleet::Client client = connection.client();
  std::string out;
  for (const auto& request : requests) {
    auto unit = client.get_unit(request.name);
    if (!unit) {
      throw Error(ErrorKind::not_found,
                  fmt::format("fleet at {} has no unit {}", connection.describe(), request.name));
    }
    if (requests.size() > 1) {
      out += fmt::format("{}# {}\n", out.empty() ? "" : "\n", request.name);
    }
    out += fleet::serialize_unit_file(unit->options);
  }
  make_text_printer().print_text(out);
  return 0;
}

Command add_lifecycle(CLI::App* unit, const VerbInfo& info) {
  auto flags = std::make_shared<LifecycleFlags>();
  flags->verb = info.verb;
  CLI::App* cmd = unit->add_subcommand(info.name, info.summary);
  cmd->footer(info.footer);
  bool from_files = info.verb == fleet::Verb::submit || info.verb == fleet::Verb::load ||
                    info.verb == fleet::Verb::start;
  cmd->add_option("unit", flags->units,
                  from_files ? "Units: names (web@1, web@1.service) or unit files"
                             : "Units: names (web@1, web@1.service)")
      ->required();
  if (info.verb != fleet::Verb::submit) {
    cmd->add_flag("--no-block", flags->no_block,
                  "Return once fleet has the desired state, without waiting for the machines");
    cmd->add_option("--timeout", flags->timeout, "Give up waiting after this long (default 5m)")
        ->default_str("5m");
  }
  if (from_files) {
    cmd->add_flag("--replace", flags->replace,
                  "Replace a submitted unit whose file changed (fleet restarts it)");
  }
  cmd->add_option("--parallel", flags->parallel, "Requests in flight at once (default 8)")
      ->default_str("8");
  add_list_options(*cmd, flags->list, cli::unit_report_columns());
  add_fleet_options(*cmd, flags->fleet);
  return Command{cmd, [flags] { return run_lifecycle_command(*flags); }};
}

constexpr const char* k_ls_footer =
    R"(Columns (--fields): unit, machine, active, sub; -o wide adds load, hash, dstate, state,
desc. Units fleet was asked to run that no machine reports yet (waiting for a machine, or
impossible to schedule) are listed with machine "-". --files lists the submitted unit files
instead (as fleetctl list-unit-files): unit, hash, dstate, state, target; wide: desc, global.

Examples:
  herald unit ls
      every unit on every machine, as systemd reports it
  herald unit ls --files --fields unit,dstate,target
      the submitted units, where they should be and where fleet put them
  herald unit ls -o json | jq -r '.states[] | select(.active != "active") | .unit'
      the units that do not run

Exit codes: 0 ok, 2 usage, 69 fleet unreachable, 78 bad configuration. See herald-unit(1).)";

constexpr const char* k_machines_footer = R"(Columns (--fields): machine, ip, metadata.

Examples:
  herald unit machines
  herald unit machines -l --fields machine,metadata --no-legend

Exit codes: 0 ok, 2 usage, 69 fleet unreachable, 78 bad configuration. See herald-unit(1).)";

constexpr const char* k_cat_footer = R"(Prints the unit file fleet holds, rebuilt from its options
as fleetctl cat does (continued lines arrive joined). With several units each comes after a
"# NAME" line.

Examples:
  herald unit cat web@1
  herald unit cat web@.service > web@.service

Exit codes: 0 ok, 1 no such unit, 69 fleet unreachable. See herald-unit(1).)";

} // namespace

std::vector<Command> add_unit_fleet(CLI::App* unit) {
  std::vector<Command> all;
  for (const VerbInfo& info : k_verbs) {
    all.push_back(add_lifecycle(unit, info));
  }

  auto ls = std::make_shared<ListFlags>();
  CLI::App* ls_cmd =
      unit->add_subcommand("ls", "List units on the machines (or, --files, in fleet)");
  ls_cmd->alias("list");
  ls_cmd->footer(k_ls_footer);
  ls_cmd->add_flag("--files", ls->files, "List the submitted unit files instead");
  ls_cmd->add_flag("-l,--full", ls->full, "Whole machine ids and hashes");
  add_list_options(*ls_cmd, ls->list, cli::unit_state_columns());
  ls_cmd->get_option("--fields")
      ->description("Columns to show, in this order (tables and -o simple): " +
                    column_names(cli::unit_state_columns()) +
                    "; with --files: " + column_names(cli::unit_file_columns()));
  add_fleet_options(*ls_cmd, ls->fleet);
  all.push_back(Command{ls_cmd, [ls] { return run_unit_ls(*ls); }});

  auto machines = std::make_shared<ListFlags>();
  CLI::App* machines_cmd = unit->add_subcommand("machines", "List fleet's machines");
  machines_cmd->footer(k_machines_footer);
  machines_cmd->add_flag("-l,--full", machines->full, "Whole machine ids");
  add_list_options(*machines_cmd, machines->list, cli::machine_columns());
  add_fleet_options(*machines_cmd, machines->fleet);
  all.push_back(Command{machines_cmd, [machines] { return run_unit_machines(*machines); }});

  auto cat = std::make_shared<ListFlags>();
  CLI::App* cat_cmd = unit->add_subcommand("cat", "Print units as fleet holds them");
  cat_cmd->footer(k_cat_footer);
  cat_cmd->add_option("unit", cat->units, "Units: names (web@1, web@1.service)")->required();
  add_fleet_options(*cat_cmd, cat->fleet);
  all.push_back(Command{cat_cmd, [cat] { return run_unit_cat(*cat); }});
  return all;
}

} // namespace herald::commands
