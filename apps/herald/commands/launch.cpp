// herald launch APP[@N] | herald launch serve: apps of the cluster file started on demand.
#include "herald/cluster/launch.hpp"

#include "commands/commands.hpp"
#include "herald/announce/registration.hpp"
#include "herald/announce/sidekick.hpp"
#include "herald/cli/json_writer.hpp"
#include "herald/cluster/load.hpp"
#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"
#include "herald/core/name.hpp"
#include "herald/core/stop.hpp"
#include "herald/core/strings.hpp"
#include "herald/launch/flights.hpp"
#include "herald/launch/idle.hpp"
#include "herald/launch/metrics.hpp"
#include "herald/launch/policy.hpp"
#include "herald/launch/server.hpp"
#include "herald/registry/layout.hpp"
#include "herald/registry/registry.hpp"
#include "herald/units/generate.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <spdlog/spdlog.h>
#include <string>
#include <thread>
#include <vector>

namespace herald::commands {

namespace {

using std::chrono::milliseconds;

constexpr const char* k_default_file = "cluster.yaml";
/// Where launchers announce themselves: outside every instance prefix, in the route model's
/// layout (PREFIX/herald-launcher/herald-launcher@NODE), which the bundled templates read.
constexpr std::string_view k_launcher_prefix = units::k_launchers_prefix;
constexpr const char* k_launcher_app = "herald-launcher";

/// The policy flags both commands share, beside the file's `launch:`.
struct PolicyFlags {
  std::vector<std::string> allow;
  std::vector<std::string> deny;
  std::string policy_cmd;
  std::string policy_timeout;
  int max_apps = -1; ///< -1: the file's
};

struct LaunchFlags {
  std::string file = k_default_file;
  std::string app;
  bool no_wait = false;
  std::string timeout = "5m";
  PolicyFlags policy;
  cli::ListOptions list;
};

struct ServeFlags {
  std::string file = k_default_file;
  std::string listen = "127.0.0.1:8090";
  std::string advertise;
  std::string routing = "path";
  std::string domain;
  std::string hold;
  std::string timeout = "5m";
  std::string rate = "10/m";
  std::string client_rate = "3/m";
  std::string node;
  std::string ttl = "30s";
  std::string announce_prefix{k_launcher_prefix};
  std::string idle_stop;
  std::string access_log;
  PolicyFlags policy;
};

/// The launch policy: the file's `launch:` with the flags added (lists) or replacing (scalars);
/// the file's on_demand apps are allowed by naming them there.
launch::PolicyOptions policy_options(const cluster::ClusterSpec& spec, const PolicyFlags& flags) {
  launch::PolicyOptions out;
  out.allow = spec.launch.allow;
  out.allow.insert(out.allow.end(), flags.allow.begin(), flags.allow.end());
  for (const cluster::AppSpec& app : spec.apps) {
    if (app.on_demand && !app.is_template()) {
      out.allow.push_back(app.name);
    }
  }
  out.deny = spec.launch.deny;
  out.deny.insert(out.deny.end(), flags.deny.begin(), flags.deny.end());
  out.policy_cmd = spec.launch.policy_cmd;
  if (!flags.policy_cmd.empty()) {
    if (flags.policy_cmd.front() != '/') {
      throw Error(ErrorKind::usage, "--policy-cmd needs an absolute path (it runs without a "
                                    "shell, with the app name as its argument)");
    }
    out.policy_cmd = {flags.policy_cmd};
  }
  out.policy_timeout = spec.launch.policy_timeout;
  if (!flags.policy_timeout.empty()) {
    out.policy_timeout = parse_duration(flags.policy_timeout, "--policy-timeout");
  }
  out.max_apps = flags.max_apps >= 0 ? flags.max_apps : spec.launch.max_apps;
  // A name nothing in the file can make is refused like one no pattern allows.
  out.known = [&spec](std::string_view app) { return spec.launchable(app).has_value(); };
  return out;
}

/// "10/m", "2/s", "100/h", "0" (no limit) as a token bucket whose burst is the count.
launch::Rate parse_rate(const std::string& text, std::string_view flag) {
  if (text == "0") {
    return {};
  }
  std::size_t slash = text.find('/');
  int count = 0;
  const char* end = text.data() + (slash == std::string::npos ? text.size() : slash);
  auto [ptr, ec] = std::from_chars(text.data(), end, count);
  double seconds = 0;
  if (slash != std::string::npos && slash + 2 == text.size()) {
    char unit = text[slash + 1];
    seconds = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 0;
  }
  if (ec != std::errc() || ptr != end || count <= 0 || seconds == 0) {
    throw Error(ErrorKind::usage,
                fmt::format("{} {}: expected COUNT/s, COUNT/m or COUNT/h (\"10/m\"), or 0 for no "
                            "limit",
                            flag, herald::quoted(text)));
  }
  return launch::Rate{count / seconds, count};
}

/// Everything launching needs, opened for one start: a scheduler and a registry of its own (the
/// launcher starts several apps at once; neither is shared between threads).
cluster::LaunchResult launch_one(const cluster::ClusterSpec& spec, const std::string& app,
                                 const cli::GlobalOptions& global, milliseconds timeout,
                                 const StopToken& stop, bool check_registrator) {
  auto sched = scheduler::open(cluster_scheduler_options(&spec, &stop));
  auto registry = cluster_registry(global, &spec).open(stop);
  if (check_registrator) {
    require_registrator(spec, *sched, *registry);
  }
  cluster::RegistryRoutes routes(*registry, spec.registry.prefix);
  cluster::ApplyOptions options;
  options.timeout = timeout;
  options.stop = &stop;
  options.progress = [](const InstanceName& name, const std::string& what) {
    spdlog::info("{}: {}", name.str(), escape_control(what));
  };
  return cluster::launch_app(spec, app, *sched, routes, options);
}

/// "APP@INSTANCE", or "APP" for the single-key layout.
std::string route_name(const registry::Instance& route) {
  return route.instance.empty() ? route.app : route.app + "@" + route.instance;
}

/// One policy refusal as the operator reads it.
std::string refusal(const std::string& app, const launch::Decision& decision,
                    const std::string& file) {
  switch (decision.reason) {
  case launch::Reason::bad_name:
    return fmt::format("{} is no valid app name (a DNS label: a-z, 0-9 and '-')",
                       herald::quoted(app));
  case launch::Reason::not_allowed:
    return fmt::format("{} is not allowed: no pattern of launch.allow in {} or --allow matches "
                       "it, and no app of the file is marked on_demand under that name",
                       herald::quoted(app), file);
  case launch::Reason::denied:
    return fmt::format("{} is denied: {}", herald::quoted(app), escape_control(decision.detail));
  case launch::Reason::policy_cmd:
    return fmt::format("{} is refused by the policy command: {}", herald::quoted(app),
                       escape_control(decision.detail));
  default:
    return fmt::format("{} is refused: {}", herald::quoted(app), escape_control(decision.detail));
  }
}

int run_launch(const LaunchFlags& flags, const cli::GlobalOptions& global) {
  cli::Printer printer = make_printer(
      flags.list, {{"instance", "INSTANCE"}, {"address", "ADDRESS"}, {"state", "STATE"}});
  milliseconds timeout = parse_duration(flags.timeout, "--timeout");
  cluster::ClusterSpec spec = cluster::load_cluster_file(flags.file);
  std::string app = flags.app;
  if (app.find('@') != std::string::npos) {
    app = parse_instance_name(flags.app).app;
  }
  launch::PolicyOptions rules = policy_options(spec, flags.policy);
  rules.known = nullptr; // a name the file cannot make is its own error below (exit 2)
  launch::Policy policy(rules);
  launch::Decision decision = policy.check(app);
  if (!decision.allowed) {
    throw Error(ErrorKind::failed, refusal(app, decision, flags.file));
  }
  if (!spec.launchable(app)) {
    throw Error(ErrorKind::usage,
                fmt::format("{} has no app {} to launch: mark an app on_demand: true, or add a "
                            "template such as name: \"{{name}}\" (herald-cluster(5))",
                            flags.file, herald::quoted(app)));
  }
  StopToken stop;
  install_stop_signals(stop);
  cluster::LaunchResult result;
  if (flags.no_wait) {
    // Handed to the scheduler, not waited for: the registry will say when it serves.
    auto sched = scheduler::open(cluster_scheduler_options(&spec, &stop));
    auto registry = cluster_registry(global, &spec).open(stop);
    require_registrator(spec, *sched, *registry);
    cluster::RegistryRoutes routes(*registry, spec.registry.prefix);
    cluster::ApplyOptions options;
    options.stop = &stop;
    result = cluster::launch_app(spec, flags.app, *sched, routes, options, false);
  } else {
    result = launch_one(spec, flags.app, global, timeout, stop, true);
  }
  spdlog::info("{}: {}", result.app,
               result.already  ? std::string("already running")
               : flags.no_wait ? std::string("started, not waited for")
                               : fmt::format("launched ({} instance(s) started)", result.started));
  printer.print(
      [&](cli::Table& table) {
        for (const registry::Instance& route : result.routes) {
          table.add_row({route_name(route), route.address ? route.address->str() : "",
                         result.already ? "running" : "launched"});
        }
      },
      [&](cli::JsonWriter& json) {
        json.begin_object();
        json.key("app");
        json.string(result.app);
        json.key("already_running");
        json.boolean(result.already);
        json.key("started");
        json.number(static_cast<std::int64_t>(result.started));
        json.key("waited");
        json.boolean(!flags.no_wait);
        json.key("instances");
        json.begin_array();
        for (const registry::Instance& route : result.routes) {
          json.begin_object();
          json.key("instance");
          json.string(route_name(route));
          json.key("address");
          json.string(route.address ? route.address->str() : "");
          json.end_object();
        }
        json.end_array();
        json.end_object();
      });
  return 0;
}

/// The registry's view of which apps are routable, read at most once a second (a flood of
/// requests for one app reads it once) over a connection of its own.
class RoutableCache {
public:
  RoutableCache(registry::Opener opener, std::string prefix, const StopToken& stop)
      : m_opener(std::move(opener)), m_prefix(std::move(prefix)), m_stop(stop) {}

