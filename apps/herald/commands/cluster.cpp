// herald cluster plan|up|down|status: the cluster file applied through a scheduler.
#include "commands/commands.hpp"
#include "herald/cli/cluster_output.hpp"
#include "herald/cli/progress.hpp"
#include "herald/cluster/apply.hpp"
#include "herald/cluster/load.hpp"
#include "herald/cluster/plan.hpp"
#include "herald/cluster/registrator_check.hpp"
#include "herald/cluster/status.hpp"
#include "herald/cluster/units.hpp"
#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/core/strings.hpp"
#include "herald/registry/opener.hpp"
#include "herald/registry/registry.hpp"
#include "herald/scheduler/scheduler.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <memory>
#include <optional>
#include <spdlog/spdlog.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace herald::commands {

namespace {

constexpr const char* k_default_file = "cluster.yaml";

/// Flags of the cluster commands, as typed.
struct ClusterFlags {
  std::string file = k_default_file;
  std::vector<std::string> apps;
  cli::ListOptions list;
  bool dry_run = false;
  bool no_prune = false;
  bool instances = false;
  bool keep_routers = false;
  std::string timeout = "5m";
  std::string drain; ///< down: overrides the apps' drain time
};

/// What every cluster command opens: the file, the scheduler it names, the registry.
struct Session {
  StopToken stop;
  std::optional<cluster::ClusterSpec> spec;
  std::unique_ptr<scheduler::Scheduler> scheduler;
  std::unique_ptr<registry::Registry> registry;
  std::unique_ptr<cluster::RegistryRoutes> routes;
};

} // namespace

scheduler::Options cluster_scheduler_options(const cluster::ClusterSpec* spec,
                                             const StopToken* stop) {
  scheduler::Options options;
  options.stop = stop;
  if (spec != nullptr) {
    options.backend = std::string(cluster::to_string(spec->scheduler.kind));
    options.docker_host = spec->scheduler.docker.endpoint;
    options.fleet = spec->scheduler.fleet;
  }
  return options;
}

registry::Opener cluster_registry(const cli::GlobalOptions& global,
                                  const cluster::ClusterSpec* spec) {
  cli::GlobalOptions resolved = global;
  if (resolved.registry.empty() && spec != nullptr && !spec->registry.url.empty()) {
    resolved.registry = spec->registry.url;
  }
  return cli::registry_opener(resolved);
}

void require_registrator(const cluster::ClusterSpec& spec, scheduler::Scheduler& sched,
                         registry::Registry& registry) {
  // On docker only a registrator registers what is started: without one, nothing is started
  // rather than waited for until --timeout.
  cluster::RegistratorCheck check = cluster::check_registrator(&spec, sched, registry);
  if (check.state == cluster::RegistratorCheck::State::missing) {
    throw Error(ErrorKind::config, fmt::format("{}, so no instance would ever be registered; {}",
                                               check.problem, check.remedy));
  }
  if (check.state == cluster::RegistratorCheck::State::unknown) {
    spdlog::warn("{}; {}", check.problem, check.remedy);
  }
}

