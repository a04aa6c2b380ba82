#pragma once

// Execution of parsed templates, as Go's text/template/exec.go (Go 1.19). Internal to tmpl/.

#include "herald/tmpl/node.hpp"
#include "herald/tmpl/template.hpp"

#include <string>

namespace herald::tmpl {

/// Walks `tree` (a member of `set`) with `data` as dot and $, appending output to `out`.
/// `name` is the executing template's name for messages. Throws TemplateError worded as Go's,
/// also when the output grows past options.max_output or the nesting past k_max_exec_depth.
void execute_tree(std::string& out, const TreeSet& set, const Tree* tree, const std::string& name,
                  const FuncMap& funcs, const Value& data, const ExecOptions& options);

/// Go's builtin functions (and, or, not, len, index, slice, print, printf, println, html, js,
/// urlquery, eq, ne, lt, le, gt, ge, call), implemented in funcs_go.cpp.
const FuncMap& builtin_funcs();

} // namespace herald::tmpl
