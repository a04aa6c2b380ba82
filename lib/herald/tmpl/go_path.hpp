#pragma once

// Go's path package (slash-separated paths): Clean, Dir, Base and Match, as confd and memkv use
// them. Internal to tmpl/.

#include <stdexcept>
#include <string>
#include <string_view>

namespace herald::tmpl::go {

/// path.Clean: the shortest lexically equivalent path.
std::string path_clean(std::string_view path);

/// True when path_clean(path) == path, without building the cleaned copy in the usual case (a
/// key without '.'): KvStore asks this of every key it loads.
bool path_is_clean(std::string_view path);

/// path.Dir: all but the last element, cleaned.
std::string path_dir(std::string_view path);

/// path.Base: the last element ("." for "", "/" for only slashes).
std::string path_base(std::string_view path);

/// path.Join of two elements (empty elements ignored, result cleaned).
std::string path_join(std::string_view a, std::string_view b);

/// path.ErrBadPattern.
class BadPattern : public std::runtime_error {
public:
  BadPattern() : std::runtime_error("syntax error in pattern") {}
};

/// path.Match: whether `name` matches the shell pattern (`*` and `?` stop at '/', `[...]`
/// classes, `\` escapes). Throws BadPattern where Go returns ErrBadPattern.
bool path_match(std::string_view pattern, std::string_view name);

/// True when every chunk of `pattern` is well-formed (Go reports ErrBadPattern otherwise).
bool pattern_valid(std::string_view pattern);

/// The literal text every name matching `pattern` starts with.
std::string_view pattern_literal_prefix(std::string_view pattern);

} // namespace herald::tmpl::go