namespace {

scheduler::Options scheduler_options(const cluster::ClusterSpec* spec, const StopToken* stop) {
  return cluster_scheduler_options(spec, stop);
}

/// Opens what the cluster file names. `file_optional`: a missing default file means "what runs
/// on the default scheduler" (cluster down / status without a file).
void open_session(Session& session, const ClusterFlags& flags, const cli::GlobalOptions& global,
                  bool file_optional) {
  install_stop_signals(session.stop);
  bool have_file =
      !(file_optional && flags.file == k_default_file && !std::filesystem::exists(flags.file));
  if (have_file) {
    session.spec = cluster::load_cluster_file(flags.file);
  }
  const cluster::ClusterSpec* spec = session.spec ? &*session.spec : nullptr;
  session.scheduler = scheduler::open(scheduler_options(spec, &session.stop));
  session.registry = cluster_registry(global, spec).open(session.stop);
  session.routes = std::make_unique<cluster::RegistryRoutes>(
      *session.registry, spec != nullptr ? spec->registry.prefix : std::string());
}

/// The units beside the instances the file makes (its routers and extra units), rendered as
/// the scheduler opened for it renders its own.
std::vector<cluster::ClusterUnit> wanted_units(const cluster::ClusterSpec& spec) {
  scheduler::Options options = scheduler_options(&spec, nullptr);
  return cluster::cluster_units(spec, scheduler::unit_templates(options),
                                scheduler::host_paths(options));
}

/// On a scheduler that runs no units (docker), says once that the file's routers are not its to
/// run, and how to run them; nothing fails for it.
void note_routers(const cluster::ClusterSpec& spec, const scheduler::Scheduler& sched,
                  const ClusterFlags& flags) {
  if (sched.runs_units() || spec.routers.empty()) {
    return;
  }
  const cluster::RouterSpec& router = spec.routers.front();
  spdlog::warn("the {} scheduler runs no routers, so {} is left to you: on that host, run "
               "'herald unit gen router --template {} --name {}' and start the units with "
               "systemd, or run 'herald render --watch' with the bundled {} template (see "
               "herald-cluster(1), ROUTERS AND UNITS)",
               sched.backend(),
               spec.routers.size() == 1
                   ? "router " + herald::quoted(router.name) + " of " + flags.file
                   : fmt::format("the {} routers of {}", spec.routers.size(), flags.file),
               cluster::to_string(router.kind), router.name, cluster::to_string(router.kind));
}

/// Adds the unit changes to `plan` when the scheduler runs units and the whole file is applied
/// (not only some apps).
void add_unit_changes(cluster::Plan& plan, const cluster::ClusterSpec& spec,
                      scheduler::Scheduler& sched, const ClusterFlags& flags) {
  if (!flags.apps.empty() || !sched.runs_units()) {
    return;
  }
  plan.units = cluster::plan_units(spec, wanted_units(spec), sched.list_units(), !flags.no_prune);
}

cluster::PlanOptions plan_options(const ClusterFlags& flags) {
  cluster::PlanOptions options;
  options.apps = flags.apps;
  options.prune = !flags.no_prune;
  return options;
}

/// Warns, on the docker scheduler, when `cluster up` would refuse for want of a registrator.
/// Never a failure: plan changes nothing, and its exit status says only whether changes are
/// pending; a registry it cannot reach is one more warning.
void warn_without_registrator(const cluster::ClusterSpec& spec, scheduler::Scheduler& sched,
                              const cli::GlobalOptions& global, const StopToken& stop) {
  if (spec.scheduler.kind != cluster::SchedulerKind::docker) {
    return;
  }
  try {
    auto registry = cluster_registry(global, &spec).open(stop);
    cluster::RegistratorCheck check = cluster::check_registrator(&spec, sched, *registry);
    if (check.state == cluster::RegistratorCheck::State::missing) {
      spdlog::warn("{}: 'cluster up' would refuse to start; {}", check.problem, check.remedy);
    } else if (check.state == cluster::RegistratorCheck::State::unknown) {
      spdlog::warn("{}; {}", check.problem, check.remedy);
    }
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::cancelled) {
      throw;
    }
    spdlog::warn("could not look for a registrator: {}", e.what());
  }
}

/// What runs carries its own state: the plan itself needs no registry (it is asked only whether
/// a registrator serves a docker cluster).
int run_plan(const ClusterFlags& flags, const cli::GlobalOptions& global) {
  cli::Printer printer = make_printer(flags.list, cli::plan_columns());
  cluster::ClusterSpec spec = cluster::load_cluster_file(flags.file);
  StopToken stop;
  install_stop_signals(stop);
  auto sched = scheduler::open(scheduler_options(&spec, &stop));
  note_routers(spec, *sched, flags);
  std::vector<scheduler::Instance> existing = sched->list();
  cluster::Plan plan =
      cluster::make_plan(cluster::effective_spec(spec, existing), existing, plan_options(flags));
  add_unit_changes(plan, spec, *sched, flags);
  warn_without_registrator(spec, *sched, global, stop);
  print_plan(printer, plan);
  spdlog::info("{}: {}", flags.file, plan.summary());
  return plan.empty() ? 0 : 2;
}

