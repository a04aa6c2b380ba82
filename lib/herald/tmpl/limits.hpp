#pragma once

// Bounds on what one template function may build from small inputs (Go has none and runs out of
// memory instead): `replace` of "" in a long string, `join` with a long separator, `printf`
// with a million-column width per verb, `split` of a long string into single characters.

#include <cstddef>

namespace herald::tmpl {

/// The longest string a template function returns: 64 MiB, the default output cap.
inline constexpr std::size_t k_max_string_size = std::size_t{64} << 20;

/// The most elements a template function returns in one list (`seq`, `split`): 1 Mi.
inline constexpr std::size_t k_max_list_length = std::size_t{1} << 20;

} // namespace herald::tmpl
