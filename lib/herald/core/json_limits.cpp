#include "herald/core/json_limits.hpp"

#include "herald/core/error.hpp"

#include <fmt/format.h>

namespace herald {

std::size_t json_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i; // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
    case '"':
      in_string = true;
      break;
    case '[':
    case '{':
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) {
          return deepest;
        }
      }
      break;
    case ']':
    case '}':
      if (depth > 0) {
        --depth;
      }
      break;
    default:
      break;
    }
  }
  return deepest;
}

void check_json_depth(std::string_view text, std::string_view what) {
  if (json_too_deep(text)) {
    throw Error(ErrorKind::data,
                fmt::format("{}: JSON nested more than {} levels deep", what, k_max_json_depth));
  }
}

} // namespace herald
