// herald unit gen APP | router | launcher | registrator: units rendered from unit_templates/.
// Parses flags into a spec of lib/herald/units/generate.hpp and writes what it returns.
#include "commands/commands.hpp"
#include "herald/announce/registration.hpp"
#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"
#include "herald/render/diff.hpp"
#include "herald/units/generate.hpp"
#include "herald/units/write.hpp"

#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <memory>
#include <string>
#include <vector>

namespace herald::commands {

namespace {

/// Flags every `unit gen` shares.
struct GenOutput {
  std::string output = ".";
  bool dry_run = false;
  std::string templates;
  std::string herald_path;
};

/// Flags of `herald unit gen APP`.
struct AppGenOptions {
  std::string app;
  std::string image;
  int port = 0;
  int host_port = 0;
  std::string host_ip = "${COREOS_PRIVATE_IPV4}";
  std::string domain;
  std::string path;
  std::vector<std::string> env;
  std::vector<std::string> env_files;
  bool conflicts = false;
  std::string machine_of;
  std::vector<std::string> metadata;
  std::string health_path;
  std::string pull_timeout = "5m";
  GenOutput out;
};

/// Flags of `herald unit gen router`.
struct RouterGenOptions {
  std::string kind;
  units::RouterSpec spec;
  GenOutput out;
};

/// Flags of `herald unit gen launcher`.
struct LauncherGenOptions {
  units::LauncherSpec spec;
  GenOutput out;
};

/// Flags of `herald unit gen registrator`.
struct RegistratorGenOptions {
  units::RegistratorSpec spec;
  std::string ttl = "60s";
  GenOutput out;
};

constexpr const char* k_app_footer =
    R"(Writes APP@.service (the app in Docker, one container APP.N per instance APP@N:
docker pull with a timeout, docker run publishing PORT, stop, kill, rm) and APP-discovery@.service
(herald announce APP@%i --docker APP.%i, bound to it, on its machine). Without --image only the
sidekick is written, announcing $COREOS_PRIVATE_IPV4:PORT for an app run by its own unit.
Files already holding the same unit are left alone; the others are replaced atomically.
The names 'router', 'launcher' and 'registrator' are the subcommands below, not apps.

Examples:
  herald unit gen web --image registry.example.com/web:1.4 --port 3000 --health-path /health -o units/
      an app and its sidekick, announced only while GET /health answers 2xx/3xx
  herald unit gen api --image api:2 --port 8080 --env-file api.env --env LOG=info --conflicts \
      --metadata role=web -o units/
      environment from a file and a flag, one instance per machine, only on role=web machines
  herald unit gen web --image web:1.4 --port 3000 -o units/ --dry-run
      say what would change, with a diff, and write nothing

Exit codes: 0 ok, 2 usage (a bad value names the flag), 65 a template that does not give a
valid unit, 78 an output directory or template directory that cannot be used.
See herald-unit(1).)";

constexpr const char* k_router_footer =
    R"(Writes NAME.service (nginx or haproxy in the foreground, Global=true) and NAME-render.service
(herald render --watch with the template's check and reload commands, part of the router).
It watches the apps and /services/launchers: a request for an app that does not run goes to the
launchers announced there (herald unit gen launcher).

Examples:
  herald unit gen router --template nginx-host --domain example.com -o units/
      nginx routing APP.example.com to APP's instances, on every machine
  herald unit gen router --template nginx-path --routes-prefix /services/clusters -o units/
      nginx routing /APP/ to the address of the key /services/clusters/APP
  herald unit gen router --template haproxy --listen '*:8080' --metadata role=router -o units/
      haproxy on port 8080, only on the machines with role=router

See herald-unit(1).)";

constexpr const char* k_launcher_footer =
    R"(Writes NAME.service running `herald launch serve -f FILE --listen ADDRESS` on every machine:
the target the router sends requests for apps that do not run; it starts the cluster file's
on-demand apps (herald-launch(1)) and announces itself under /services/launchers, where the
bundled router templates look.

Examples:
  herald unit gen launcher -f /etc/herald/cluster.yaml --listen 127.0.0.1:8090 -o units/

See herald-unit(1).)";

constexpr const char* k_registrator_footer =
    R"(Writes NAME.service running `herald announce --docker-events` after docker.service on every
machine: it registers the containers that ask for it (SERVICE_NAME, herald.service, ...),
and announces itself, which `herald cluster up` on the docker scheduler checks for. The global
--registry, when given, is written into the unit; otherwise the registrator reads
HERALD_REGISTRY from /etc/herald/environment.

