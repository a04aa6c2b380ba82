#include "herald/registry/layout.hpp"

#include "herald/core/address.hpp"
#include "herald/core/error.hpp"
#include "herald/core/json_limits.hpp"
#include "herald/core/strings.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace herald::registry {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// Orders strings so that runs of digits compare by value ("web@2" before "web@10"); ties between
/// equal numbers written differently ("01" vs "1") fall back to plain comparison.
int natural_compare(std::string_view a, std::string_view b) {
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      std::size_t ie = i;
      std::size_t je = j;
      while (ie < a.size() && is_digit(a[ie])) {
        ++ie;
      }
      while (je < b.size() && is_digit(b[je])) {
        ++je;
      }
      // Compare by magnitude without converting, so arbitrarily long digit runs cannot overflow.
      std::string_view da = a.substr(i, ie - i);
      std::string_view db = b.substr(j, je - j);
      while (da.size() > 1 && da.front() == '0') {
        da.remove_prefix(1);
      }
      while (db.size() > 1 && db.front() == '0') {
        db.remove_prefix(1);
      }
      if (da.size() != db.size()) {
        return da.size() < db.size() ? -1 : 1;
      }
      if (int c = da.compare(db); c != 0) {
        return c < 0 ? -1 : 1;
      }
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) {
      return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]) ? -1 : 1;
    }
    ++i;
    ++j;
  }
  if (i < a.size() || j < b.size()) {
    return i < a.size() ? 1 : -1;
  }
  int c = a.compare(b);
  return c == 0 ? 0 : (c < 0 ? -1 : 1);
}

