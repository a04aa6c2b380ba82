#include "herald/units/generate.hpp"

#include "herald/core/address.hpp"
#include "herald/core/error.hpp"
#include "herald/core/file.hpp"
#include "herald/core/name.hpp"
#include "herald/core/strings.hpp"
#include "herald/install_paths.hpp"
#include "herald/registry/layout.hpp"
#include "herald/registry/registry.hpp"
#include "herald/units/checks.hpp"
#include "herald/units/quote.hpp"
#include "herald/units/unit_name.hpp"
#include "herald/version.hpp"

#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>

namespace herald::units {

namespace {

using tmpl::Entries;
using tmpl::Value;

[[noreturn]] void invalid(std::string_view what, std::string_view value, std::string_view rule) {
  throw Error(ErrorKind::usage, fmt::format("invalid {} {}: {}", what, quoted(value), rule));
}

void check(std::string_view what, std::string_view value,
           const std::optional<std::string>& problem) {
  if (problem) {
    invalid(what, value, *problem);
  }
}

/// A unit name without its ".service" and without '@' (no template): "herald-launcher".
void check_plain_unit_name(std::string_view what, const std::string& name,
                           std::string_view example) {
  if (!is_valid_unit_name(name + ".service") || name.find('@') != std::string::npos) {
    invalid(what, name,
            fmt::format("expected a unit name without its .service, such as {}", example));
  }
}

void check_host_path(std::string_view what, std::string_view path) {
  check(what, path, host_path_problem(path));
}

/// A registry prefix where instances are: starts with '/', plain key text, away from the keys
/// registrators and launchers announce themselves under.
void check_prefix(std::string_view what, const std::string& prefix) {
  check(what, prefix, key_text_problem(prefix));
  if (prefix.empty() || prefix.front() != '/') {
    invalid(what, prefix, "a prefix starts with '/', such as /services/web");
  }
  if (registry::mixes_with_registrators(prefix)) {
    invalid(what, prefix,
            fmt::format("registrators announce themselves under {}, which no instance prefix "
                        "may hold or lie in",
                        registry::k_registrators_root));
  }
  std::string_view launchers = k_launchers_prefix;
  std::string_view trimmed = prefix;
  while (trimmed.size() > 1 && trimmed.back() == '/') {
    trimmed.remove_suffix(1);
  }
  bool inside = trimmed.starts_with(launchers) &&
                (trimmed.size() == launchers.size() || trimmed[launchers.size()] == '/');
  bool above =
      trimmed == "/" || (launchers.starts_with(trimmed) && launchers.size() > trimmed.size() &&
                         launchers[trimmed.size()] == '/');
  if (inside || above) {
    invalid(what, prefix,
            fmt::format("the launchers announce themselves under {}, which no app's prefix may "
                        "hold or lie in (it would route the launchers as an app)",
                        launchers));
  }
}

std::vector<std::string> checked_metadata(const std::vector<std::string>& metadata) {
  for (const std::string& item : metadata) {
    check("metadata", item, metadata_problem(item));
  }
  return metadata;
}

void check_paths(const HostPaths& paths) {
  check_host_path("herald path", paths.herald);
  check_host_path("docker path", paths.docker);
  check_host_path("nginx path", paths.nginx);
  check_host_path("haproxy path", paths.haproxy);
  check_host_path("data directory", paths.data_dir);
}

Value strings(const std::vector<std::string>& items) {
  return Value::strings(items);
}

/// The environment as templates see it: [{Name, Value, Word}], Word being the quoted
/// Environment= word.
Value environment(const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<Value> items;
  for (const auto& [name, value] : env) {
    items.push_back(
        Value::record("units.EnvVar", Entries{{"Name", Value(name)},
                                              {"Value", Value(value)},
                                              {"Word", environment_word(name, value)}}));
  }
  return Value::list(std::move(items), "[]units.EnvVar");
}

GeneratedUnit render(const UnitTemplates& templates, std::string_view template_name,
                     std::string unit_name, Entries fields, std::string_view type) {
  fields.emplace_back("Unit", Value(unit_name));
  fields.emplace_back("Version", Value(k_version));
  std::string text =
      templates.render(template_name, Value::record(std::string(type), fields), unit_name);
  return GeneratedUnit{std::move(unit_name), std::move(text)};
}

/// "${COREOS_PRIVATE_IPV4}::3000", "10.0.0.5:8080:3000", "[::1]::3000".
std::string publish_flag(const AppSpec& spec) {
  std::string ip = spec.host_ip.find(':') != std::string::npos && !spec.host_ip.starts_with("${")
                       ? "[" + spec.host_ip + "]"
                       : spec.host_ip;
  return fmt::format("{}:{}:{}", ip, spec.host_port ? std::to_string(*spec.host_port) : "",
                     spec.port);
}

} // namespace

HostPaths HostPaths::installed() {
  HostPaths paths;
  paths.herald = k_installed_herald;
  paths.data_dir = k_installed_data_dir;
  return paths;
}

RouterKind parse_router_kind(std::string_view text) {
  for (RouterKind kind : {RouterKind::nginx_host, RouterKind::nginx_path, RouterKind::haproxy}) {
    if (to_string(kind) == text) {
      return kind;
    }
  }
  throw Error(ErrorKind::usage, fmt::format("unknown router template {}: use nginx-host, "
                                            "nginx-path or haproxy",
                                            quoted(text)));
}

std::string_view to_string(RouterKind kind) {
  switch (kind) {
  case RouterKind::nginx_host:
    return "nginx-host";
  case RouterKind::nginx_path:
    return "nginx-path";
  case RouterKind::haproxy:
    return "haproxy";
  }
  return "?";
}

void assign_env(std::vector<std::pair<std::string, std::string>>& env, const std::string& name,
                const std::string& value) {
  auto same = std::find_if(env.begin(), env.end(), [&](const auto& e) { return e.first == name; });
  if (same != env.end()) {
    same->second = value;
  } else {
    env.emplace_back(name, value);
  }
}

std::pair<std::string, std::string> parse_env_assignment(std::string_view text) {
  std::size_t equals = text.find('=');
  if (equals == std::string_view::npos) {
    throw Error(ErrorKind::usage,
                fmt::format("invalid --env {}: expected KEY=VALUE", quoted(text)));
  }
  std::string name(text.substr(0, equals));
  if (!is_valid_environment_name(name)) {
    invalid("environment variable name", name,
            "use letters, digits and '_', not starting with a digit");
  }
  return {name, std::string(text.substr(equals + 1))};
}

std::vector<std::pair<std::string, std::string>>
parse_env_file(std::string_view text, std::string_view source,
               const std::function<std::optional<std::string>(const std::string&)>& lookup) {
  std::vector<std::pair<std::string, std::string>> env;
  int number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t newline = text.find('\n', pos);
    std::string_view line = text.substr(
        pos, newline == std::string_view::npos ? std::string_view::npos : newline - pos);
    pos = newline == std::string_view::npos ? text.size() : newline + 1;
    ++number;
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
    }
    // docker's env-file: leading whitespace dropped, '#' comments, no quote processing.
    std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') {
      continue;
    }
    line.remove_prefix(first);
    std::size_t equals = line.find('=');
    std::string name(line.substr(0, equals));
    if (!is_valid_environment_name(name)) {
      throw Error(ErrorKind::usage,
                  fmt::format("{}:{}: invalid variable name {}: use letters, digits and '_', "
                              "not starting with a digit",
                              source, number, quoted(name)));
    }
    if (equals == std::string_view::npos) {
      if (auto value = lookup(name)) {
        env.emplace_back(name, *value);
      }
      continue;
    }
    env.emplace_back(name, std::string(line.substr(equals + 1)));
  }
  return env;
}