/// Prints the plan applied: a table only when something changed (a script reading JSON or YAML
/// always gets its document).
void print_applied(cli::Printer& printer, const cluster::Plan& plan) {
  auto format = printer.options().format;
  if (!plan.empty() || format == cli::OutputFormat::json || format == cli::OutputFormat::yaml) {
    print_plan(printer, plan);
  }
}

/// Progress of a rollout on stderr: one line per instance, redrawn on a terminal.
class RolloutProgress {
public:
  RolloutProgress() : m_terminal(cli::is_terminal(STDERR_FILENO, &m_rows)) {
    m_lines = std::make_unique<cli::ProgressLines>(stderr, m_terminal, m_rows);
  }
  void operator()(const InstanceName& name, const std::string& what) {
    m_lines->set(name.str(), what);
  }
  void operator()(const std::string& unit, const std::string& what) { m_lines->set(unit, what); }
  void finish() { m_lines->finish(); }

private:
  std::size_t m_rows = 0;
  bool m_terminal;
  std::unique_ptr<cli::ProgressLines> m_lines;
};

int run_up(const ClusterFlags& flags, const cli::GlobalOptions& global) {
  if (flags.dry_run) {
    run_plan(flags, global); // the plan's "changes pending" is no failure of a dry run
    return 0;
  }
  cli::Printer printer = make_printer(flags.list, cli::plan_columns());
  cluster::ApplyOptions options;
  options.timeout = parse_duration(flags.timeout, "--timeout");
  Session session;
  open_session(session, flags, global, false);
  const cluster::ClusterSpec& spec = *session.spec;
  note_routers(spec, *session.scheduler, flags);
  require_registrator(spec, *session.scheduler, *session.registry);
  // On-demand apps run only once launched; those that run are kept up to date like the others.
  std::vector<scheduler::Instance> existing = session.scheduler->list();
  const cluster::ClusterSpec effective = cluster::effective_spec(spec, existing);
  cluster::Plan plan = cluster::make_plan(effective, existing, plan_options(flags));
  add_unit_changes(plan, spec, *session.scheduler, flags);
  if (plan.empty()) {
    std::size_t instances = 0;
    for (const auto& app : plan.apps) {
      instances += app.instances.size();
    }
    std::string units;
    if (session.scheduler->runs_units() && flags.apps.empty() &&
        (!spec.routers.empty() || !spec.units.empty())) {
      units = fmt::format(" and {} unit(s)", wanted_units(spec).size());
    }
    spdlog::info("nothing to do: {} instance(s) of {} app(s){} run as {} says", instances,
                 plan.apps.size(), units, flags.file);
    print_applied(printer, plan);
    return 0;
  }
  spdlog::info("{} on {}: {}", flags.file, session.scheduler->describe(), plan.summary());
  RolloutProgress progress;
  options.progress = [&](const InstanceName& name, const std::string& what) {
    progress(name, what);
  };
  options.unit_progress = [&](const std::string& unit, const std::string& what) {
    progress(unit, what);
  };
  options.stop = &session.stop;
  cluster::ApplyResult result =
      cluster::apply(effective, plan, *session.scheduler, *session.routes, options);
  progress.finish();
  print_applied(printer, plan);
  spdlog::info("done: {} created, {} started, {} replaced, {} removed; units: {} submitted, {} "
               "removed",
               result.created, result.started, result.replaced, result.removed,
               result.units_changed, result.units_removed);
  return 0;
}

