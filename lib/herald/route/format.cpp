#include "herald/route/format.hpp"

#include "herald/core/error.hpp"
#include "herald/registry/layout.hpp"

#include <algorithm>
#include <cstdint>
#include <fmt/format.h>
#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

namespace herald::route {

namespace {

constexpr std::string_view k_none = "-";
constexpr std::size_t k_table_value_width = 40;
constexpr std::string_view k_gap = "   ";

/// Characters, not bytes: UTF-8 continuation bytes take no column of their own.
std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

/// A stored value may hold anything; a newline or escape sequence must not break the table or
/// drive the terminal.
std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7F ? '?' : c);
  }
  return out;
}

/// Cuts `text` to `width` characters (the last three being "...") without splitting a UTF-8
/// sequence.
std::string truncated(std::string text, std::size_t width) {
  if (width == 0 || display_width(text) <= width) {
    return text;
  }
  std::size_t keep = width > 3 ? width - 3 : 0;
  std::size_t chars = 0;
  std::size_t pos = 0;
  for (; pos < text.size(); ++pos) {
    if ((static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80) {
      if (chars == keep) {
        break;
      }
      ++chars;
    }
  }
  text.resize(pos);
  return text + "...";
}

std::string joined(const std::vector<std::string>& items) {
  return items.empty() ? std::string(k_none) : fmt::format("{}", fmt::join(items, ","));
}

std::string joined(const std::map<std::string, std::string>& meta) {
  if (meta.empty()) {
    return std::string(k_none);
  }
  std::string out;
  for (const auto& [name, value] : meta) {
    out += (out.empty() ? "" : ",") + name + "=" + value;
  }
  return out;
}

std::string format_table(const Listing& listing, const FormatOptions& options) {
  bool wide = options.format == OutputFormat::wide;
  std::vector<std::vector<std::string>> rows;
  rows.reserve(listing.instances.size() + 1);
  if (options.legend) {
    rows.push_back({"APP", "INSTANCE", "ADDRESS", "HEALTH", "TTL", "TAGS"});
    if (wide) {
      rows.back().insert(rows.back().end(), {"KEY", "NODE", "META"});
    }
  }
  for (const auto& instance : listing.instances) {
    auto health = instance.health == registry::Instance::Health::unknown
                      ? std::string(k_none)
                      : std::string(registry::health_name(instance.health));
    std::vector<std::string> row{printable(instance.app),
                                 instance.instance.empty() ? std::string(k_none)
                                                           : printable(instance.instance),
                                 format_address(instance, wide ? 0 : k_table_value_width),
                                 std::move(health),
                                 format_ttl(instance.ttl_left),
                                 printable(joined(instance.tags))};
    if (wide) {
      row.push_back(printable(instance.key));
      row.push_back(instance.node.empty() ? std::string(k_none) : printable(instance.node));
      row.push_back(printable(joined(instance.meta)));
    }
    rows.push_back(std::move(row));
  }
  return align_columns(rows);
}

void emit_string(YAML::Emitter& out, const std::string& text) {
  // Every string value is double-quoted: plain "1", "yes", "1:20" or "" would read back as a
  // number, a bool, a sexagesimal or null in some YAML parser, and the schema says string.
  out << YAML::DoubleQuoted << text;
}

void emit_json_value(YAML::Emitter& out, const nlohmann::ordered_json& value) {
  switch (value.type()) {
  case nlohmann::json::value_t::object:
    if (value.empty()) {
      out << YAML::Flow; // "meta: {}" rather than a "{}" on a line of its own
    }
    out << YAML::BeginMap;
    for (const auto& [name, item] : value.items()) {
      out << YAML::Key << name << YAML::Value;
      emit_json_value(out, item);
    }
    out << YAML::EndMap;
    break;
  case nlohmann::json::value_t::array:
    if (value.empty()) {
      out << YAML::Flow;
    }
    out << YAML::BeginSeq;
    for (const auto& item : value) {
      emit_json_value(out, item);
    }
    out << YAML::EndSeq;
    break;
  case nlohmann::json::value_t::string:
    emit_string(out, value.get<std::string>());
    break;
  case nlohmann::json::value_t::boolean:
    out << value.get<bool>();
    break;
  case nlohmann::json::value_t::number_integer:
    out << value.get<std::int64_t>();
    break;
  case nlohmann::json::value_t::number_unsigned:
    out << value.get<std::uint64_t>();
    break;
  case nlohmann::json::value_t::number_float:
    out << value.get<double>();
    break;
  default:
    out << YAML::Null;
    break;
  }
}

std::string format_yaml(const Listing& listing) {
  YAML::Emitter out;
  emit_json_value(out, to_json(listing));
  std::string text = out.c_str();
  return text + "\n";
}

nlohmann::ordered_json instance_json(const registry::Instance& instance) {
  nlohmann::ordered_json j;
  j["app"] = instance.app;
  j["instance"] = instance.instance;
  j["name"] = instance.instance.empty() ? instance.app : instance.app + "@" + instance.instance;
  j["key"] = instance.key;
  j["value"] = instance.value;
  if (instance.address) {
    j["address"] = instance.address->str();
    j["host"] = instance.address->host;
    j["port"] = instance.address->port;
  } else {
    j["address"] = nullptr;
    j["host"] = nullptr;
    j["port"] = nullptr;
  }
  j["valid"] = instance.address.has_value();
  j["health"] = registry::health_name(instance.health);
  if (instance.ttl_left) {
    j["ttl_left"] = instance.ttl_left->count();
  } else {
    j["ttl_left"] = nullptr;
  }
  j["tags"] = instance.tags;
  j["meta"] = nlohmann::ordered_json::object();
  for (const auto& [name, value] : instance.meta) {
    j["meta"][name] = value;
  }
  j["node"] = instance.node;
  return j;
}

/// Writes the listing's JSON document straight into a string, byte for byte as
/// to_json(listing).dump() prints it, without building the document: at 10000 instances the
/// document's 150000 small objects took most of `route ls -o json`'s time.
class JsonWriter {
public:
  JsonWriter(std::string& out, bool compact) : m_out(out), m_pretty(!compact) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }

  /// The next member's name, then its value.
  void key(std::string_view name) {
    element();
    quoted(name);
    m_out += m_pretty ? ": " : ":";
    m_after_key = true;
  }

  void string(std::string_view text) {
    element();
    quoted(text);
  }
  void number(std::int64_t n) {
    element();
    m_out += fmt::format_int(n).str();
  }
  void boolean(bool b) {
    element();
    m_out += b ? "true" : "false";
  }
  void null() {
    element();
    m_out += "null";
  }

private:
  // Before a value or a member name: the comma and line break nlohmann's dump() writes.
  void element() {
    if (m_after_key) {
      m_after_key = false;
      return;
    }
    if (m_first.empty()) {
      return;
    }
    if (!m_first.back()) {
      m_out += ',';
    }
    m_first.back() = false;
    newline(m_first.size());
  }

  void open(char bracket) {
    element();
    m_out += bracket;
    m_first.push_back(true);
  }

  void close(char bracket) {
    bool empty = m_first.back();
    m_first.pop_back();
    if (!empty) {
      newline(m_first.size());
    }
    m_out += bracket;
  }

  void newline(std::size_t depth) {
    if (m_pretty) {
      m_out += '\n';
      m_out.append(depth * 2, ' ');
    }
  }

  void quoted(std::string_view text) {
    bool plain = std::all_of(text.begin(), text.end(), [](char c) {
      auto u = static_cast<unsigned char>(c);
      return u >= 0x20 && u < 0x7F && c != '"' && c != '\\';
    });
    if (plain) {
      m_out += '"';
      m_out += text;
      m_out += '"';
      return;
    }
    // Escapes, non-ASCII and invalid UTF-8 (U+FFFD): exactly nlohmann's rules, from nlohmann.
    m_out += nlohmann::json(std::string(text))
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  std::string& m_out;
  bool m_pretty;
  bool m_after_key = false;
  std::vector<bool> m_first; ///< per open container: no element written yet
};

void write_instance(JsonWriter& w, const registry::Instance& instance) {
  w.begin_object();
  w.key("app");
  w.string(instance.app);
  w.key("instance");
  w.string(instance.instance);
  w.key("name");
  w.string(instance.instance.empty() ? instance.app : instance.app + "@" + instance.instance);
  w.key("key");
  w.string(instance.key);
  w.key("value");
  w.string(instance.value);
  if (instance.address) {
    w.key("address");
    w.string(instance.address->str());
    w.key("host");
    w.string(instance.address->host);
    w.key("port");
    w.number(instance.address->port);
  } else {
    for (const char* name : {"address", "host", "port"}) {
      w.key(name);
      w.null();
    }
  }
  w.key("valid");
  w.boolean(instance.address.has_value());
  w.key("health");
  w.string(registry::health_name(instance.health));
  w.key("ttl_left");
  if (instance.ttl_left) {
    w.number(instance.ttl_left->count());
  } else {
    w.null();
  }
  w.key("tags");
  w.begin_array();
  for (const auto& tag : instance.tags) {
    w.string(tag);
  }
  w.end_array();
  w.key("meta");
  w.begin_object();
  for (const auto& [name, value] : instance.meta) {
    w.key(name);
    w.string(value);
  }
  w.end_object();
  w.key("node");
  w.string(instance.node);
  w.end_object();
}

std::string format_json(const Listing& listing, bool compact) {
  std::string out;
  out.reserve(listing.instances.size() * (compact ? 260 : 400) + 128);
  JsonWriter w(out, compact);
  w.begin_object();
  w.key("schema");
  w.number(k_schema_version);
  w.key("backend");
  w.string(listing.backend);
  w.key("instances");
  w.begin_array();
  for (const auto& instance : listing.instances) {
    write_instance(w, instance);
  }
  w.end_array();
  w.key("malformed");
  w.number(static_cast<std::int64_t>(listing.malformed));
  w.end_object();
  out += '\n';
  return out;
}

} // namespace