  std::optional<std::string> operator()(const std::string& app) {
    std::lock_guard lock(m_mutex);
    auto now = std::chrono::steady_clock::now();
    auto it = m_seen.find(app);
    if (it != m_seen.end() && now - it->second.at < std::chrono::seconds(1)) {
      return it->second.address;
    }
    std::optional<std::string> address;
    try {
      if (!m_registry) {
        m_registry = m_opener.open(m_stop);
      }
      cluster::RegistryRoutes routes(*m_registry, m_prefix);
      for (const registry::Instance& route : routes.routable(app)) {
        address = route.address->str();
        break;
      }
    } catch (const Error& e) {
      m_registry.reset(); // opened again next time
      spdlog::debug("launcher: reading {}'s routes: {}", app, e.what());
    }
    if (m_seen.size() > 4096) {
      m_seen.clear();
    }
    m_seen[app] = Seen{now, address};
    return address;
  }

private:
  struct Seen {
    std::chrono::steady_clock::time_point at;
    std::optional<std::string> address;
  };
  registry::Opener m_opener;
  std::string m_prefix;
  const StopToken& m_stop;
  std::mutex m_mutex;
  std::unique_ptr<registry::Registry> m_registry;
  std::map<std::string, Seen> m_seen;
};

/// --idle-stop: every few seconds, the apps the router's access log shows requests for are
/// marked used; an app started on demand (any that runs, also one an earlier launcher or
/// `herald launch` started) without a request for the idle time is taken away as `cluster down
/// APP` does, and forgotten by the launcher, so the next request starts it again.
void reap_idle(const cluster::ClusterSpec& spec, const cli::GlobalOptions& global,
               launch::AccessLog& log, milliseconds idle, launch::Flights& flights,
               const StopToken& stop) {
  launch::IdleTracker tracker(idle);
  const milliseconds tick =
      std::clamp<milliseconds>(idle / 4, milliseconds(500), std::chrono::seconds(30));
  while (!stop.wait_for(tick)) {
    try {
      auto now = std::chrono::steady_clock::now();
      for (const std::string& app : log.read_new()) {
        tracker.seen(app, now);
      }
      auto sched = scheduler::open(cluster_scheduler_options(&spec, &stop));
      std::vector<std::string> running;
      for (const scheduler::Instance& instance : sched->list()) {
        if ((running.empty() || running.back() != instance.app) && spec.launchable(instance.app)) {
          running.push_back(instance.app);
        }
      }
      for (const std::string& app : tracker.idle(running, now)) {
        spdlog::info("{}: no request for {}: stopping it", app, format_duration(idle));
        auto registry = cluster_registry(global, &spec).open(stop);
        cluster::RegistryRoutes routes(*registry, spec.registry.prefix);
        cluster::ApplyOptions options;
        options.stop = &stop;
        int removed = cluster::stop_app(spec, app, *sched, routes, options);
        flights.forget(app);
        tracker.forget(app);
        spdlog::info("{}: stopped ({} instance(s) removed)", app, removed);
      }
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::cancelled) {
        return;
      }
      spdlog::warn("idle stop: {}", e.what());
    }
  }
}

int run_serve(const ServeFlags& flags, const cli::GlobalOptions& global) {
  cluster::ClusterSpec spec = cluster::load_cluster_file(flags.file);
  launch::PolicyOptions policy_opts = policy_options(spec, flags.policy);
  policy_opts.overall_rate = parse_rate(flags.rate, "--rate");
  policy_opts.client_rate = parse_rate(flags.client_rate, "--client-rate");
  launch::ServeOptions serve;
  serve.listen = flags.listen;
  if (flags.routing == "host") {
    serve.mode = launch::RoutingMode::host;
    if (flags.domain.empty()) {
      throw Error(ErrorKind::usage, "--routing host needs --domain (apps answer APP.DOMAIN)");
    }
    serve.domain = flags.domain;
  } else if (flags.routing != "path") {
    throw Error(ErrorKind::usage,
                fmt::format("--routing {}: expected path (/APP/) or host (APP.DOMAIN)",
                            herald::quoted(flags.routing)));
  }
  if (!flags.hold.empty()) {
    serve.hold = parse_duration(flags.hold, "--hold");
  }
  milliseconds timeout = parse_duration(flags.timeout, "--timeout");
  std::optional<milliseconds> idle;
  if (!flags.idle_stop.empty()) {
    idle = parse_duration(flags.idle_stop, "--idle-stop");
    if (flags.access_log.empty()) {
      throw Error(ErrorKind::usage, "--idle-stop needs --access-log FILE: the router's access "
                                    "log, as the bundled templates write it with "
                                    "HERALD_ACCESS_LOG set (herald-launch(1))");
    }
  } else if (!flags.access_log.empty()) {
    throw Error(ErrorKind::usage, "--access-log goes with --idle-stop DUR");
  }
  std::string node = flags.node.empty() ? default_node_name() : flags.node;
  if (auto problem = node_name_problem(node)) {
    throw Error(ErrorKind::usage,
                fmt::format("node name {} {}: pass --node NAME", herald::quoted(node), *problem));
  }
  announce::Timing timing = announce::resolve_timing(flags.ttl, "", true);
  launch::Policy policy(policy_opts);

  StopToken stop;
  install_stop_signals(stop);
  {
    // Nothing is served unless a registrator will register what is started.
    auto sched = scheduler::open(cluster_scheduler_options(&spec, &stop));
    auto registry = cluster_registry(global, &spec).open(stop);
    require_registrator(spec, *sched, *registry);
  }
  launch::Metrics metrics;
  launch::Flights flights(
      [&](const std::string& app, const StopToken& token) {
        cluster::LaunchResult result = launch_one(spec, app, global, timeout, token, false);
        return result.routes.empty() || !result.routes.front().address
                   ? std::string()
                   : result.routes.front().address->str();
      },
      launch::FlightOptions{});
  RoutableCache routable(cluster_registry(global, &spec), spec.registry.prefix, stop);
  launch::Server server(
      serve, policy, flights, [&](const std::string& app) { return routable(app); }, metrics);
  server.start();

  // Announced once it listens: PREFIX/herald-launcher/herald-launcher@NODE = the address the
  // routers reach it at.
  HostPort listen = flags.advertise.empty() ? parse_host_port(flags.listen, "--listen")
                                            : parse_host_port(flags.advertise, "--advertise");
  listen.port = server.port();
  if (listen.host.empty() || listen.host == "0.0.0.0" || listen.host == "::") {
    throw Error(ErrorKind::usage, fmt::format("--listen {} names no address the router can "
                                              "reach: pass --advertise HOST:PORT",
                                              flags.listen));
  }
  InstanceName name{k_launcher_app, node};
  announce::SidekickOptions sidekick_options;
  sidekick_options.refresh = timing.refresh;
  sidekick_options.registration =
      announce::make_registration(name, registry::instance_key(flags.announce_prefix, name), listen,
                                  registry::ValueFormat::hostport, {}, {}, timing.ttl);
  registry::Opener opener = cluster_registry(global, &spec);
  std::unique_ptr<registry::Registry> registry = opener.open(stop);
  announce::Sidekick sidekick(*registry, sidekick_options, stop);
  sidekick.set_cleanup(opener);
  std::thread announcer([&] {
    try {
      sidekick.run();
    } catch (const Error& e) {
      spdlog::error("launcher: announcing {}: {}", name.str(), e.what());
      stop.request();
    }
  });
  std::unique_ptr<launch::AccessLog> access_log;
  std::thread reaper;
  if (idle) {
    access_log = std::make_unique<launch::AccessLog>(flags.access_log, serve.mode, serve.domain);
    access_log->read_new(); // from here on
    reaper = std::thread([&] { reap_idle(spec, global, *access_log, *idle, flights, stop); });
  }
  spdlog::info("launcher for {} listening on {} ({} routing), announced as {} at {}", flags.file,
               listen.str(), flags.routing, name.str(), listen.str());
  server.run(stop);
  stop.request();
  announcer.join();
  if (reaper.joinable()) {
    reaper.join();
  }
  flights.stop();
  return 0;
}

constexpr const char* k_launch_footer =
    R"(Starts an app of the cluster file on demand, through the file's scheduler, and waits until
the router can see it (registered and passing its health check, as `herald route ls` shows).
The app is one the file marks on_demand: true, or a name a template fits (an app named
"{name}" or "pr-{name}", its image and env values made with the name); the file's launch:
section (allow, deny, policy_cmd) and --allow/--deny decide which names may be launched, and a
name none allows is refused (deny by default). An app already running: exit 0 at once.

Examples:
  herald launch blog -f cluster.yaml
      start blog (on_demand: true in the file) and print its address once it is routable
  herald launch pr-1234 --allow 'pr-*' -o json
      an app made from the template pr-{name}, allowed by a glob
  herald launch api@3 --no-wait
      start the instance api@3 and do not wait for it

Exit codes: 0 running (launched or already), 1 refused by the policy (the line names the rule)
or the app failed to start (its last log lines), 2 usage or no such app in the file,
65/78 bad cluster file or no registrator for a docker cluster, 69 scheduler or registry
unreachable, 130 interrupted. See herald-launch(1).)";

