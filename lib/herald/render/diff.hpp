#pragma once

#include <string>
#include <string_view>

namespace herald::render {

/// A unified diff (as `diff -u` prints it, 3 lines of context) turning `before` into `after`,
/// headed `--- old_label` / `+++ new_label`; "" when they are equal. A missing final newline is
/// marked "\ No newline at end of file" so `patch` reproduces the bytes exactly. Uses Myers'
/// algorithm on the lines between the common head and tail; an enormous difference falls back
/// to replacing that whole middle (still a correct patch).
std::string unified_diff(std::string_view before, std::string_view after,
                         std::string_view old_label, std::string_view new_label);

} // namespace herald::render
