#include "herald/docker/model.hpp"

#include "herald/core/error.hpp"
#include "herald/core/json_limits.hpp"
#include "herald/core/strings.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

namespace herald::docker {

namespace {

using nlohmann::json;

constexpr std::int64_t k_int_min = std::numeric_limits<int>::min();
constexpr std::int64_t k_int_max = std::numeric_limits<int>::max();

json parse_json(std::string_view text, std::string_view what) {
  check_json_depth(text, fmt::format("the Docker daemon sent a {}", what));
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    // Not only parse_error: a number too large for a double ("1e4004") is out_of_range.
    throw Error(ErrorKind::data,
                fmt::format("the Docker daemon sent a {} that is not JSON: {}", what, e.what()));
  }
}

/// The member `key` of an object, nullptr when `j` is no object, or the member is missing or
/// null. Docker sends null for many empty collections (Env, Labels, PortBindings).
const json* member(const json& j, std::string_view key) {
  if (!j.is_object()) {
    return nullptr;
  }
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return nullptr;
  }
  return &*it;
}

std::string to_text(const json& j) {
  if (j.is_string()) {
    return j.get<std::string>();
  }
  if (j.is_number_unsigned()) {
    return std::to_string(j.get<std::uint64_t>());
  }
  if (j.is_number_integer()) {
    return std::to_string(j.get<std::int64_t>());
  }
  if (j.is_boolean()) {
    return j.get<bool>() ? "true" : "false";
  }
  return {};
}

std::string get_string(const json& j, std::string_view key) {
  const json* m = member(j, key);
  return m ? to_text(*m) : std::string();
}

/// The integer member `key` (0 when missing or not a number). A number outside [lo, hi], or one
/// no 64-bit integer holds (1e300, a fraction), is a broken answer, not something to wrap around.
std::int64_t get_int(const json& j, std::string_view key,
                     std::int64_t lo = std::numeric_limits<std::int64_t>::min(),
                     std::int64_t hi = std::numeric_limits<std::int64_t>::max()) {
  const json* m = member(j, key);
  if (!m || !m->is_number()) {
    return 0;
  }
  std::optional<std::int64_t> value;
  if (m->is_number_unsigned()) {
    auto u = m->get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      value = static_cast<std::int64_t>(u);
    }
  } else if (m->is_number_integer()) {
    value = m->get<std::int64_t>();
  } else {
    double d = m->get<double>();
    // 2^63 is exact as a double; every double below it and above -2^63 converts without UB.
    if (std::isfinite(d) && d == std::trunc(d) && d >= -9223372036854775808.0 &&
        d < 9223372036854775808.0) {
      value = static_cast<std::int64_t>(d);
    }
  }
  if (!value || *value < lo || *value > hi) {
    throw Error(ErrorKind::data,
                fmt::format("the Docker daemon sent {} = {}, which is not an integer in [{}, {}]",
                            key, m->dump(), lo, hi));
  }
  return *value;
}

bool get_bool(const json& j, std::string_view key) {
  const json* m = member(j, key);
  return m && m->is_boolean() && m->get<bool>();
}

std::map<std::string, std::string> get_string_map(const json& j, std::string_view key) {
  std::map<std::string, std::string> out;
  const json* m = member(j, key);
  if (m && m->is_object()) {
    for (const auto& [k, v] : m->items()) {
      out[k] = to_text(v);
    }
  }
  return out;
}

std::vector<std::string> get_string_list(const json& j, std::string_view key) {
  std::vector<std::string> out;
  const json* m = member(j, key);
  if (m && m->is_array()) {
    for (const auto& v : *m) {
      out.push_back(to_text(v));
    }
  }
  return out;
}

const json& object_or_empty(const json& j, std::string_view key) {
  static const json k_empty = json::object();
  const json* m = member(j, key);
  return m && m->is_object() ? *m : k_empty;
}

std::string strip_slash(std::string name) {
  if (!name.empty() && name.front() == '/') {
    name.erase(0, 1);
  }
  return name;
}