OutputFormat parse_output_format(std::string_view text) {
  if (text == "table") {
    return OutputFormat::table;
  }
  if (text == "wide") {
    return OutputFormat::wide;
  }
  if (text == "json") {
    return OutputFormat::json;
  }
  if (text == "yaml") {
    return OutputFormat::yaml;
  }
  throw Error(ErrorKind::usage,
              fmt::format("invalid --output '{}': use table, wide, json or yaml", text));
}

nlohmann::ordered_json to_json(const Listing& listing) {
  nlohmann::ordered_json doc;
  doc["schema"] = k_schema_version;
  doc["backend"] = listing.backend;
  doc["instances"] = nlohmann::ordered_json::array();
  for (const auto& instance : listing.instances) {
    doc["instances"].push_back(instance_json(instance));
  }
  doc["malformed"] = listing.malformed;
  return doc;
}

std::string format_listing(const Listing& listing, const FormatOptions& options) {
  switch (options.format) {
  case OutputFormat::table:
  case OutputFormat::wide:
    return format_table(listing, options);
  case OutputFormat::json:
    // Registry values are arbitrary bytes; invalid UTF-8 becomes U+FFFD instead of an exception.
    return format_json(listing, options.compact);
  case OutputFormat::yaml:
    return format_yaml(listing);
  }
  return {};
}

