#pragma once

// How deep a JSON document from outside (a registry value, an etcd, Consul or Docker answer) may
// nest. nlohmann::json parses and destroys iteratively, but dump(), copies and comparisons
// recurse, as do herald's own decoders and the template engine's walks over decoded values: on an
// 8 MiB stack dump() overflowed at 100 000 levels (10 000 under AddressSanitizer). Every document
// is therefore checked before it is decoded.

#include <cstddef>
#include <string_view>

namespace herald {

/// The deepest nesting of arrays and objects herald decodes; real documents stay below 10.
inline constexpr std::size_t k_max_json_depth = 1000;

/// The deepest nesting of arrays and objects in `text`, stopping early once it exceeds `limit`
/// (brackets inside strings do not count; the text need not be valid JSON). Linear, allocates
/// nothing.
std::size_t json_depth(std::string_view text, std::size_t limit = k_max_json_depth);

/// True when `text` nests arrays and objects more than k_max_json_depth levels deep.
inline bool json_too_deep(std::string_view text) {
  return json_depth(text) > k_max_json_depth;
}

/// Throws Error(data) "WHAT: JSON nested more than 1000 levels deep" when json_too_deep(text).
void check_json_depth(std::string_view text, std::string_view what);

} // namespace herald