Examples:
  herald --registry etcd://10.0.0.1:2379 unit gen registrator --prefix /services/web -o units/
  herald unit gen registrator --ttl 30s --metadata role=docker -o -

See herald-unit(1).)";

void write_out(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

units::HostPaths host_paths(const GenOutput& out) {
  units::HostPaths paths = units::HostPaths::installed();
  if (!out.herald_path.empty()) {
    paths.herald = out.herald_path;
  }
  return paths;
}

units::UnitTemplates unit_templates(const GenOutput& out) {
  return out.templates.empty() ? units::UnitTemplates() : units::UnitTemplates(out.templates);
}

/// Prints the units (-o -) or writes them into the output directory, one line per file.
int emit(const std::vector<units::GeneratedUnit>& generated, const GenOutput& out) {
  if (out.output == "-") {
    std::string text;
    for (const auto& unit : generated) {
      text += fmt::format("{}# {}\n{}", text.empty() ? "" : "\n", unit.name, unit.text);
    }
    write_out(text);
    return 0;
  }
  std::string report;
  for (const auto& written : units::write_units(out.output, generated, out.dry_run)) {
    std::string_view outcome = units::to_string(written.outcome);
    if (out.dry_run && written.outcome != units::WriteOutcome::unchanged) {
      report += fmt::format("would be {} {}\n", outcome, written.path);
    } else {
      report += fmt::format("{:<9} {}\n", outcome, written.path);
    }
    if (out.dry_run && written.outcome == units::WriteOutcome::updated) {
      auto unit = std::find_if(generated.begin(), generated.end(),
                               [&](const auto& u) { return written.path.ends_with("/" + u.name); });
      report += render::unified_diff(*written.previous, unit->text, written.path, written.path);
    }
  }
  write_out(report);
  return 0;
}

int run_app_gen(const AppGenOptions& opts) {
  if (opts.app.empty()) {
    throw Error(ErrorKind::usage, "name the APP to generate units for (or use 'unit gen router', "
                                  "'unit gen launcher' or 'unit gen registrator')");
  }
  units::AppSpec spec;
  spec.app = opts.app;
  spec.image = opts.image;
  spec.port = static_cast<std::uint16_t>(opts.port);
  if (opts.host_port != 0) {
    spec.host_port = static_cast<std::uint16_t>(opts.host_port);
  }
  spec.host_ip = opts.host_ip;
  spec.domain = opts.domain;
  spec.path = opts.path;
  for (const auto& file : opts.env_files) {
    for (auto& entry : units::load_env_file(file)) {
      spec.env.push_back(std::move(entry));
    }
  }
  for (const auto& assignment : opts.env) {
    spec.env.push_back(units::parse_env_assignment(assignment));
  }
  spec.conflicts = opts.conflicts;
  spec.machine_of = opts.machine_of;
  spec.metadata = opts.metadata;
  spec.health_path = opts.health_path;
  auto pull = parse_duration(opts.pull_timeout, "--pull-timeout");
  if (pull < std::chrono::seconds(1)) {
    throw Error(ErrorKind::usage, "--pull-timeout must be at least 1s");
  }
  spec.pull_timeout = std::chrono::duration_cast<std::chrono::seconds>(pull);
  return emit(units::generate_app(spec, unit_templates(opts.out), host_paths(opts.out)), opts.out);
}

void add_output_options(CLI::App* cmd, GenOutput& out) {
  const char* group = "Output";
  cmd->add_option("-o,--output", out.output,
                  "Directory to write the units into (created if missing); - prints them")
      ->type_name("DIR")
      ->default_str(".")
      ->group(group);
  cmd->add_flag("--dry-run", out.dry_run,
                "Say which files would be created or updated (with a diff) and write nothing")
      ->group(group);
  cmd->add_option("--templates", out.templates,
                  "Directory of unit templates overriding the built-in ones, file by file "
                  "(app@.service.tmpl, ...)")
      ->type_name("DIR")
      ->group(group);
  cmd->add_option("--herald-path", out.herald_path,
                  "herald on the machines that run the units, e.g. /opt/bin/herald on Flatcar")
      ->type_name("PATH")
      ->default_str(units::HostPaths::installed().herald)
      ->group(group);
}

/// --name and --metadata of a unit that runs once on every machine (launcher, registrator).
void add_global_unit_options(CLI::App* cmd, std::string& name, std::vector<std::string>& metadata) {
  cmd->add_option("--name", name, "Unit name: NAME.service")->type_name("NAME")->default_str(name);
  cmd->add_option("--metadata", metadata,
                  "Only on machines with this fleet metadata KEY=VALUE (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
}

/// Options of `gen` itself (the APP form) given to `gen router` or `gen launcher`: a usage error
/// rather than a silent no-op.
void refuse_app_flags(const CLI::App* gen, std::string_view sub) {
  for (const CLI::Option* option : gen->get_options()) {
    if (option->count() > 0 && option->get_name() != "--help") {
      throw Error(ErrorKind::usage, fmt::format("{} is for 'unit gen APP', not 'unit gen {}'",
                                                option->get_name(), sub));
    }
  }
}

Command add_router_gen(CLI::App* gen) {
  auto opts = std::make_shared<RouterGenOptions>();
  CLI::App* cmd = gen->add_subcommand(
      "router", "Units of a router on every machine: nginx or haproxy kept in step with the "
                "registry");
  cmd->footer(k_router_footer);
  cmd->add_option("--template", opts->kind, "The router: nginx-host, nginx-path or haproxy")
      ->type_name("KIND")
      ->required()
      ->check(CLI::IsMember({"nginx-host", "nginx-path", "haproxy"}));
  cmd->add_option("--name", opts->spec.name, "Unit name: NAME.service and NAME-render.service")
      ->type_name("NAME")
      ->default_str(opts->spec.name);
  cmd->add_option("--listen", opts->spec.listen,
                  "nginx: listen (80, 10.0.0.5:80); haproxy: bind (*:80) [default 80 / *:80]")
      ->type_name("ADDRESS");
  cmd->add_option("--domain", opts->spec.domain,
                  "Host routing domain (APP.DOMAIN) when the registry has no /services/domain")
      ->type_name("DOMAIN");
  cmd->add_option("--routes-prefix", opts->spec.routes_prefix,
                  "Where the apps are: PREFIX/APP/APP@N or one key PREFIX/APP, such as "
                  "/services/clusters [default /services/web]")
      ->type_name("PREFIX");
  cmd->add_option("--metadata", opts->spec.metadata,
                  "Only on machines with this fleet metadata KEY=VALUE (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  cmd->add_option("--config-template", opts->spec.config_template,
                  "Router template on the machines (default: the installed TEMPLATE.tmpl)")
      ->type_name("PATH");
  cmd->add_option("--dest", opts->spec.dest,
                  "Router configuration to keep current (default: the template's usual place)")
      ->type_name("PATH");
  add_output_options(cmd, opts->out);
  return Command{cmd, [opts, gen] {
                   refuse_app_flags(gen, "router");
                   opts->spec.kind = units::parse_router_kind(opts->kind);
                   return emit(units::generate_router(opts->spec, unit_templates(opts->out),
                                                      host_paths(opts->out)),
                               opts->out);
                 }};
}

Command add_launcher_gen(CLI::App* gen) {
  auto opts = std::make_shared<LauncherGenOptions>();
  CLI::App* cmd = gen->add_subcommand(
      "launcher", "The unit of `herald launch serve` on every machine (apps started on demand)");
  cmd->footer(k_launcher_footer);
  cmd->add_option("-f,--file", opts->spec.cluster_file, "The cluster file on the machines")
      ->type_name("FILE")
      ->default_str(opts->spec.cluster_file);
  cmd->add_option("--listen", opts->spec.listen, "HOST:PORT the launcher listens on")
      ->type_name("ADDRESS")
      ->default_str(opts->spec.listen);
  add_global_unit_options(cmd, opts->spec.name, opts->spec.metadata);
  add_output_options(cmd, opts->out);
  return Command{cmd, [opts, gen] {
                   refuse_app_flags(gen, "launcher");
                   return emit(units::generate_launcher(opts->spec, unit_templates(opts->out),
                                                        host_paths(opts->out)),
                               opts->out);
                 }};
}

Command add_registrator_gen(CLI::App* gen, const cli::GlobalOptions& global) {
  auto opts = std::make_shared<RegistratorGenOptions>();
  CLI::App* cmd = gen->add_subcommand(
      "registrator", "The unit of `herald announce --docker-events` on every machine (the "
                     "registrator of its Docker containers)");
  cmd->footer(k_registrator_footer);
  cmd->add_option("--prefix", opts->spec.prefix, "Where it registers: PREFIX/SERVICE/SERVICE@ID")
      ->type_name("PREFIX")
      ->default_str(opts->spec.prefix);
  cmd->add_option("--node", opts->spec.node,
                  "The node name in instance IDs (default: each machine's host name)")
      ->type_name("NAME");
  cmd->add_option("--host", opts->spec.host,
                  "The node address for ports published on every interface (default: "
                  "COREOS_PRIVATE_IPV4 from /etc/environment)")
      ->type_name("HOST");
  cmd->add_option("--ttl", opts->ttl, "Time to live of its keys, whole seconds")
      ->type_name("DURATION")
      ->default_str(opts->ttl);
  add_global_unit_options(cmd, opts->spec.name, opts->spec.metadata);
  add_output_options(cmd, opts->out);
  return Command{cmd, [opts, gen, &global] {
                   refuse_app_flags(gen, "registrator");
                   // The registry as typed: an environment variable on this machine says nothing
                   // about the machines the unit runs on.
                   opts->spec.registry = global.registry;
                   opts->spec.ttl = announce::resolve_timing(opts->ttl, "").ttl;
                   return emit(units::generate_registrator(opts->spec, unit_templates(opts->out),
                                                           host_paths(opts->out)),
                               opts->out);
                 }};
}

} // namespace

std::vector<Command> add_unit_gen(CLI::App* unit, const cli::GlobalOptions& global) {
  auto opts = std::make_shared<AppGenOptions>();
  CLI::App* gen = unit->add_subcommand(
      "gen", "Write an app's units (APP@.service, APP-discovery@.service), a router's, the "
             "launcher's or the registrator's");
  gen->footer(k_app_footer);
  gen->add_option("app", opts->app,
                  "The app: a DNS label such as web (also router, launcher, registrator)");

  const char* app_group = "App";
  gen->add_option("--image", opts->image,
                  "Docker image to run (without it only the sidekick is written)")
      ->type_name("IMAGE")
      ->group(app_group);
  gen->add_option("--port", opts->port, "The port the app listens on (in its container)")
      ->type_name("PORT")
      ->check(CLI::Range(1, 65535))
      ->group(app_group);
  gen->add_option("--env", opts->env, "KEY=VALUE in the container's environment (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false)
      ->group(app_group);
  gen->add_option("--env-file", opts->env_files,
                  "File of KEY=VALUE lines (docker's --env-file format), read now (repeatable)")
      ->type_name("FILE")
      ->allow_extra_args(false)
      ->group(app_group);
  gen->add_option("--pull-timeout", opts->pull_timeout, "How long docker pull may take")
      ->type_name("DURATION")
      ->default_str("5m")
      ->group(app_group);

  const char* net_group = "Network and routing";
  gen->add_option("--host-port", opts->host_port,
                  "Publish on this fixed host port (implies --conflicts); default: any free one")
      ->type_name("PORT")
      ->check(CLI::Range(1, 65535))
      ->group(net_group);
  gen->add_option("--host-ip", opts->host_ip, "Address Docker publishes the port on")
      ->type_name("IP")
      ->default_str("${COREOS_PRIVATE_IPV4}")
      ->group(net_group);
  auto* domain = gen->add_option("--domain", opts->domain,
                                 "Host routing: announce host=APP.DOMAIN with the instance")
                     ->type_name("DOMAIN")
                     ->group(net_group);
  gen->add_option("--path", opts->path, "Path routing: announce path=/P with the instance")
      ->type_name("/PATH")
      ->excludes(domain)
      ->group(net_group);
  gen->add_option("--health-path", opts->health_path,
                  "Announce an instance only while GET of this path answers 2xx/3xx")
      ->type_name("/PATH")
      ->group(net_group);

  const char* fleet_group = "Placement (fleet)";
  gen->add_flag("--conflicts", opts->conflicts,
                "At most one instance per machine (Conflicts=APP@*.service)")
      ->group(fleet_group);
  gen->add_option("--machine-of", opts->machine_of,
                  "Run each instance beside this unit (MachineOf=, e.g. db@%i.service)")
      ->type_name("UNIT")
      ->group(fleet_group);
  gen->add_option("--metadata", opts->metadata,
                  "Only on machines with this fleet metadata KEY=VALUE (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false)
      ->group(fleet_group);
  add_output_options(gen, opts->out);

  std::vector<Command> commands;
  commands.push_back(add_router_gen(gen));
  commands.push_back(add_launcher_gen(gen));
  commands.push_back(add_registrator_gen(gen, global));
  commands.push_back(Command{gen, [opts] { return run_app_gen(*opts); }});
  return commands;
}

} // namespace herald::commands
