#pragma once

// The cluster file as data: what should run (registry, scheduler, routers, apps, extra units),
// every value validated. herald-cluster(5) documents each key; cluster/load.hpp reads the YAML.

#include "herald/fleet/connection.hpp"
#include "herald/units/generate.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace herald::cluster {

/// Where a value was written: 1-based line and column in the cluster file (0 when built in code).
struct Position {
  int line = 0;
  int column = 0;
  friend bool operator==(const Position&, const Position&) = default;
};

/// `registry:`: where instances are announced.
struct RegistrySpec {
  /// "etcd://10.0.0.1:2379" (any --registry URL); "" leaves it to --registry, HERALD_REGISTRY
  /// and herald's default.
  std::string url;
  /// The key prefix instances live under; "" is herald's default (/services/web).
  std::string prefix;
};

/// Which scheduler runs the instances.
enum class SchedulerKind { docker, fleet };

/// `scheduler: {kind: docker}`: containers on one Docker engine.
struct DockerScheduler {
  /// The engine, as DOCKER_HOST spells it ("unix:///var/run/docker.sock", "tcp://h:2375").
  std::string endpoint = "unix:///var/run/docker.sock";
  /// The host address container ports are published on.
  std::string host_ip = "127.0.0.1";
};

/// `scheduler:`: the kind and its settings (only those of `kind` are meaningful).
struct SchedulerSpec {
  SchedulerKind kind = SchedulerKind::docker;
  DockerScheduler docker;
  /// fleet's connection as the fleet client takes it (endpoint, tunnel, strict host key
  /// checking, known hosts file, ssh and request timeouts); endpoint_source names the key's
  /// position in the file.
  fleet::ConnectionSettings fleet;
};

/// The bundled router templates (nginx-host, nginx-path, haproxy), as `unit gen router` has them.
using units::RouterKind;

/// One entry of `routers:`.
struct RouterSpec {
  std::string name = "herald-router"; ///< NAME.service (and NAME-render.service)
  RouterKind kind = RouterKind::nginx_host;
  std::string listen; ///< "80", "*:80"; "" = the kind's default (nginx 80, haproxy *:80)
  std::string domain; ///< host routing serves APP.DOMAIN; "" = the registry's /services/domain
  std::string config_template;       ///< a path on the machines; "" = the bundled KIND.tmpl
  bool global = false;               ///< one on every machine (fleet only)
  int instances = 1;                 ///< when not global
  std::vector<std::string> metadata; ///< machines it may run on: "role=edge"
  Position position;
};

/// How the routers reach an app.
enum class Routing { host, path, none };

/// `health:` of an app: the HTTP check its sidekick runs before announcing an instance.
struct HealthCheck {
  std::string path; ///< "/health"; "" = no check (an instance is announced once it runs)
  std::chrono::milliseconds interval{2000};
  std::chrono::milliseconds timeout{1000};
  int rise = 2; ///< consecutive passes before it is announced again
  int fall = 3; ///< consecutive failures before it is withdrawn
  friend bool operator==(const HealthCheck&, const HealthCheck&) = default;
};

/// `placement:` of an app (fleet only).
struct Placement {
  bool spread = false;               ///< at most one instance per machine (X-Fleet Conflicts)
  std::vector<std::string> metadata; ///< machines it may run on: "KEY=VALUE"
  friend bool operator==(const Placement&, const Placement&) = default;
};

/// A count or a percentage of the desired instances (`max_surge: 1`, `max_unavailable: 25%`).
struct Quantity {
  int value = 0;
  bool percent = false;

  /// The count for `instances` desired: a percentage rounds up when `round_up` (surge) and
  /// down otherwise (unavailable), as Kubernetes does.
  int resolve(int instances, bool round_up) const;
  /// "1", "25%".
  std::string str() const;
  friend bool operator==(const Quantity&, const Quantity&) = default;
};

/// `update:` of an app: how a rolling replacement proceeds.
struct UpdatePolicy {
  Quantity max_unavailable{0, false}; ///< old instances withdrawn before their replacement is up
  Quantity max_surge{1, false};       ///< new instances started beyond the desired count
  std::chrono::milliseconds min_ready{0}; ///< a new instance must stay healthy this long
  std::chrono::milliseconds drain{std::chrono::seconds(5)}; ///< withdrawn -> stopped
  friend bool operator==(const UpdatePolicy&, const UpdatePolicy&) = default;
};

