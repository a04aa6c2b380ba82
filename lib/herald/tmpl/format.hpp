#pragma once

// Go's fmt package as text/template uses it: Fprint of a value for {{.}}, and Sprint, Sprintln
// and Sprintf with Go's verbs, flags, width, precision and %!verb(type=value) diagnostics.

#include "herald/tmpl/value.hpp"

#include <span>
#include <string>
#include <string_view>

namespace herald::tmpl {

/// Appends fmt.Sprint(args...) to `out`: a space between operands when neither is a string.
void append_sprint(std::string& out, std::span<const Value> args);

/// fmt.Sprint(args...).
std::string sprint(std::span<const Value> args);

/// fmt.Sprintln(args...): operands separated by spaces, then a newline.
std::string sprintln(std::span<const Value> args);

/// fmt.Sprintf(format, args...).
std::string sprintf(std::string_view format, std::span<const Value> args);

/// Appends fmt.Sprint(v) for one value (nil and the invalid value print "<nil>").
void append_print(std::string& out, const Value& v);

} // namespace herald::tmpl