std::optional<std::string> find_env(const std::vector<std::string>& env, std::string_view key) {
  for (const auto& entry : env) {
    auto eq = entry.find('=');
    std::string_view name = std::string_view(entry).substr(0, eq);
    if (name == key) {
      return eq == std::string::npos ? std::string() : entry.substr(eq + 1);
    }
  }
  return std::nullopt;
}

std::string one_line(std::string_view text, std::size_t limit) {
  std::string out;
  for (char c : trim(text)) {
    out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  }
  if (out.size() > limit) {
    out.resize(limit);
    out += "...";
  }
  return out;
}

} // namespace

std::string encode_filters(const Filters& filters) {
  json j = json::object();
  for (const auto& [key, values] : filters) {
    j[key] = values;
  }
  return j.dump();
}

std::optional<std::string> Container::env_value(std::string_view key) const {
  return find_env(env, key);
}

std::optional<std::string> Container::label(std::string_view key) const {
  auto it = labels.find(std::string(key));
  if (it == labels.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::string ContainerSummary::name() const {
  if (!names.empty()) {
    return names.front();
  }
  return id.substr(0, 12);
}

std::optional<std::string> Event::attribute(std::string_view key) const {
  auto it = attributes.find(std::string(key));
  if (it == attributes.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::string Event::name() const {
  return attribute("name").value_or("");
}

std::string normalize_container_port(std::string_view port, std::string_view what) {
  std::string_view number = port;
  std::string_view protocol = "tcp";
  if (auto slash = port.find('/'); slash != std::string_view::npos) {
    number = port.substr(0, slash);
    protocol = port.substr(slash + 1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  bool valid_number = !number.empty() && ec == std::errc() &&
                      end == number.data() + number.size() && value >= 1 && value <= 65535;
  if (!valid_number || (protocol != "tcp" && protocol != "udp" && protocol != "sctp")) {
    throw Error(ErrorKind::usage, fmt::format("{} '{}' is not a container port: expected PORT or "
                                              "PORT/tcp (e.g. 3000 or 3000/tcp)",
                                              what, port));
  }
  return fmt::format("{}/{}", value, protocol);
}

Container parse_container(std::string_view text) {
  json j = parse_json(text, "container description");
  if (!j.is_object() || get_string(j, "Id").empty()) {
    throw Error(ErrorKind::data, "the Docker daemon sent a container description without an Id: " +
                                     one_line(text, 200));
  }
  Container c;
  c.id = get_string(j, "Id");
  c.name = strip_slash(get_string(j, "Name"));
  c.image_id = get_string(j, "Image");
  c.created = get_string(j, "Created");
  c.restart_count = static_cast<int>(get_int(j, "RestartCount", 0, k_int_max));

  const json& state = object_or_empty(j, "State");
  c.status = get_string(state, "Status");
  c.running = get_bool(state, "Running");
  c.paused = get_bool(state, "Paused");
  c.restarting = get_bool(state, "Restarting");
  c.exit_code = static_cast<int>(get_int(state, "ExitCode", k_int_min, k_int_max));
  c.pid = static_cast<int>(get_int(state, "Pid", 0, k_int_max));
  c.error = get_string(state, "Error");
  c.started_at = get_string(state, "StartedAt");
  c.finished_at = get_string(state, "FinishedAt");
  if (const json* health = member(state, "Health"); health && health->is_object()) {
    c.health = get_string(*health, "Status");
  }

  const json& config = object_or_empty(j, "Config");
  c.image = get_string(config, "Image");
  c.env = get_string_list(config, "Env");
  c.labels = get_string_map(config, "Labels");
  for (const auto& [port, unused] : object_or_empty(config, "ExposedPorts").items()) {
    c.exposed_ports.push_back(port);
  }

  c.network_mode = get_string(object_or_empty(j, "HostConfig"), "NetworkMode");

  const json& network = object_or_empty(j, "NetworkSettings");
  for (const auto& [port, bindings] : object_or_empty(network, "Ports").items()) {
    auto& out = c.ports[port];
    if (bindings.is_array()) {
      for (const auto& b : bindings) {
        out.push_back(PortBinding{get_string(b, "HostIp"), get_string(b, "HostPort")});
      }
    }
  }
  for (const auto& [name, settings] : object_or_empty(network, "Networks").items()) {
    c.networks[name] = get_string(settings, "IPAddress");
  }
  return c;
}

std::vector<ContainerSummary> parse_container_list(std::string_view text) {
  json j = parse_json(text, "container list");
  if (!j.is_array()) {
    throw Error(ErrorKind::data, "the Docker daemon sent a container list that is not a JSON "
                                 "array: " +
                                     one_line(text, 200));
  }
  std::vector<ContainerSummary> out;
  out.reserve(j.size());
  for (const auto& item : j) {
    ContainerSummary s;
    s.id = get_string(item, "Id");
    for (auto& name : get_string_list(item, "Names")) {
      s.names.push_back(strip_slash(std::move(name)));
    }
    s.image = get_string(item, "Image");
    s.command = get_string(item, "Command");
    s.created = get_int(item, "Created");
    s.state = get_string(item, "State");
    s.status = get_string(item, "Status");
    s.labels = get_string_map(item, "Labels");
    if (const json* ports = member(item, "Ports"); ports && ports->is_array()) {
      for (const auto& p : *ports) {
        s.ports.push_back(SummaryPort{
            get_string(p, "IP"), static_cast<std::uint16_t>(get_int(p, "PrivatePort", 0, 65535)),
            static_cast<std::uint16_t>(get_int(p, "PublicPort", 0, 65535)), get_string(p, "Type")});
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

VersionInfo parse_version(std::string_view text) {
  json j = parse_json(text, "version");
  if (!j.is_object()) {
    throw Error(ErrorKind::data, "the Docker daemon sent a version that is not a JSON object: " +
                                     one_line(text, 200));
  }
  VersionInfo v;
  v.version = get_string(j, "Version");
  v.api_version = get_string(j, "ApiVersion");
  v.min_api_version = get_string(j, "MinAPIVersion");
  v.os = get_string(j, "Os");
  v.arch = get_string(j, "Arch");
  v.kernel_version = get_string(j, "KernelVersion");
  return v;
}

SystemInfo parse_info(std::string_view text) {
  json j = parse_json(text, "info");
  if (!j.is_object()) {
    throw Error(ErrorKind::data,
                "the Docker daemon sent an info that is not a JSON object: " + one_line(text, 200));
  }
  SystemInfo info;
  info.id = get_string(j, "ID");
  info.name = get_string(j, "Name");
  info.server_version = get_string(j, "ServerVersion");
  return info;
}

std::string demux_log_stream(std::string_view body) {
  auto framed_at = [&](std::size_t at) {
    return at + 8 <= body.size() && static_cast<unsigned char>(body[at]) <= 2 &&
           body[at + 1] == 0 && body[at + 2] == 0 && body[at + 3] == 0;
  };
  if (!framed_at(0)) {
    return std::string(body);
  }
  std::string out;
  std::size_t at = 0;
  while (at < body.size()) {
    if (!framed_at(at)) {
      // A broken frame: keep what is left rather than lose the end of the log.
      out.append(body.substr(at));
      break;
    }
    std::size_t size = 0;
    for (std::size_t i = 4; i < 8; ++i) {
      size = (size << 8) | static_cast<unsigned char>(body[at + i]);
    }
    at += 8;
    out.append(body.substr(at, size));
    at += std::min(size, body.size() - at);
  }
  return out;
}

std::optional<std::string> pull_stream_error(std::string_view body) {
  for (const auto& line : split(body, '\n')) {
    if (trim(line).empty()) {
      continue;
    }
    json j = json::parse(std::string(line), nullptr, false);
    if (j.is_object() && j.contains("error")) {
      std::string message = get_string(j, "error");
      return message.empty() ? std::string("(no message)") : message;
    }
  }
  return std::nullopt;
}

std::pair<std::string, std::string> pull_parameters(std::string_view image) {
  if (image.find('@') != std::string_view::npos) {
    return {std::string(image), ""};
  }
  auto slash = image.rfind('/');
  auto colon = image.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    return {std::string(image.substr(0, colon)), std::string(image.substr(colon + 1))};
  }
  return {std::string(image), "latest"};
}

Event parse_event(std::string_view line) {
  json j = parse_json(line, "event");
  if (!j.is_object()) {
    throw Error(ErrorKind::data, "the Docker daemon sent an event that is not a JSON object: " +
                                     one_line(line, 200));
  }
  Event e;
  e.type = get_string(j, "Type");
  e.action = get_string(j, "Action");
  const json& actor = object_or_empty(j, "Actor");
  e.actor_id = get_string(actor, "ID");
  e.attributes = get_string_map(actor, "Attributes");
  // The legacy status/id fields (gone from API 1.52) stand in when the typed ones are missing.
  if (e.action.empty()) {
    e.action = get_string(j, "status");
  }
  if (e.actor_id.empty()) {
    e.actor_id = get_string(j, "id");
  }
  if (e.action.empty()) {
    throw Error(ErrorKind::data,
                "the Docker daemon sent an event without an Action: " + one_line(line, 200));
  }
  // "health_status: healthy", "exec_create: true " -> base "health_status", detail "healthy".
  std::string_view action = e.action;
  auto colon = action.find(':');
  e.base_action = std::string(trim(action.substr(0, colon)));
  if (colon != std::string_view::npos) {
    e.detail = std::string(trim(action.substr(colon + 1)));
  }
  e.scope = get_string(j, "scope");
  e.time = get_int(j, "time");
  e.time_nano = get_int(j, "timeNano");
  // A time too large to hold in nanoseconds (a daemon's garbage) is kept in seconds only.
  constexpr std::int64_t k_nanos = 1'000'000'000;
  if (e.time_nano == 0 && e.time > -(INT64_MAX / k_nanos) && e.time < INT64_MAX / k_nanos) {
    e.time_nano = e.time * k_nanos;
  }
  return e;
}

std::string create_body(const ContainerSpec& spec) {
  json body = json::object();
  body["Image"] = spec.image;
  if (!spec.cmd.empty()) {
    body["Cmd"] = spec.cmd;
  }
  if (!spec.entrypoint.empty()) {
    body["Entrypoint"] = spec.entrypoint;
  }
  if (!spec.env.empty()) {
    body["Env"] = spec.env;
  }
  body["Labels"] = spec.labels;
  json host_config = json::object();
  if (!spec.publish.empty()) {
    json exposed = json::object();
    json bindings = json::object();
    for (const auto& p : spec.publish) {
      std::string port = normalize_container_port(p.container_port, "published port");
      exposed[port] = json::object();
      bindings[port].push_back({{"HostIp", p.host_ip}, {"HostPort", p.host_port}});
    }
    body["ExposedPorts"] = exposed;
    host_config["PortBindings"] = bindings;
  }
  if (spec.healthcheck) {
    const auto& h = *spec.healthcheck;
    body["Healthcheck"] = {{"Test", h.test},
                           {"Interval", h.interval.count()},
                           {"Timeout", h.timeout.count()},
                           {"StartPeriod", h.start_period.count()},
                           {"Retries", h.retries}};
  }
  if (!spec.network_mode.empty()) {
    host_config["NetworkMode"] = spec.network_mode;
  }
  host_config["RestartPolicy"] = {
      {"Name", spec.restart_policy.empty() ? "no" : spec.restart_policy}};
  host_config["AutoRemove"] = spec.auto_remove;
  body["HostConfig"] = host_config;
  return body.dump();
}

std::string parse_create_response(std::string_view text) {
  json j = parse_json(text, "create response");
  std::string id = get_string(j, "Id");
  if (id.empty()) {
    throw Error(ErrorKind::data,
                "the Docker daemon answered a create without an Id: " + one_line(text, 200));
  }
  return id;
}

std::string error_message(std::string_view body) {
  if (!trim(body).empty() && !json_too_deep(body)) {
    json j = json::parse(body, nullptr, false);
    if (j.is_object()) {
      std::string message = get_string(j, "message");
      if (!message.empty()) {
        return one_line(message, 500);
      }
    }
  }
  return one_line(body, 500);
}

std::string format_event_time(std::int64_t time_nano) {
  return fmt::format("{}.{:09}", time_nano / 1'000'000'000, time_nano % 1'000'000'000);
}

} // namespace herald::docker