std::vector<std::pair<std::string, std::string>> load_env_file(const std::string& path) {
  // An env file is a page of NAME=value lines; 1 MiB is far beyond any real one.
  constexpr std::size_t k_max_env_file = 1 << 20;
  std::optional<std::string> text = read_file(path, k_max_env_file, "env file");
  if (!text) {
    throw Error(ErrorKind::usage, fmt::format("env file {} does not exist", path));
  }
  return parse_env_file(*text, path, [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    return value != nullptr ? std::optional<std::string>(value) : std::nullopt;
  });
}

std::vector<GeneratedUnit> generate_app(const AppSpec& spec, const UnitTemplates& templates,
                                        const HostPaths& paths) {
  check("app name", spec.app, app_name_problem(spec.app));
  if (!spec.image.empty()) {
    check("image", spec.image, image_problem(spec.image));
  }
  if (spec.port == 0) {
    throw Error(ErrorKind::usage, "the app's port is missing: pass --port, the port the app "
                                  "listens on in its container");
  }
  if (spec.host_port && *spec.host_port == 0) {
    invalid("host port", "0", "expected 1-65535");
  }
  check("host IP", spec.host_ip, host_ip_problem(spec.host_ip));
  if (spec.image.empty()) {
    // These shape APP@.service, which is written only for an image.
    AppSpec defaults;
    const std::pair<bool, const char*> container_only[] = {
        {!spec.env.empty(), "--env/--env-file"},
        {spec.host_port.has_value(), "--host-port"},
        {spec.host_ip != defaults.host_ip, "--host-ip"},
        {spec.pull_timeout != defaults.pull_timeout, "--pull-timeout"},
        {spec.conflicts, "--conflicts"},
        {!spec.machine_of.empty(), "--machine-of"},
        {!spec.metadata.empty(), "--metadata"},
    };
    for (const auto& [given, flag] : container_only) {
      if (given) {
        throw Error(ErrorKind::usage,
                    fmt::format("{} shapes {}@.service, which is written only with --image "
                                "(without it, only the sidekick of an app you run yourself)",
                                flag, spec.app));
      }
    }
  }
  if (!spec.domain.empty() && !spec.path.empty()) {
    throw Error(ErrorKind::usage,
                "--domain (host routing) and --path (path routing) exclude each other");
  }
  if (!spec.domain.empty()) {
    check("domain", spec.domain, dns_name_problem(spec.domain));
  }
  if (!spec.path.empty()) {
    check("path", spec.path, url_path_problem(spec.path, false));
  }
  if (!spec.health_path.empty()) {
    check("health path", spec.health_path, url_path_problem(spec.health_path, true));
  }
  std::string app_template = spec.app + "@.service";
  if (!spec.machine_of.empty()) {
    // fleet resolves specifiers in X-Fleet values; check what an instance would get.
    UnitName sample = parse_unit_name(spec.app + "@1.service");
    std::string resolved;
    try {
      resolved = resolve_specifiers(spec.machine_of, sample);
    } catch (const Error& e) {
      invalid("MachineOf", spec.machine_of, e.what());
    }
    if (!is_valid_unit_name(resolved)) {
      invalid("MachineOf", spec.machine_of, "expected a unit name such as db@%i.service");
    }
  }
  std::vector<std::pair<std::string, std::string>> env;
  for (const auto& [name, value] : spec.env) {
    environment_word(name, value); // throws for what systemd would drop
    assign_env(env, name, value);
  }
  check_paths(paths);

  std::vector<std::string> announce_meta;
  if (!spec.domain.empty()) {
    announce_meta.push_back("host=" + spec.app + "." + spec.domain);
  }
  if (!spec.path.empty()) {
    announce_meta.push_back("path=" + spec.path);
  }
  bool conflicts = spec.conflicts || spec.host_port.has_value();
  auto pull = static_cast<long long>(spec.pull_timeout.count());
  Entries fields = {
      {"App", Value(spec.app)},
      {"Image", Value(spec.image)},
      {"Port", Value(static_cast<int>(spec.port))},
      {"HostPort", Value(static_cast<int>(spec.host_port.value_or(0)))},
      {"HostIP", Value(spec.host_ip)},
      {"Publish", Value(publish_flag(spec))},
      {"Domain", Value(spec.domain)},
      {"Path", Value(spec.path)},
      {"Env", environment(env)},
      {"Conflicts", Value(conflicts)},
      {"MachineOf", Value(spec.machine_of)},
      {"Metadata", strings(checked_metadata(spec.metadata))},
      {"HealthPath", Value(spec.health_path)},
      {"AnnounceMeta", strings(announce_meta)},
      {"PullTimeout", Value(pull)},
      {"StartTimeout", Value(pull + 60)},
      {"Container", Value(spec.app + ".%i")},
      {"AppUnit", Value(app_template)},
      {"Discovery", Value(spec.app + "-discovery@.service")},
      {"Herald", Value(paths.herald)},
      {"Docker", Value(paths.docker)},
  };
  std::vector<GeneratedUnit> units;
  if (!spec.image.empty()) {
    units.push_back(render(templates, "app@.service.tmpl", app_template, fields, "units.App"));
  }
  units.push_back(render(templates,
                         spec.image.empty() ? "app-discovery@.service.tmpl"
                                            : "app-docker-discovery@.service.tmpl",
                         spec.app + "-discovery@.service", fields, "units.App"));
  return units;
}