int run_down(const ClusterFlags& flags, const cli::GlobalOptions& global) {
  cli::Printer printer = make_printer(flags.list, cli::plan_columns());
  Session session;
  open_session(session, flags, global, true);
  // The apps named, else the file's, else every app herald made on the scheduler.
  std::vector<scheduler::Instance> existing = session.scheduler->list();
  std::vector<std::string> apps = flags.apps;
  if (apps.empty() && session.spec) {
    // With the apps launched on demand from it (an on_demand app, a template's).
    for (const auto& app : cluster::effective_spec(*session.spec, existing).apps) {
      apps.push_back(app.name);
    }
  }
  std::erase_if(existing, [&](const scheduler::Instance& i) {
    return (!flags.apps.empty() || session.spec) &&
           std::find(apps.begin(), apps.end(), i.app) == apps.end();
  });
  // Down is the plan of a file without apps: every instance listed goes.
  cluster::ClusterSpec none;
  none.source = flags.file;
  cluster::Plan plan = cluster::make_plan(none, existing);
  // The units: the file's (every one herald made without a file), none when apps are named;
  // --keep-routers leaves the routers.
  if (flags.apps.empty() && session.scheduler->runs_units()) {
    std::vector<std::string> named;
    if (session.spec) {
      for (const auto& unit : wanted_units(*session.spec)) {
        named.push_back(unit.name);
      }
    }
    std::vector<scheduler::UnitInfo> units = session.scheduler->list_units();
    std::erase_if(units, [&](const scheduler::UnitInfo& unit) {
      bool router = unit.owner.rfind("router ", 0) == 0;
      return (flags.keep_routers && router) ||
             (session.spec && std::find(named.begin(), named.end(), unit.name) == named.end());
    });
    plan.units = cluster::plan_units(none, {}, units, true);
    for (auto& change : plan.units) {
      change.reason = "cluster down";
    }
  }
  for (auto& app : plan.apps) {
    const cluster::AppSpec* spec = session.spec ? session.spec->app(app.app) : nullptr;
    app.spec = spec != nullptr ? *spec : cluster::AppSpec{};
    if (!flags.drain.empty()) {
      app.spec->update.drain = parse_duration(flags.drain, "--drain");
    }
    for (auto& change : app.changes) {
      change.reason = "cluster down";
    }
  }
  if (flags.dry_run || plan.empty()) {
    print_applied(printer, plan);
    if (plan.empty()) {
      spdlog::info("nothing to do: no instance or unit of {} runs",
                   apps.empty() ? std::string("any app")
                                : fmt::format("{}", fmt::join(apps, ", ")));
    }
    return 0;
  }
  // Stopping needs no registrator, but withdrawing relies on one: without it, an instance leaves
  // the router only when its registration expires, and down waits for that.
  cluster::RegistratorCheck check = cluster::check_registrator(
      session.spec ? &*session.spec : nullptr, *session.scheduler, *session.registry);
  if (check.state == cluster::RegistratorCheck::State::missing) {
    spdlog::warn("{}: a withdrawn instance leaves the router only when its registration "
                 "expires; {}",
                 check.problem, check.remedy);
  }
  RolloutProgress progress;
  cluster::ApplyOptions options;
  options.timeout = parse_duration(flags.timeout, "--timeout");
  options.progress = [&](const InstanceName& name, const std::string& what) {
    progress(name, what);
  };
  options.unit_progress = [&](const std::string& unit, const std::string& what) {
    progress(unit, what);
  };
  options.stop = &session.stop;
  cluster::ApplyResult result =
      cluster::apply(none, plan, *session.scheduler, *session.routes, options);
  progress.finish();
  print_applied(printer, plan);
  spdlog::info("done: {} instance(s) removed, {} unit(s) removed", result.removed,
               result.units_removed);
  return 0;
}

