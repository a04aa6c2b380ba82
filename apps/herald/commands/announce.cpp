// herald announce APP@INSTANCE: the sidekick. Parses flags into AnnounceOptions, validates every
// input before touching the registry, then hands over to announce::Sidekick.
#include "commands/commands.hpp"
#include "herald/announce/address.hpp"
#include "herald/announce/container_sidekick.hpp"
#include "herald/announce/notify.hpp"
#include "herald/announce/probe.hpp"
#include "herald/announce/registration.hpp"
#include "herald/announce/registrator.hpp"
#include "herald/announce/sidekick.hpp"
#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/core/strings.hpp"
#include "herald/docker/client.hpp"
#include "herald/registry/layout.hpp"

#include <fmt/format.h>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace herald::commands {

namespace {

/// Flags of `herald announce`, as typed.
struct AnnounceOptions {
  std::string name;
  announce::AddressInput address;
  announce::KeyInput key;
  std::string value_format = "hostport";
  std::vector<std::string> tags;
  std::vector<std::string> meta;
  std::string ttl = "60s";
  std::string refresh;
  bool once = false;
  std::string check_http;
  std::string check_tcp;
  std::string check_interval = "2s";
  std::string check_timeout = "1s";
  int rise = 2;
  int fall = 3;
  std::string docker;         ///< --docker CONTAINER
  std::string container_port; ///< --container-port
  bool follow = false;
  bool docker_events = false; ///< registrator mode
  std::string node;           ///< --node, owner of registrator-mode registrations
};

/// --rise and --fall beyond this would take hours to act at any sane --check-interval.
constexpr int k_max_rise_fall = 1000;

constexpr const char* k_footer = R"(Examples:
  herald announce web@1 --port 3000
      keep /services/web/web/web@1 = $COREOS_PRIVATE_IPV4:3000 alive (ttl 60s, refresh 20s)
  herald announce web@1 --docker web-1 --container-port 3000 --follow
      announce the host port Docker published for the container's port 3000, follow restarts
  herald announce --docker-events
      registrator mode: register every container with SERVICE_NAME or a herald.service label
  herald announce api@2 --addr 10.0.0.7:8080 --check-http http://127.0.0.1:8080/health
      announce only while the health check passes
  herald --registry etcd2://10.0.0.1:2379 announce web@1 --port 3000 --key '/services/clusters/{app}' --once
      write the single-key layout once, with its TTL, and exit

Stops on SIGTERM/SIGINT: deregisters and exits 0. See herald-announce(1).)";

int run_registrator(const AnnounceOptions& opts, const cli::GlobalOptions& global) {
  if (!opts.name.empty() || !opts.docker.empty() || !opts.address.addr.empty() ||
      !opts.address.port.empty() || !opts.key.key_template.empty() || opts.once ||
      !opts.check_http.empty() || !opts.check_tcp.empty()) {
    throw Error(ErrorKind::usage,
                "--docker-events registers every container that asks for it: drop APP@INSTANCE, "
                "--docker, --addr, --port, --key, --once and --check-*");
  }
  announce::RegistratorOptions options;
  options.node = opts.node.empty() ? default_node_name() : opts.node;
  if (node_name_problem(options.node)) {
    throw Error(ErrorKind::usage,
                fmt::format("invalid node name '{}': use letters, digits, '-', '_' and '.' "
                            "(pass --node NAME)",
                            options.node));
  }
  // resolve_key rejects a prefix without the leading '/' with the same message as announce's.
  announce::resolve_key(opts.key, InstanceName{"app", "instance"});
  options.prefix = opts.key.prefix;
  if (registry::mixes_with_registrators(options.prefix)) {
    throw Error(ErrorKind::usage,
                fmt::format("invalid --prefix {}: registrators announce themselves under {}, "
                            "which no instance prefix may hold or lie in; use one such as {}",
                            herald::quoted(options.prefix), registry::k_registrators_root,
                            registry::k_default_prefix));
  }
  options.format = registry::parse_value_format(opts.value_format);
  announce::check_tags(opts.tags);
  options.tags = opts.tags;
  announce::Timing timing = announce::resolve_timing(opts.ttl, opts.refresh);
  options.ttl = timing.ttl;
  options.refresh = timing.refresh;
  options.node_address = announce::node_address(opts.address.host);

  StopToken stop;
  install_stop_signals(stop);
  docker::ClientOptions docker_options;
  docker_options.stop = &stop;
  docker::Client docker = docker::open_client(docker_options);
  docker::Client events = docker::open_client(docker_options);

  registry::Opener opener = cli::registry_opener(global);
  std::unique_ptr<registry::Registry> registry = opener.open(stop);

  announce::Registrator registrator(*registry, docker, events, options, stop);
  registrator.set_cleanup(opener);
  announce::Notifier notifier;
  registrator.set_notifier(&notifier);
  registrator.run();
  return 0;
}