/// One entry of `env_files:`, read when the cluster file is loaded.
struct EnvFile {
  std::string path;     ///< as written in the cluster file
  std::string resolved; ///< relative to the cluster file's directory
  /// Its variables in order (docker's --env-file format; every name has a value).
  std::vector<std::pair<std::string, std::string>> vars;
};

/// One entry of `apps:`.
struct AppSpec {
  std::string name;   ///< a DNS label: "web"
  std::string image;  ///< a Docker reference: "registry.example.com/web:v2"
  std::uint16_t port; ///< the port the app listens on in its container
  int instances = 1;
  Routing routing = Routing::host;
  std::vector<std::string> aliases; ///< more host names (host routing)
  /// `env:` in file order.
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<EnvFile> env_files;
  HealthCheck health;
  Placement placement;
  UpdatePolicy update;
  /// Started on demand (`herald launch`, the launcher), never by `cluster up`, which only keeps
  /// the instances it finds up to date. Always true for a template.
  bool on_demand = false;
  Position position;

  /// True when the name is a pattern holding `{name}` ("{name}", "pr-{name}"): any app whose
  /// name fits it (and the launch policy allows) can be launched from it.
  bool is_template() const;
  /// The app `app_name` made from this template: `{name}` in the name, image and env values
  /// replaced by the part of `app_name` the pattern leaves; nullopt when it does not fit (the
  /// part is empty or the result is no valid app name). A plain app: itself when the names
  /// are equal.
  std::optional<AppSpec> instantiate(std::string_view app_name) const;
  /// The environment an instance gets: the env files in order, then `env:`; a name set twice
  /// keeps its first place and its last value (as `docker run --env-file ... -e` does).
  std::vector<std::pair<std::string, std::string>> environment() const;
  /// "/web/" for path routing.
  std::string route_path() const { return "/" + name + "/"; }
};

/// `launch:`: which apps `herald launch` and the launcher may start on demand (deny by
/// default: an app of the file marked on_demand, or a name a template fits that `allow` lists).
struct LaunchSpec {
  std::vector<std::string> allow;      ///< exact names, globs (* ? [..]) or /regex/
  std::vector<std::string> deny;       ///< the same forms; deny wins
  std::vector<std::string> policy_cmd; ///< argv of a hook asked for each new name (exit 0: yes)
  std::chrono::milliseconds policy_timeout{2000};
  int max_apps = 20; ///< apps started on demand that may exist at once; 0 = no cap
  Position position;
};

/// One entry of `units:`: a plain unit file run as it is.
struct ExtraUnit {
  std::string name; ///< "registry.service"
  std::string text; ///< the unit file
  std::string file; ///< the path it was read from, as written; "" when given inline
  bool global = false;
  Position position;
};

/// A whole cluster file.
struct ClusterSpec {
  std::string source; ///< the file name given to the parser, for messages
  RegistrySpec registry;
  SchedulerSpec scheduler;
  std::vector<RouterSpec> routers;
  std::vector<AppSpec> apps;
  std::vector<ExtraUnit> units;
  LaunchSpec launch;

  /// The app called `name`, or nullptr (templates are never found by name).
  const AppSpec* app(std::string_view name) const;
  /// The app `name` as `herald launch` would start it: the file's app of that name when it is
  /// on_demand, else the first template it fits; nullopt otherwise (also for an app `cluster up`
  /// runs). The launch policy is not asked here.
  std::optional<AppSpec> launchable(std::string_view name) const;
  /// This file as `cluster up/plan/status` apply it to what runs (`existing`): templates are
  /// gone, an on_demand app stays only while an instance of it exists, and an app that exists,
  /// is not in the file and fits a template is added, made from it, so its instances are kept
  /// up to date instead of pruned.
  ClusterSpec with_on_demand(const std::vector<std::string>& existing_apps) const;
};

using units::to_string;
/// "host", "path", "none".
std::string_view to_string(Routing routing);
/// "docker", "fleet".
std::string_view to_string(SchedulerKind kind);

} // namespace herald::cluster