std::string format_ttl(const std::optional<std::chrono::seconds>& ttl) {
  if (!ttl || ttl->count() < 0) {
    return std::string(k_none);
  }
  auto s = ttl->count();
  if (s < 60) {
    return fmt::format("{}s", s);
  }
  if (s < 3600) {
    return s % 60 == 0 ? fmt::format("{}m", s / 60) : fmt::format("{}m{}s", s / 60, s % 60);
  }
  if (s < 86400) {
    auto m = (s % 3600) / 60;
    return m == 0 ? fmt::format("{}h", s / 3600) : fmt::format("{}h{}m", s / 3600, m);
  }
  auto h = (s % 86400) / 3600;
  return h == 0 ? fmt::format("{}d", s / 86400) : fmt::format("{}d{}h", s / 86400, h);
}

std::string format_address(const registry::Instance& instance, std::size_t max_width) {
  if (instance.address) {
    return instance.address->str();
  }
  std::string shown = instance.value.empty() ? std::string("(empty)") : printable(instance.value);
  return "!" + truncated(std::move(shown), max_width);
}

std::string align_columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) {
      widths.resize(row.size(), 0);
    }
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line.append(widths[i] - display_width(row[i]), ' ');
        line += k_gap;
      }
    }
    // A last cell that is empty would otherwise leave the gap behind.
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line;
    out += '\n';
  }
  return out;
}

} // namespace herald::route