int run_announce(const AnnounceOptions& opts, const cli::GlobalOptions& global) {
  if (opts.docker_events) {
    return run_registrator(opts, global);
  }
  if (opts.name.empty()) {
    throw Error(ErrorKind::usage, "announce needs APP@INSTANCE (or --docker-events for "
                                  "registrator mode)");
  }
  if (opts.docker.empty() && (!opts.container_port.empty() || opts.follow)) {
    throw Error(ErrorKind::usage, "--container-port and --follow go with --docker CONTAINER");
  }
  // Everything the user typed is checked before the registry is opened: a bad flag never leaves
  // a half-written registration behind.
  InstanceName name = parse_instance_name(opts.name);
  std::string key = announce::resolve_key(opts.key, name);
  registry::ValueFormat format = registry::parse_value_format(opts.value_format);
  announce::Timing timing = announce::resolve_timing(opts.ttl, opts.refresh, !opts.once);
  auto meta = announce::parse_meta(opts.meta);
  announce::check_tags(opts.tags);
  announce::SidekickOptions sidekick_options;
  bool probing = !opts.check_http.empty() || !opts.check_tcp.empty();
  if (probing) {
    sidekick_options.probe = announce::parse_probe_settings(opts.check_interval, opts.check_timeout,
                                                            opts.rise, opts.fall);
  }
  StopToken stop;
  // A --check-http path ("/health") is checked at the announced address, known only later (from
  // the container, or from --host/COREOS_PRIVATE_IPV4); its form is checked here all the same.
  auto make_probe =
      [http = opts.check_http, tcp = opts.check_tcp, timeout = sidekick_options.probe.timeout](
          const HostPort& address, const StopToken* token) -> std::unique_ptr<announce::Probe> {
    if (!http.empty()) {
      return announce::make_http_probe(announce::check_url_for(http, address), timeout, token);
    }
    if (!tcp.empty()) {
      return announce::make_tcp_probe(tcp, timeout, token);
    }
    return nullptr;
  };
  make_probe(HostPort{"127.0.0.1", 80}, &stop);
  sidekick_options.refresh = timing.refresh;
  registry::Opener opener = cli::registry_opener(global);

  if (!opts.docker.empty()) {
    if (!opts.address.addr.empty() || !opts.address.port.empty()) {
      throw Error(ErrorKind::usage, "--docker reads the port from the container: drop --addr "
                                    "and --port (--host still names this node's address)");
    }
    announce::ContainerSidekickOptions container;
    container.container = opts.docker;
    container.container_port = opts.container_port;
    container.node_address = announce::node_address(opts.address.host);
    container.follow = opts.follow;
    container.once = opts.once;
    container.sidekick = sidekick_options;
    container.registration_for = [=](const HostPort& address) {
      return announce::make_registration(name, key, address, format, opts.tags, meta, timing.ttl);
    };
    container.registry = opener;
    if (probing) {
      container.make_probe = [make_probe](const HostPort& address, const StopToken& generation) {
        return make_probe(address, &generation);
      };
    }
    install_stop_signals(stop);
    docker::ClientOptions docker_options;
    docker_options.stop = &stop;
    docker::Client docker = docker::open_client(docker_options);
    docker::Client events = docker::open_client(docker_options);
    announce::Notifier notifier;
    announce::ContainerSidekick sidekick(docker, events, std::move(container), stop, &notifier);
    sidekick.check();
    sidekick.run();
    return 0;
  }

  HostPort address = announce::resolve_address(opts.address, name);
  std::unique_ptr<announce::Probe> probe = make_probe(address, &stop);
  sidekick_options.registration =
      announce::make_registration(name, key, address, format, opts.tags, meta, timing.ttl);
  install_stop_signals(stop);

  std::unique_ptr<registry::Registry> registry = opener.open(stop);

  announce::Sidekick sidekick(*registry, sidekick_options, stop);
  sidekick.set_probe(std::move(probe));
  if (opts.once) {
    sidekick.register_once();
    return 0;
  }

  // The deregistration on stop runs after the token fired, so it needs a registry of its own
  // with short timeouts: systemd's stop timeout must never be the one that ends us.
  sidekick.set_cleanup(opener);
  announce::Notifier notifier;
  sidekick.set_notifier(&notifier);
  sidekick.run();
  return 0;
}

} // namespace