/// The longest unix socket path: sockaddr_un's sun_path holds 108 bytes with the final NUL.
constexpr std::size_t k_max_socket_path = 107;

std::vector<GeneratedUnit> generate_router(const RouterSpec& spec, const UnitTemplates& templates,
                                           const HostPaths& paths) {
  check("router name", spec.name, router_name_problem(spec.name));
  if (!spec.domain.empty()) {
    check("domain", spec.domain, dns_name_problem(spec.domain));
  }
  if (!spec.listen.empty()) {
    check("listen address", spec.listen, listen_problem(spec.listen));
  }
  check_paths(paths);
  bool nginx = spec.kind != RouterKind::haproxy;
  std::string kind(to_string(spec.kind));
  std::string config_template = spec.config_template.empty()
                                    ? paths.data_dir + "/templates/" + kind + ".tmpl"
                                    : spec.config_template;
  check_host_path("router config template", config_template);
  std::string dest = spec.dest;
  if (dest.empty()) {
    dest = spec.kind == RouterKind::nginx_host   ? "/etc/nginx/conf.d/herald-hosts.conf"
           : spec.kind == RouterKind::nginx_path ? "/etc/nginx/conf.d/herald-paths.conf"
                                                 : "/etc/haproxy/haproxy.cfg";
  }
  check_host_path("router config", dest);
  std::vector<std::pair<std::string, std::string>> render_env;
  std::string routes_prefix = "/services/web";
  if (!spec.routes_prefix.empty()) {
    check_prefix("routes prefix", spec.routes_prefix);
    routes_prefix = spec.routes_prefix;
    while (routes_prefix.size() > 1 && routes_prefix.back() == '/') {
      routes_prefix.pop_back();
    }
    if (routes_prefix != "/services/web") {
      render_env.emplace_back("HERALD_ROUTES_PREFIX", routes_prefix);
    }
  }
  // The apps, the domain (host routing), and the launchers that unknown apps go to.
  std::vector<std::string> keys = {routes_prefix};
  if (spec.kind != RouterKind::nginx_path) {
    keys.push_back("/services/domain");
  }
  keys.emplace_back(k_launchers_prefix);
  if (!spec.domain.empty()) {
    render_env.emplace_back("HERALD_DOMAIN", spec.domain);
  }
  if (!spec.listen.empty()) {
    render_env.emplace_back(nginx ? "HERALD_NGINX_LISTEN" : "HERALD_HAPROXY_BIND", spec.listen);
  }
  // haproxy's runtime API on a socket in the router unit's RuntimeDirectory: the bundled template
  // puts its stats socket there and render adds and removes servers through it, no reload.
  std::string haproxy_socket;
  if (!nginx) {
    haproxy_socket = "/run/" + spec.name + "/admin.sock";
    if (haproxy_socket.size() > k_max_socket_path) {
      throw Error(ErrorKind::usage,
                  fmt::format("router name {}: haproxy's runtime socket {} would be longer than "
                              "a unix socket path can be ({} bytes): choose a shorter --name",
                              quoted(spec.name), quoted(haproxy_socket), k_max_socket_path));
    }
    render_env.emplace_back("HERALD_HAPROXY_SOCKET", haproxy_socket);
  }
  std::string router_unit = spec.name + ".service";
  std::string render_unit = spec.name + "-render.service";
  Entries fields = {
      {"Name", Value(spec.name)},
      {"Kind", Value(kind)},
      {"RouterUnit", Value(router_unit)},
      {"RenderUnit", Value(render_unit)},
      {"ConfigTemplate", Value(config_template)},
      {"Dest", Value(dest)},
      {"Keys", strings(keys)},
      {"CheckCmd", Value(nginx ? paths.data_dir + "/templates/nginx-check {{.src}}"
                               : paths.haproxy + " -c -q -f {{.src}}")},
      {"ReloadCmd", Value("/usr/bin/systemctl try-reload-or-restart " + router_unit)},
      {"Listen", Value(spec.listen)},
      {"Domain", Value(spec.domain)},
      {"RenderEnv", environment(render_env)},
      {"HaproxySocket", Value(haproxy_socket)},
      {"Metadata", strings(checked_metadata(spec.metadata))},
      {"Herald", Value(paths.herald)},
      {"Nginx", Value(paths.nginx)},
      {"Haproxy", Value(paths.haproxy)},
  };
  std::vector<GeneratedUnit> units;
  units.push_back(render(templates,
                         nginx ? "nginx-router.service.tmpl" : "haproxy-router.service.tmpl",
                         router_unit, fields, "units.Router"));
  units.push_back(
      render(templates, "router-render.service.tmpl", render_unit, fields, "units.Router"));
  return units;
}