constexpr const char* k_serve_footer =
    R"(An HTTP server for the router's unknown apps: the bundled templates send a path (/APP/...) or
a host (APP.DOMAIN) no app claims to the launchers announced under /services/launchers, where this
one announces itself (herald-launcher@NODE). It takes the app's name from the path or the Host,
asks the policy (a strict DNS label, launch.allow/--allow, launch.deny/--deny, the policy
command, the cap on apps started on demand, --rate and --client-rate), and starts the app once
however many requests ask for it. Meanwhile a browser gets a waiting page that reloads itself
into the app, an API client 503 with Retry-After and a JSON body; with --hold the request waits
and gets 307 to the same URL once the app is up. A refused name gets nginx's plain 404. A failed
start gets an error page with a reference found in the log, and is not tried again before its
backoff. GET /healthz and /metrics (Prometheus text) serve the launcher itself.

Examples:
  herald launch serve -f /etc/herald/cluster.yaml --listen 127.0.0.1:8090
  herald launch serve --routing host --domain apps.example.com --allow 'pr-*' --hold 30s
  herald launch serve --policy-cmd /usr/local/bin/isavailable --max-apps 50

Stops on SIGTERM/SIGINT: deregisters itself and exits 0. Exit codes: 2 usage, 65/78 bad cluster
file or no registrator, 69 registry or scheduler unreachable, 78 the address cannot be bound.
See herald-launch(1).)";

