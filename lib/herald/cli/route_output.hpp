#pragma once

#include "herald/cli/printer.hpp"
#include "herald/route/listing.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace herald::cli {

/// The version of `route ls`'s JSON/YAML document; raised only on an incompatible change.
inline constexpr int k_route_schema_version = 1;

/// The columns of `route ls`: app, instance, address, health, ttl, tags, and the wide key, node,
/// meta.
const std::vector<Column>& route_columns();

/// One row per instance, one cell per route_columns() entry. A malformed value shows as
/// "!VALUE", cut to 40 characters unless the table is wide.
void add_route_rows(Table& table, const route::Listing& listing);

/// The documented JSON document of herald-route(1): {"schema", "backend", "instances",
/// "malformed"}, each instance {"app", "instance", "name", "key", "value", "address", "host",
/// "port", "valid", "health", "ttl_left", "tags", "meta", "node"}.
void write_route_json(JsonWriter& json, const route::Listing& listing);

/// `listing` printed by `printer`: its rows, or its JSON document.
void print_routes(Printer& printer, const route::Listing& listing);

/// The next state of a watched listing (Printer::print_update()).
void print_routes_update(Printer& printer, const route::Listing& listing, std::string_view title);

/// A TTL as the table shows it: "45s", "3m20s", "2h5m", "4d3h"; "-" when unknown.
std::string format_ttl(const std::optional<std::chrono::seconds>& ttl);

/// What the ADDRESS column shows: "host:port", or the raw value flagged as "!value" (made
/// terminal_safe(), cut to `max_width` characters unless it is 0).
std::string format_address(const registry::Instance& instance, std::size_t max_width = 0);

} // namespace herald::cli
