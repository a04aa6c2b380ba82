#pragma once

#include "herald/route/listing.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace herald::route {

/// How `route ls` prints a listing (`-o`).
enum class OutputFormat {
  table, ///< aligned columns APP INSTANCE ADDRESS HEALTH TTL TAGS
  wide,  ///< the table plus KEY, NODE and META
  json,  ///< the documented JSON document (herald-route(1))
  yaml   ///< the same document as YAML
};

/// Parses "table", "wide", "json", "yaml"; Error(usage) naming the text otherwise.
OutputFormat parse_output_format(std::string_view text);

/// Printing choices besides the format.
struct FormatOptions {
  OutputFormat format = OutputFormat::table;
  bool legend = true;   ///< tables: print the header row (`--no-legend` turns it off)
  bool compact = false; ///< json: one line per document (the --watch stream) instead of indented
};

/// The version of the JSON/YAML document; raised only on an incompatible change.
inline constexpr int k_schema_version = 1;

/// The listing as the documented JSON document: {"schema", "backend", "instances", "malformed"}.
nlohmann::ordered_json to_json(const Listing& listing);

/// The listing printed in `options.format`, ending with a newline (an empty table without a
/// legend is "").
std::string format_listing(const Listing& listing, const FormatOptions& options);

/// A TTL as the table shows it: "45s", "3m20s", "2h5m", "4d3h"; "-" when unknown.
std::string format_ttl(const std::optional<std::chrono::seconds>& ttl);

/// What the ADDRESS column shows: "host:port", or the raw value flagged as "!value" (control
/// characters replaced, cut to `max_width` characters unless it is 0).
std::string format_address(const registry::Instance& instance, std::size_t max_width = 0);

/// Columns printed for the rows given, each padded to its widest cell (by characters, not bytes)
/// and separated by three spaces; no trailing spaces.
std::string align_columns(const std::vector<std::vector<std::string>>& rows);

} // namespace herald::route