void add_policy_flags(CLI::App* cmd, PolicyFlags& flags) {
  cmd->add_option("--allow", flags.allow,
                  "Names that may be launched: a name, a glob (pr-*) or a /regex/ (repeatable; "
                  "beside launch.allow)");
  cmd->add_option("--deny", flags.deny, "Names that may never be launched, in the same forms");
  cmd->add_option("--policy-cmd", flags.policy_cmd,
                  "A command asked about each new name (its argument; exit 0 allows; no shell)");
  cmd->add_option("--policy-timeout", flags.policy_timeout,
                  "How long the policy command may take (default launch.policy_timeout, 2s)");
  cmd->add_option("--max-apps", flags.max_apps,
                  "Apps started on demand that may exist at once, 0 = no cap (default "
                  "launch.max_apps, 20)");
}

} // namespace

std::vector<Command> add_launch(CLI::App& app, const cli::GlobalOptions& global) {
  auto flags = std::make_shared<LaunchFlags>();
  CLI::App* cmd = app.add_subcommand("launch", "Start an app of the cluster file on demand");
  cmd->footer(k_launch_footer);
  cmd->add_option("-f,--file", flags->file, "The cluster file (default ./cluster.yaml)")
      ->default_str(k_default_file);
  cmd->add_option("app", flags->app, "APP or APP@INSTANCE");
  cmd->add_flag("--no-wait", flags->no_wait, "Return once the scheduler took it");
  cmd->add_option("--timeout", flags->timeout,
                  "How long an instance may take to run and be routable (default 5m)")
      ->default_str("5m");
  add_policy_flags(cmd, flags->policy);
  add_list_options(*cmd, flags->list,
                   {{"instance", "INSTANCE"}, {"address", "ADDRESS"}, {"state", "STATE"}});

  auto serve = std::make_shared<ServeFlags>();
  CLI::App* serve_cmd =
      cmd->add_subcommand("serve", "Serve the router's unknown apps: start them on demand");
  serve_cmd->footer(k_serve_footer);
  serve_cmd->add_option("-f,--file", serve->file, "The cluster file (default ./cluster.yaml)")
      ->default_str(k_default_file);
  serve_cmd
      ->add_option("--listen", serve->listen, "HOST:PORT to listen on (default 127.0.0.1:8090)")
      ->default_str("127.0.0.1:8090");
  serve_cmd->add_option("--advertise", serve->advertise,
                        "HOST:PORT routers reach it at (default: --listen)");
  serve_cmd->add_option("--routing", serve->routing, "path (/APP/) or host (APP.DOMAIN)")
      ->default_str("path");
  serve_cmd->add_option("--domain", serve->domain, "Host routing: apps answer APP.DOMAIN");
  serve_cmd->add_option("--hold", serve->hold,
                        "Hold a request up to DUR and answer 307 once the app is up, instead of "
                        "the waiting page");
  serve_cmd
      ->add_option("--timeout", serve->timeout, "How long an app may take to start (default 5m)")
      ->default_str("5m");
  serve_cmd->add_option("--rate", serve->rate, "New launches overall: COUNT/s|m|h, 0 = no limit")
      ->default_str("10/m");
  serve_cmd
      ->add_option("--client-rate", serve->client_rate,
                   "New launches per client address: COUNT/s|m|h, 0 = no limit")
      ->default_str("3/m");
  serve_cmd->add_option("--node", serve->node,
                        "The name it announces itself under (default: the host name)");
  serve_cmd->add_option("--ttl", serve->ttl, "TTL of its announcement (default 30s)")
      ->default_str("30s");
  serve_cmd->add_option("--idle-stop", serve->idle_stop,
                        "Stop an app started on demand after DUR without a request (off by "
                        "default; needs --access-log)");
  serve_cmd->add_option("--access-log", serve->access_log,
                        "The router's access log in herald's format (HERALD_ACCESS_LOG of the "
                        "bundled templates), read for --idle-stop");
  serve_cmd
      ->add_option("--announce-prefix", serve->announce_prefix,
                   "Where it announces itself (default /services/launchers, where the bundled "
                   "templates look)")
      ->default_str(std::string(k_launcher_prefix));
  add_policy_flags(serve_cmd, serve->policy);
  // `launch APP` unless `serve` was given.
  cmd->require_subcommand(0, 1);
  std::vector<Command> all;
  all.push_back(Command{serve_cmd, [serve, &global] { return run_serve(*serve, global); }});
  all.push_back(Command{cmd, [flags, &global] {
                          if (flags->app.empty()) {
                            throw Error(ErrorKind::usage,
                                        "launch needs APP (or APP@INSTANCE), or 'serve'");
                          }
                          return run_launch(*flags, global);
                        }});
  return all;
}

} // namespace herald::commands