/// True for the characters systemd allows in the parts of a unit name (what APP@INSTANCE uses).
bool is_name_text(std::string_view text) {
  if (text.size() > 255) {
    return false;
  }
  for (char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
          c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

/// A JSON host may be written with IPv6 brackets; HostPort keeps hosts without them.
std::string_view unbracket(std::string_view host) {
  // Only an IPv6 literal is bracketed: "[zz]" stays as it is, and invalid.
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']' &&
      host.find(':') != std::string_view::npos) {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

std::optional<std::uint16_t> json_port(const nlohmann::json& port) {
  if (port.is_number_integer()) {
    auto p = port.get<std::int64_t>();
    if (p >= 1 && p <= 65535) {
      return static_cast<std::uint16_t>(p);
    }
    return std::nullopt;
  }
  if (port.is_string()) {
    // Hand-written values sometimes quote the port; accept it as the hostport form would.
    HostPort hp;
    if (try_parse_host_port("h:" + port.get<std::string>(), hp)) {
      return hp.port;
    }
  }
  return std::nullopt;
}

DecodedValue decode_json_value(std::string_view text) {
  DecodedValue out;
  if (json_too_deep(text)) {
    out.problem = "its JSON is nested too deeply";
    return out; // dump() of its meta would recurse once per level
  }
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    out.problem = "neither host:port nor a JSON object";
    return out;
  }
  if (auto tags = doc.find("tags"); tags != doc.end() && tags->is_array()) {
    for (const auto& tag : *tags) {
      if (tag.is_string()) {
        out.tags.push_back(tag.get<std::string>());
      }
    }
  }
  if (auto meta = doc.find("meta"); meta != doc.end() && meta->is_object()) {
    for (const auto& [name, value] : meta->items()) {
      // dump() of a string holding invalid UTF-8 throws; such a value is malformed anyway.
      out.meta[name] = value.is_string()
                           ? value.get<std::string>()
                           : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  auto host = doc.find("host");
  auto port = doc.find("port");
  if (host == doc.end() || !host->is_string() || port == doc.end()) {
    out.problem = "not host:port and no \"host\" and \"port\" in its JSON";
    return out;
  }
  std::string_view host_text = unbracket(host->get_ref<const std::string&>());
  auto port_number = json_port(*port);
  if (!is_valid_host(host_text)) {
    out.problem = "its host is neither an IP address nor a DNS name";
    return out;
  }
  if (!port_number) {
    out.problem = "its port is not a number from 1 to 65535";
    return out;
  }
  if (auto problem = labels_problem(out.tags, out.meta)) {
    out.problem = std::move(*problem);
    return out;
  }
  out.address = HostPort{std::string(host_text), *port_number};
  return out;
}

} // namespace

bool key_in_dir(std::string_view key, std::string_view dir) {
  while (!dir.empty() && dir.back() == '/') {
    dir.remove_suffix(1);
  }
  if (dir.empty()) {
    return true;
  }
  return key.starts_with(dir) && (key.size() == dir.size() || key[dir.size()] == '/');
}

std::string_view without_trailing_slashes(std::string_view prefix) {
  while (!prefix.empty() && prefix.back() == '/') {
    prefix.remove_suffix(1);
  }
  return prefix;
}

std::string instance_key(std::string_view prefix, const InstanceName& name) {
  return fmt::format("{}/{}/{}", without_trailing_slashes(prefix), name.app, name.str());
}

std::string registrator_key(std::string_view prefix, std::string_view engine_id,
                            std::string_view node) {
  return fmt::format("{}{}/{}/{}", k_registrators_root, without_trailing_slashes(prefix), engine_id,
                     node);
}

bool mixes_with_registrators(std::string_view prefix) {
  return key_in_dir(k_registrators_root, prefix) || key_in_dir(prefix, k_registrators_root);
}

std::string expand_key_template(std::string_view templ, const InstanceName& name) {
  std::string out;
  std::size_t pos = 0;
  while (pos < templ.size()) {
    auto open = templ.find('{', pos);
    if (open == std::string_view::npos) {
      out.append(templ.substr(pos));
      break;
    }
    out.append(templ.substr(pos, open - pos));
    auto close = templ.find('}', open);
    if (close == std::string_view::npos) {
      throw Error(ErrorKind::usage,
                  fmt::format("invalid --key '{}': '{{' without a closing '}}'; use {{app}}, "
                              "{{instance}} or {{name}}",
                              templ));
    }
    std::string_view field = templ.substr(open + 1, close - open - 1);
    if (field == "app") {
      out.append(name.app);
    } else if (field == "instance") {
      out.append(name.instance);
    } else if (field == "name") {
      out.append(name.str());
    } else {
      throw Error(ErrorKind::usage,
                  fmt::format("invalid --key '{}': unknown placeholder '{{{}}}'; use {{app}}, "
                              "{{instance}} or {{name}}",
                              templ, field));
    }
    pos = close + 1;
  }
  if (out.empty() || out.front() != '/') {
    throw Error(ErrorKind::usage,
                fmt::format("invalid --key '{}': a key must start with '/', such as "
                            "/services/clusters/{{app}}",
                            templ));
  }
  return out;
}

ValueFormat parse_value_format(std::string_view text) {
  if (text == "hostport") {
    return ValueFormat::hostport;
  }
  if (text == "json") {
    return ValueFormat::json;
  }
  throw Error(ErrorKind::usage,
              fmt::format("invalid --value '{}': use 'hostport' or 'json'", text));
}

std::string encode_value(ValueFormat format, const HostPort& address,
                         const std::vector<std::string>& tags,
                         const std::map<std::string, std::string>& meta) {
  if (format == ValueFormat::hostport) {
    return address.str();
  }
  // ordered_json keeps the documented field order, which makes stored values easy to read.
  nlohmann::ordered_json doc;
  doc["host"] = address.host;
  doc["port"] = address.port;
  doc["tags"] = tags;
  doc["meta"] = nlohmann::ordered_json::object();
  for (const auto& [name, value] : meta) {
    doc["meta"][name] = value;
  }
  return doc.dump();
}

DecodedValue decode_value(std::string_view value) {
  std::string_view text = trim(value);
  if (!text.empty() && text.front() == '{') {
    return decode_json_value(text);
  }
  DecodedValue out;
  HostPort hp;
  if (try_parse_host_port(text, hp)) {
    out.address = std::move(hp);
  } else {
    out.problem = "not HOST:PORT with an IP address or a DNS name and a port 1-65535";
  }
  return out;
}

std::optional<std::string> labels_problem(const std::vector<std::string>& tags,
                                          const std::map<std::string, std::string>& meta) {
  for (const auto& tag : tags) {
    if (auto problem = tag_problem(tag)) {
      return problem;
    }
  }
  for (const auto& [name, value] : meta) {
    if (auto problem = meta_key_problem(name)) {
      return problem;
    }
    if (auto problem = meta_value_problem(value)) {
      return fmt::format("{} (meta {})", *problem, name);
    }
  }
  return std::nullopt;
}

void check_instance(Instance& instance) {
  std::string problem;
  if (instance.app.empty() || !is_name_text(instance.app) || instance.app == "." ||
      instance.app == "..") {
    problem = "its app name is not letters, digits, ':', '-', '_' and '.'";
  } else if (!is_name_text(instance.instance) || instance.instance == "." ||
             instance.instance == "..") {
    problem = "its instance name is not letters, digits, ':', '-', '_' and '.'";
  } else if (!instance.address) {
    problem = instance.problem.empty() ? "its address is not HOST:PORT" : instance.problem;
  } else if (auto labels = labels_problem(instance.tags, instance.meta)) {
    problem = std::move(*labels);
  }
  if (!problem.empty()) {
    instance.problem = std::move(problem);
    instance.address.reset();
  }
}

std::optional<Instance> instance_at(std::string_view root, const KeyValue& kv) {
  root = without_trailing_slashes(root);
  std::string_view key = kv.key;
  if (key.size() <= root.size() + 1 || !key.starts_with(root) || key[root.size()] != '/') {
    return std::nullopt;
  }
  std::string_view rest = key.substr(root.size() + 1);
  Instance inst;
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) {
    inst.app = std::string(rest); // single-key layout: /services/clusters/APP
  } else {
    std::string_view app = rest.substr(0, slash);
    std::string_view leaf = rest.substr(slash + 1);
    // Deeper keys belong to some other tool's layout; they are not instances.
    if (app.empty() || leaf.empty() || leaf.find('/') != std::string_view::npos) {
      return std::nullopt;
    }
    inst.app = std::string(app);
    std::string app_at = inst.app + "@";
    inst.instance = leaf.substr(0, app_at.size()) == app_at
                        ? std::string(leaf.substr(app_at.size()))
                        : std::string(leaf);
  }
  DecodedValue decoded = decode_value(kv.value);
  inst.key = kv.key;
  inst.value = kv.value;
  inst.address = std::move(decoded.address);
  inst.problem = std::move(decoded.problem);
  inst.tags = std::move(decoded.tags);
  inst.meta = std::move(decoded.meta);
  inst.health = Instance::Health::passing;
  inst.ttl_left = kv.ttl;
  check_instance(inst);
  return inst;
}

std::vector<Instance> instances_from_snapshot(const Snapshot& snapshot,
                                              const InstanceQuery& query) {
  std::vector<Instance> out;
  for (const KeyValue& kv : snapshot.entries) {
    auto inst = instance_at(query.prefix, kv);
    if (!inst || (!query.apps.empty() &&
                  std::find(query.apps.begin(), query.apps.end(), inst->app) == query.apps.end())) {
      continue;
    }
    out.push_back(std::move(*inst));
  }
  std::sort(out.begin(), out.end(), [](const Instance& a, const Instance& b) {
    if (int c = natural_compare(a.app, b.app); c != 0) {
      return c < 0;
    }
    if (int c = natural_compare(a.instance, b.instance); c != 0) {
      return c < 0;
    }
    return a.key < b.key;
  });
  return out;
}

const char* health_name(Instance::Health health) {
  switch (health) {
  case Instance::Health::passing:
    return "passing";
  case Instance::Health::warning:
    return "warning";
  case Instance::Health::critical:
    return "critical";
  case Instance::Health::unknown:
    return "unknown";
  }
  return "unknown";
}

} // namespace herald::registry
