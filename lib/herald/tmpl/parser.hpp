#pragma once

// The parser of Go's text/template/parse (parse.go, Go 1.19). Internal to tmpl/.

#include "herald/tmpl/node.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace herald::tmpl {

/// Parses `text` as the template `name`, adding its tree and every {{define}}d or {{block}} tree to
/// `set`. `has_function` says whether a function name is known (user functions or builtins);
/// `function_names` feeds the "did you mean" hint. Throws TemplateError with Go's message.
void parse_into(TreeSet& set, const std::string& name, std::shared_ptr<const std::string> text,
                const std::function<bool(std::string_view)>& has_function,
                const std::vector<std::string>& function_names);

} // namespace herald::tmpl