std::vector<GeneratedUnit> generate_launcher(const LauncherSpec& spec,
                                             const UnitTemplates& templates,
                                             const HostPaths& paths) {
  check_plain_unit_name("launcher name", spec.name, "herald-launcher");
  check_host_path("cluster file", spec.cluster_file);
  parse_host_port(spec.listen, "the launcher's --listen");
  check_paths(paths);
  Entries fields = {
      {"Name", Value(spec.name)},      {"ClusterFile", Value(spec.cluster_file)},
      {"Listen", Value(spec.listen)},  {"Metadata", strings(checked_metadata(spec.metadata))},
      {"Herald", Value(paths.herald)},
  };
  return {
      render(templates, "launcher.service.tmpl", spec.name + ".service", fields, "units.Launcher")};
}

std::vector<GeneratedUnit> generate_registrator(const RegistratorSpec& spec,
                                                const UnitTemplates& templates,
                                                const HostPaths& paths) {
  check_plain_unit_name("registrator name", spec.name, "herald-registrator");
  if (!spec.registry.empty()) {
    registry::parse_location(spec.registry); // Error(config) naming the known schemes
    check("registry URL", spec.registry, key_text_problem(spec.registry));
  }
  check_prefix("prefix", spec.prefix);
  if (!spec.node.empty()) {
    check("node name", spec.node, node_name_problem(spec.node));
  }
  if (!spec.host.empty() && !is_valid_host(spec.host)) {
    invalid("host", spec.host, "expected an IP address or a DNS name");
  }
  if (spec.ttl < std::chrono::seconds(2)) {
    invalid("TTL", fmt::format("{}s", spec.ttl.count()),
            "at least 2s, so that it can be refreshed before it expires");
  }
  check_paths(paths);
  Entries fields = {
      {"Name", Value(spec.name)},
      {"Registry", Value(spec.registry)},
      {"Prefix", Value(spec.prefix)},
      {"Node", Value(spec.node)},
      {"Host", Value(spec.host)},
      {"TTL", Value(static_cast<long long>(spec.ttl.count()))},
      {"Metadata", strings(checked_metadata(spec.metadata))},
      {"Herald", Value(paths.herald)},
  };
  return {render(templates, "registrator.service.tmpl", spec.name + ".service", fields,
                 "units.Registrator")};
}

} // namespace herald::units
