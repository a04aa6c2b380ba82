#pragma once

// Units generated from unit_templates/: an app's instance template and its discovery sidekick,
// a router (nginx or haproxy kept in step with the registry by `herald render --watch`), and the
// on-demand launcher. Every value is validated before it reaches a template; free text (env
// values) reaches it already quoted and specifier-escaped.

#include "herald/units/unit_templates.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace herald::units {

/// A unit ready to be written.
struct GeneratedUnit {
  std::string name; ///< "web@.service"
  std::string text; ///< the unit file
};

/// Where the programs the units run live on the machines that run them.
struct HostPaths {
  std::string herald;   ///< default: where `cmake --install` put this build (k_installed_herald)
  std::string data_dir; ///< herald's shared files (router templates); default k_installed_data_dir
  std::string docker = "/usr/bin/docker";
  std::string nginx = "/usr/sbin/nginx";
  std::string haproxy = "/usr/sbin/haproxy";

  /// The defaults of this build.
  static HostPaths installed();
};

/// `herald unit gen APP`: an app in Docker, one container per instance, and its sidekick.
struct AppSpec {
  std::string app;                                ///< "web": APP@.service
  std::string image;                              ///< "" writes the sidekick alone
  std::uint16_t port = 0;                         ///< the container's port
  std::optional<std::uint16_t> host_port;         ///< fixed host port; default: Docker picks
  std::string host_ip = "${COREOS_PRIVATE_IPV4}"; ///< the address Docker publishes on
  std::string domain;                             ///< host routing: APP.DOMAIN
  std::string path;                               ///< path routing: /P/
  /// The container's environment in order; a name given twice keeps its first place and its last
  /// value (as `docker run -e` does).
  std::vector<std::pair<std::string, std::string>> env;
  bool conflicts = false;                 ///< one instance per machine (implied by host_port)
  std::string machine_of;                 ///< X-Fleet MachineOf of the app's instances
  std::vector<std::string> metadata;      ///< X-Fleet MachineMetadata "key=value"
  std::string health_path;                ///< "/health": checked before announcing
  std::chrono::seconds pull_timeout{300}; ///< for `docker pull`
};

/// The router kinds: the bundled router templates of templates/.
enum class RouterKind { nginx_host, nginx_path, haproxy };

/// `herald unit gen router`: a Global router and the render unit that keeps its config current.
struct RouterSpec {
  RouterKind kind = RouterKind::nginx_host;
  std::string name = "herald-router"; ///< NAME.service and NAME-render.service
  std::string listen;                 ///< nginx: listen (80), haproxy: bind (*:80); "" = default
  std::string domain;                 ///< HERALD_DOMAIN for host routing; "" = registry's
  std::vector<std::string> metadata;  ///< X-Fleet MachineMetadata "key=value"
  std::string config_template;        ///< on the machines; default DATA_DIR/templates/KIND.tmpl
  std::string dest;                   ///< the rendered config; default per kind
  /// Where the apps are (HERALD_ROUTES_PREFIX of the bundled templates): /services/web's
  /// PREFIX/APP/APP@N or the single-key PREFIX/APP such as /services/clusters; "" = /services/web.
  std::string routes_prefix;
};

/// Where the on-demand launchers (`herald launch serve`) announce themselves: the router's render
/// unit watches it beside the apps, and the bundled templates send unknown apps there.
inline constexpr std::string_view k_launchers_prefix = "/services/launchers";

/// `herald unit gen launcher`: a Global `herald launch serve`.
struct LauncherSpec {
  std::string name = "herald-launcher";
  std::string cluster_file = "/etc/herald/cluster.yaml"; ///< on the machines
  std::string listen = "127.0.0.1:8090";
  std::vector<std::string> metadata;
};

/// `herald unit gen registrator`: `herald announce --docker-events` on every machine, after
/// docker.service, registering the machine's containers and announcing itself (what
/// `herald cluster up` on the docker scheduler looks for).
struct RegistratorSpec {
  std::string name = "herald-registrator";
  /// Passed as --registry ("etcd://10.0.0.1:2379"); "" leaves the registry to
  /// /etc/herald/environment.
  std::string registry;
  std::string prefix = "/services/web"; ///< where it registers (--prefix)
  std::string node;                     ///< --node; "" = the machine's host name
  std::string host;                     ///< --host for ports published on every interface
  std::chrono::seconds ttl{60};         ///< --ttl of its registrations and of its presence
  std::vector<std::string> metadata;    ///< X-Fleet MachineMetadata "key=value"
};

/// "nginx-host", "nginx-path" or "haproxy"; Error(usage) for anything else, listing them.
RouterKind parse_router_kind(std::string_view text);

/// The name of `kind` as parse_router_kind() reads it.
std::string_view to_string(RouterKind kind);

/// Reads KEY=VALUE pairs in the format of `docker run --env-file`: one per line, '#' comments
/// and blank lines skipped, no quote processing; a line with a name alone takes the value from
/// `lookup` (the environment) and is skipped when unset. Error(usage) naming `source` and the
/// line for a bad name.
std::vector<std::pair<std::string, std::string>>
parse_env_file(std::string_view text, std::string_view source,
               const std::function<std::optional<std::string>(const std::string&)>& lookup);

/// parse_env_file() of the file at `path`, names without a value looked up in herald's own
/// environment. Error(usage) when it does not exist.
std::vector<std::pair<std::string, std::string>> load_env_file(const std::string& path);

/// Sets `name` to `value` in `env`: a name set twice keeps its first place and its last value,
/// as `docker run -e` does.
void assign_env(std::vector<std::pair<std::string, std::string>>& env, const std::string& name,
                const std::string& value);

/// Splits "KEY=VALUE" (--env); Error(usage) for a missing '=' or a bad name.
std::pair<std::string, std::string> parse_env_assignment(std::string_view text);

/// APP@.service (unless spec.image is empty) and APP-discovery@.service. Error(usage) naming the
/// field for invalid input: an app name that is no DNS label ([a-z0-9-], at most 63), an image
/// that is no Docker reference, port 0, a domain that is no DNS name, a path not made of
/// [A-Za-z0-9._~/-] starting with '/', both domain and path, a health path that is no such path,
/// a MachineOf that is no unit name, metadata not key=value, a host IP that is neither an IP
/// literal nor ${VARIABLE}, a bad HostPaths entry.
std::vector<GeneratedUnit> generate_app(const AppSpec& spec, const UnitTemplates& templates,
                                        const HostPaths& paths);

/// NAME.service (the router in the foreground, Global) and NAME-render.service (herald render
/// --watch with the kind's check and reload commands, Global, part of the router).
std::vector<GeneratedUnit> generate_router(const RouterSpec& spec, const UnitTemplates& templates,
                                           const HostPaths& paths);

/// NAME.service running `herald launch serve`, Global.
std::vector<GeneratedUnit>
generate_launcher(const LauncherSpec& spec, const UnitTemplates& templates, const HostPaths& paths);

/// NAME.service running `herald announce --docker-events`, Global. Error(usage) naming the field
/// for a name that is no unit name, a prefix that does not start with '/' or mixes with the
/// registrators' own keys (registry/layout.hpp), a node that is no node name, a host that is
/// neither an IP literal nor a DNS name, a TTL under 2s, bad metadata; Error(config) for a
/// registry URL of no known scheme.
std::vector<GeneratedUnit> generate_registrator(const RegistratorSpec& spec,
                                                const UnitTemplates& templates,
                                                const HostPaths& paths);

} // namespace herald::units
