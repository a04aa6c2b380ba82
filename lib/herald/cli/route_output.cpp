#include "herald/cli/route_output.hpp"

#include "herald/registry/layout.hpp"

#include <fmt/format.h>
#include <map>
#include <string>
#include <vector>

namespace herald::cli {

namespace {

constexpr std::string_view k_none = "-";
constexpr std::size_t k_table_value_width = 40;

enum RouteColumn : std::size_t {
  c_app,
  c_instance,
  c_address,
  c_health,
  c_ttl,
  c_tags,
  c_key,
  c_node,
  c_meta
};

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

std::string or_none(const std::string& text) {
  return text.empty() ? std::string(k_none) : text;
}

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
  w.key("problem");
  if (instance.address) {
    w.null();
  } else {
    w.string(instance.problem);
  }
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

} // namespace

const std::vector<Column>& route_columns() {
  static const std::vector<Column> k_columns{
      {"app", "APP"},       {"instance", "INSTANCE"}, {"address", "ADDRESS"},
      {"health", "HEALTH"}, {"ttl", "TTL"},           {"tags", "TAGS"},
      {"key", "KEY", true}, {"node", "NODE", true},   {"meta", "META", true}};
  return k_columns;
}

void add_route_rows(Table& table, const route::Listing& listing) {
  std::size_t address_width = table.wide() ? 0 : k_table_value_width;
  bool key = table.shown(c_key);
  bool node = table.shown(c_node);
  bool meta = table.shown(c_meta);
  for (const auto& instance : listing.instances) {
    auto health = instance.health == registry::Instance::Health::unknown
                      ? std::string(k_none)
                      : std::string(registry::health_name(instance.health));
    // Cells are made terminal-safe by the table; the wide ones only when shown.
    table.add_row(
        {instance.app, or_none(instance.instance), format_address(instance, address_width),
         std::move(health), format_ttl(instance.ttl_left), joined(instance.tags),
         key ? instance.key : std::string(), node ? or_none(instance.node) : std::string(),
         meta ? joined(instance.meta) : std::string()});
  }
}

void write_route_json(JsonWriter& w, const route::Listing& listing) {
  w.begin_object();
  w.key("schema");
  w.number(k_route_schema_version);
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
}

void print_routes(Printer& printer, const route::Listing& listing) {
  printer.print([&](Table& table) { add_route_rows(table, listing); },
                [&](JsonWriter& json) { write_route_json(json, listing); });
}

void print_routes_update(Printer& printer, const route::Listing& listing, std::string_view title) {
  printer.print_update([&](Table& table) { add_route_rows(table, listing); },
                       [&](JsonWriter& json) { write_route_json(json, listing); }, title);
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
  std::string shown =
      instance.value.empty() ? std::string("(empty)") : terminal_safe(instance.value);
  return "!" + ellipsize(std::move(shown), max_width);
}

} // namespace herald::cli