Command add_announce(CLI::App& app, const cli::GlobalOptions& global) {
  auto opts = std::make_shared<AnnounceOptions>();
  CLI::App* cmd = app.add_subcommand(
      "announce", "Register APP@INSTANCE in the registry and keep it registered until stopped");
  cmd->footer(k_footer);
  cmd->add_option("name", opts->name,
                  "The instance, as systemd names it: APP@INSTANCE (%p@%i); "
                  "omitted with --docker-events");

  auto* where = "Address (one of --addr, or --port with a host)";
  auto* addr = cmd->add_option("--addr", opts->address.addr, "HOST:PORT to announce")->group(where);
  auto* port =
      cmd->add_option("--port", opts->address.port,
                      "Port to announce; the host comes from --host, COREOS_PRIVATE_IPV4 or "
                      "/etc/environment")
          ->group(where);
  auto* host =
      cmd->add_option("--host", opts->address.host, "Host to announce with --port")->group(where);
  addr->excludes(port)->excludes(host);

  auto* docker = "Docker (the address comes from a container's published port)";
  auto* container =
      cmd->add_option("--docker", opts->docker,
                      "Announce the host port this container (name or id) publishes; waits for "
                      "it to run, withdraws when it stops [env DOCKER_HOST]")
          ->group(docker);
  container->excludes(addr)->excludes(port);
  cmd->add_option("--container-port", opts->container_port,
                  "The container's port to announce (3000, 53/udp); default: the one port it "
                  "publishes")
      ->group(docker);
  cmd->add_flag("--follow", opts->follow,
                "After the container stops, wait for it to run again instead of exiting")
      ->group(docker);
  auto* events =
      cmd->add_flag("--docker-events", opts->docker_events,
                    "Registrator mode: register every container of this node that asks for it "
                    "(SERVICE_NAME, herald.service, ...) until it stops")
          ->group(docker);
  events->excludes(container)->excludes(addr)->excludes(port);
  cmd->add_option("--node", opts->node,
                  "With --docker-events: this node's name, the start of every instance ID and "
                  "the owner of the registrations (default: the host name)")
      ->needs(events)
      ->group(docker);

  auto* keys = "Key and value";
  auto* prefix = cmd->add_option("--prefix", opts->key.prefix,
                                 "Key prefix: the key is PREFIX/APP/APP@INSTANCE")
                     ->default_str("/services/web")
                     ->group(keys);
  cmd->add_option("--key", opts->key.key_template,
                  "Key template instead of the prefix layout: {app}, {instance}, {name}, e.g. "
                  "/services/clusters/{app} (TLS client key: give the global --key before "
                  "'announce')")
      ->excludes(prefix)
      ->group(keys);
  cmd->add_option("--value", opts->value_format,
                  "hostport (10.0.0.5:3000, what confd templates expect) or json "
                  "({\"host\",\"port\",\"tags\",\"meta\"})")
      ->default_str("hostport")
      ->group(keys);
  cmd->add_option("--tag", opts->tags, "A tag (repeatable); stored with --value json")
      ->allow_extra_args(false)
      ->group(keys);
  cmd->add_option("--meta", opts->meta, "KEY=VALUE metadata (repeatable); stored with --value json")
      ->allow_extra_args(false)
      ->group(keys);

  auto* life = "Lifetime";
  cmd->add_option("--ttl", opts->ttl, "Time to live of the key, whole seconds")
      ->default_str("60s")
      ->group(life);
  cmd->add_option("--refresh", opts->refresh, "Keep-alive period, shorter than --ttl")
      ->default_str("a third of --ttl")
      ->group(life);
  cmd->add_flag("--once", opts->once, "Register once with the TTL and exit (no keep-alive)")
      ->group(life);

  auto* health = "Health check (the key is withdrawn while it fails)";
  auto* http =
      cmd->add_option("--check-http", opts->check_http,
                      "GET this http(s) URL, or this path (/health) at the announced address; "
                      "2xx and 3xx pass")
          ->group(health);
  auto* tcp =
      cmd->add_option("--check-tcp", opts->check_tcp, "Connect to this HOST:PORT")->group(health);
  http->excludes(tcp);
  cmd->add_option("--check-interval", opts->check_interval, "Time between checks")
      ->default_str("2s")
      ->group(health);
  cmd->add_option("--check-timeout", opts->check_timeout, "Time one check may take")
      ->default_str("1s")
      ->group(health);
  cmd->add_option("--rise", opts->rise, "Consecutive passes that restore a withdrawn instance")
      ->default_str("2")
      ->check(CLI::Range(1, k_max_rise_fall))
      ->group(health);
  cmd->add_option("--fall", opts->fall, "Consecutive failures that withdraw it")
      ->default_str("3")
      ->check(CLI::Range(1, k_max_rise_fall))
      ->group(health);

  return Command{cmd, [opts, &global] { return run_announce(*opts, global); }};
}

std::string default_node_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    throw Error(ErrorKind::config, "cannot read this machine's host name: pass --node NAME");
  }
  return host;
}

} // namespace herald::commands
