#include "herald/cluster/load.hpp"
#include "herald/core/duration.hpp"

#include <algorithm>
#include <yaml-cpp/yaml.h>

namespace herald::cluster {

namespace {

/// Every string double-quoted: "true", "1" or "~" stay strings, and yaml-cpp escapes what a
/// plain scalar could not hold.
void text(YAML::Emitter& out, std::string_view key, const std::string& value) {
  out << YAML::Key << std::string(key) << YAML::Value << YAML::DoubleQuoted << value;
}

void number(YAML::Emitter& out, std::string_view key, long long value) {
  out << YAML::Key << std::string(key) << YAML::Value << value;
}

void flag(YAML::Emitter& out, std::string_view key, bool value) {
  out << YAML::Key << std::string(key) << YAML::Value << (value ? "true" : "false");
}

void duration(YAML::Emitter& out, std::string_view key, std::chrono::milliseconds value) {
  out << YAML::Key << std::string(key) << YAML::Value << format_duration(value);
}

void texts(YAML::Emitter& out, std::string_view key, const std::vector<std::string>& values) {
  out << YAML::Key << std::string(key) << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string& value : values) {
    out << YAML::DoubleQuoted << value;
  }
  out << YAML::EndSeq;
}

void scheduler(YAML::Emitter& out, const SchedulerSpec& spec) {
  out << YAML::Key << "scheduler" << YAML::Value << YAML::BeginMap;
  text(out, "kind", std::string(to_string(spec.kind)));
  if (spec.kind == SchedulerKind::docker) {
    text(out, "endpoint", spec.docker.endpoint);
    text(out, "host_ip", spec.docker.host_ip);
  } else {
    text(out, "endpoint", spec.fleet.endpoint);
    if (spec.fleet.tunnel) {
      text(out, "tunnel", spec.fleet.tunnel->str());
    }
    flag(out, "strict_host_key_checking", spec.fleet.strict_host_key_checking);
    if (!spec.fleet.known_hosts_file.empty()) {
      text(out, "known_hosts_file", spec.fleet.known_hosts_file);
    }
    duration(out, "ssh_timeout", spec.fleet.ssh_timeout);
    duration(out, "request_timeout", spec.fleet.request_timeout);
  }
  out << YAML::EndMap;
}

void router(YAML::Emitter& out, const RouterSpec& spec) {
  out << YAML::BeginMap;
  text(out, "name", spec.name);
  text(out, "kind", std::string(to_string(spec.kind)));
  if (!spec.listen.empty()) {
    text(out, "listen", spec.listen);
  }
  if (!spec.domain.empty()) {
    text(out, "domain", spec.domain);
  }
  if (!spec.config_template.empty()) {
    text(out, "template", spec.config_template);
  }
  flag(out, "global", spec.global);
  if (!spec.global) {
    number(out, "instances", spec.instances);
  }
  if (!spec.metadata.empty()) {
    texts(out, "metadata", spec.metadata);
  }
  out << YAML::EndMap;
}

void app(YAML::Emitter& out, const AppSpec& spec) {
  out << YAML::BeginMap;
  text(out, "name", spec.name);
  text(out, "image", spec.image);
  number(out, "port", spec.port);
  number(out, "instances", spec.instances);
  text(out, "routing", std::string(to_string(spec.routing)));
  if (!spec.aliases.empty()) {
    texts(out, "aliases", spec.aliases);
  }
  // env files are written out: the dump stands alone.
  auto env = spec.environment();
  if (!env.empty()) {
    out << YAML::Key << "env" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, value] : env) {
      // Quoted: a variable may be called null, true or y.
      out << YAML::Key << YAML::DoubleQuoted << name << YAML::Value << YAML::DoubleQuoted << value;
    }
    out << YAML::EndMap;
  }
  out << YAML::Key << "health" << YAML::Value << YAML::BeginMap;
  if (!spec.health.path.empty()) {
    text(out, "path", spec.health.path);
  }
  duration(out, "interval", spec.health.interval);
  duration(out, "timeout", spec.health.timeout);
  number(out, "rise", spec.health.rise);
  number(out, "fall", spec.health.fall);
  out << YAML::EndMap;
  if (spec.placement.spread || !spec.placement.metadata.empty()) {
    out << YAML::Key << "placement" << YAML::Value << YAML::BeginMap;
    flag(out, "spread", spec.placement.spread);
    if (!spec.placement.metadata.empty()) {
      texts(out, "metadata", spec.placement.metadata);
    }
    out << YAML::EndMap;
  }
  out << YAML::Key << "update" << YAML::Value << YAML::BeginMap;
  text(out, "max_unavailable", spec.update.max_unavailable.str());
  text(out, "max_surge", spec.update.max_surge.str());
  duration(out, "min_ready", spec.update.min_ready);
  duration(out, "drain", spec.update.drain);
  out << YAML::EndMap;
  if (spec.on_demand) {
    flag(out, "on_demand", true);
  }
  out << YAML::EndMap;
}

void launch(YAML::Emitter& out, const LaunchSpec& spec) {
  out << YAML::Key << "launch" << YAML::Value << YAML::BeginMap;
  texts(out, "allow", spec.allow);
  texts(out, "deny", spec.deny);
  if (!spec.policy_cmd.empty()) {
    texts(out, "policy_cmd", spec.policy_cmd);
  }
  duration(out, "policy_timeout", spec.policy_timeout);
  number(out, "max_apps", spec.max_apps);
  out << YAML::EndMap;
}

} // namespace

std::string dump_cluster(const ClusterSpec& spec) {
  YAML::Emitter out;
  // \uXXXX for anything past ASCII: no reader can take a U+2028 or a NEL for a line break.
  out.SetOutputCharset(YAML::EscapeNonAscii);
  out << YAML::BeginMap;
  if (!spec.registry.url.empty() || !spec.registry.prefix.empty()) {
    out << YAML::Key << "registry" << YAML::Value << YAML::BeginMap;
    if (!spec.registry.url.empty()) {
      text(out, "url", spec.registry.url);
    }
    if (!spec.registry.prefix.empty()) {
      text(out, "prefix", spec.registry.prefix);
    }
    out << YAML::EndMap;
  }
  scheduler(out, spec.scheduler);
  if (!spec.routers.empty()) {
    out << YAML::Key << "routers" << YAML::Value << YAML::BeginSeq;
    for (const RouterSpec& r : spec.routers) {
      router(out, r);
    }
    out << YAML::EndSeq;
  }
  out << YAML::Key << "apps" << YAML::Value << YAML::BeginSeq;
  for (const AppSpec& a : spec.apps) {
    app(out, a);
  }
  out << YAML::EndSeq;
  if (!spec.units.empty()) {
    out << YAML::Key << "units" << YAML::Value << YAML::BeginSeq;
    for (const ExtraUnit& unit : spec.units) {
      out << YAML::BeginMap;
      text(out, "name", unit.name);
      text(out, "text", unit.text);
      flag(out, "global", unit.global);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  bool on_demand =
      std::any_of(spec.apps.begin(), spec.apps.end(), [](const AppSpec& a) { return a.on_demand; });
  if (on_demand || !spec.launch.allow.empty() || !spec.launch.deny.empty() ||
      !spec.launch.policy_cmd.empty()) {
    launch(out, spec.launch);
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

} // namespace herald::cluster