int run_status(const ClusterFlags& flags, const cli::GlobalOptions& global) {
  cli::Printer printer = make_printer(flags.list, flags.instances ? cli::instance_status_columns()
                                                                  : cli::app_status_columns());
  Session session;
  open_session(session, flags, global, true);
  std::vector<scheduler::Instance> existing = session.scheduler->list();
  std::optional<cluster::ClusterSpec> effective;
  if (session.spec) {
    effective = cluster::effective_spec(*session.spec, existing);
  }
  auto status = cluster::cluster_status(effective ? &*effective : nullptr, existing,
                                        *session.routes, flags.apps);
  std::vector<cluster::UnitStatus> units;
  if (flags.apps.empty() && session.scheduler->runs_units()) {
    units = cluster::unit_status(session.spec ? wanted_units(*session.spec)
                                              : std::vector<cluster::ClusterUnit>{},
                                 session.scheduler->list_units());
  }
  print_status(printer, status, flags.instances, units);
  return 0;
}

constexpr const char* k_plan_footer =
    R"(Compares the cluster file with what runs (each instance records the spec it was made from)
and lists what `cluster up` would do: create, start, replace (with the fields that changed:
image, port, env, health, routing, placement) and remove. On fleet the routers and extra units
too, each followed (table and wide output) by a unified diff of the unit file fleet has against
the one `up` would submit. Nothing is changed. On the docker scheduler it warns (and keeps its
exit status) when no registrator serves the engine, registry and prefix of the file, for which
`cluster up` would refuse.

Columns (--fields): action, instance, reason; -o wide adds image (before -> after).

Examples:
  herald cluster plan -f cluster.yaml
  herald cluster plan -o json | jq '.summary'
  if ! herald cluster plan -o simple >/dev/null; then echo "changes pending"; fi

Exit codes: 0 nothing would change, 2 changes are pending (as terraform plan
-detailed-exitcode; a usage error is 2 too, with a message on stderr), 65 the file is no
YAML, 69 the scheduler is unreachable, 78 the file is no valid cluster. See herald-cluster(1).)";

constexpr const char* k_up_footer =
    R"(Applies the plan. On fleet, extra units first, then routers, each waited for until it runs;
the docker scheduler runs no routers and says how to run them. Then missing instances are
created and started, then instances made from
another spec are replaced rolling (per app's update policy: max_surge new ones first, each
running AND routable before an old one is withdrawn, drained and stopped), then what the file
no longer wants is withdrawn, drained, stopped and removed, then the units it no longer
makes. A second run does nothing. A new instance that fails stops the rollout: it is named
with its last log lines, stopped (kept for its logs), and the old instances keep serving. On
the docker scheduler nothing starts unless a registrator (herald announce --docker-events)
serves the engine under the file's registry and prefix.

Examples:
  herald cluster up -f cluster.yaml
  herald cluster up --dry-run           the plan, nothing changed (exit 0)
  herald cluster up web --timeout 10m   only the app web

Exit codes: 0 the cluster is as the file says, 1 an instance failed, 2 usage, 65/78 bad
cluster file, 78 no registrator for a docker cluster (the line says how to start one),
69 scheduler or registry unreachable, 130 interrupted (what is done stays done: run it
again). See herald-cluster(1).)";

constexpr const char* k_down_footer =
    R"(Withdraws every instance of the file's apps (or of the APPs named) from the registry,
waits their drain time, stops and removes them; on fleet the file's routers and extra units go
too (not when APPs are named; --keep-routers keeps the routers). Without -f and with no
cluster.yaml here, every herald-made instance on the local Docker engine goes. On docker without
a registrator it warns: an instance then leaves the router only when its registration expires.

Examples:
  herald cluster down -f cluster.yaml
  herald cluster down web --drain 0s
  herald cluster down --dry-run

Exit codes: 0 done (or nothing ran), 1 an instance could not be removed, 2 usage,
69 scheduler or registry unreachable. See herald-cluster(1).)";

constexpr const char* k_status_footer =
    R"(Per app: the instances the file wants, those that run, those made from the file's spec
(current), those the registry has, and those the router routes to (healthy). --instances
lists each instance with its machine and address.

Columns (--fields): app, desired, running, current, registered, healthy; wide: state.
With --instances: instance, state, machine, address, routed, current; wide: image, detail, id.

Examples:
  herald cluster status
  herald cluster status --instances web
  herald cluster status -o json | jq '.apps[] | select(.settled | not) | .app'

Exit codes: 0 ok, 2 usage, 69 scheduler or registry unreachable. See herald-cluster(1).)";

CLI::App* add_file_flag(CLI::App* cmd, ClusterFlags& flags) {
  cmd->add_option("-f,--file", flags.file, "The cluster file (default ./cluster.yaml)")
      ->default_str(k_default_file);
  return cmd;
}

} // namespace

std::vector<Command> add_cluster(CLI::App& app, const cli::GlobalOptions& global) {
  CLI::App* parent = app.add_subcommand("cluster", "Bring a cluster up from one file");
  parent->require_subcommand(1);
  std::vector<Command> all;

  auto plan = std::make_shared<ClusterFlags>();
  CLI::App* plan_cmd =
      parent->add_subcommand("plan", "Show what `cluster up` would change, and change nothing");
  plan_cmd->footer(k_plan_footer);
  add_file_flag(plan_cmd, *plan);
  plan_cmd->add_option("app", plan->apps, "Only these apps");
  plan_cmd->add_flag("--no-prune", plan->no_prune,
                     "Leave instances of apps that are not in the file alone");
  add_list_options(*plan_cmd, plan->list, cli::plan_columns());
  all.push_back(Command{plan_cmd, [plan, &global] { return run_plan(*plan, global); }});

  auto up = std::make_shared<ClusterFlags>();
  CLI::App* up_cmd = parent->add_subcommand("up", "Make what runs match the cluster file");
  up_cmd->footer(k_up_footer);
  add_file_flag(up_cmd, *up);
  up_cmd->add_option("app", up->apps, "Only these apps");
  up_cmd->add_flag("-n,--dry-run", up->dry_run, "Print the plan, change nothing");
  up_cmd->add_flag("--no-prune", up->no_prune,
                   "Leave instances of apps that are not in the file alone");
  up_cmd
      ->add_option("--timeout", up->timeout,
                   "How long one instance may take to run and be routable (default 5m)")
      ->default_str("5m");
  add_list_options(*up_cmd, up->list, cli::plan_columns());
  all.push_back(Command{up_cmd, [up, &global] { return run_up(*up, global); }});

  auto down = std::make_shared<ClusterFlags>();
  CLI::App* down_cmd =
      parent->add_subcommand("down", "Withdraw, stop and remove the cluster's instances");
  down_cmd->footer(k_down_footer);
  add_file_flag(down_cmd, *down);
  down_cmd->add_option("app", down->apps, "Only these apps");
  down_cmd->add_flag("-n,--dry-run", down->dry_run, "Print what would go, change nothing");
  down_cmd->add_option("--drain", down->drain,
                       "Time between withdrawing and stopping (default: each app's drain)");
  down_cmd->add_flag("--keep-routers", down->keep_routers,
                     "Leave the routers running (extra units and instances still go)");
  down_cmd
      ->add_option("--timeout", down->timeout,
                   "How long a withdrawn instance may stay in the registry (default 5m)")
      ->default_str("5m");
  add_list_options(*down_cmd, down->list, cli::plan_columns());
  all.push_back(Command{down_cmd, [down, &global] { return run_down(*down, global); }});

  auto status = std::make_shared<ClusterFlags>();
  CLI::App* status_cmd =
      parent->add_subcommand("status", "What runs and what the router sees, per app");
  status_cmd->footer(k_status_footer);
  add_file_flag(status_cmd, *status);
  status_cmd->add_option("app", status->apps, "Only these apps");
  status_cmd->add_flag("--instances", status->instances, "One row per instance");
  add_list_options(*status_cmd, status->list, cli::app_status_columns());
  status_cmd->get_option("--fields")
      ->description("Columns to show, in this order (tables and -o simple): " +
                    column_names(cli::app_status_columns()) +
                    "; with --instances: " + column_names(cli::instance_status_columns()));
  all.push_back(Command{status_cmd, [status, &global] { return run_status(*status, global); }});
  return all;
}

} // namespace herald::commands
