#include "herald/fleet/unit_name.hpp"

#include <array>
#include <fmt/format.h>

namespace herald::fleet {

namespace {

constexpr std::size_t k_max_name = 256;

constexpr std::array<std::string_view, 13> k_unit_types{
    "automount", "busname",  "device", "mount", "path",   "scope", "service",
    "slice",     "snapshot", "socket", "swap",  "target", "timer"};

/// Types that may be templated or instantiated (fleetd refuses "hello@.mount").
constexpr std::array<std::string_view, 5> k_template_types{"path", "service", "socket", "target",
                                                           "timer"};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
         c == '-' || c == '_' || c == '.' || c == '\\' || c == '@';
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (std::size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

} // namespace

std::string UnitNameInfo::template_name() const {
  return has_at ? prefix + "@." + suffix : std::string();
}

std::optional<UnitNameInfo> parse_unit_name(std::string_view name) {
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos) {
    return std::nullopt;
  }
  UnitNameInfo info;
  info.full = std::string(name);
  info.name = std::string(name.substr(0, dot));
  info.suffix = std::string(name.substr(dot + 1));
  auto at = info.name.find('@');
  if (at == std::string::npos) {
    info.prefix = info.name;
  } else {
    info.has_at = true;
    info.prefix = info.name.substr(0, at);
    info.instance = info.name.substr(at + 1);
  }
  return info;
}

bool is_unit_type(std::string_view suffix) {
  for (std::string_view type : k_unit_types) {
    if (type == suffix) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> unit_name_problem(std::string_view name) {
  if (name.empty()) {
    return "unit name cannot be empty";
  }
  if (name.size() > k_max_name) {
    return fmt::format("unit name exceeds maximum length ({})", k_max_name);
  }
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos) {
    return std::string(R"(unit name must contain ".")");
  }
  if (dot == name.size() - 1) {
    return std::string(R"(unit name cannot end in ".")");
  }
  std::string_view suffix = name.substr(dot + 1);
  if (!is_unit_type(suffix)) {
    return fmt::format(R"(invalid unit type: "{}")", suffix);
  }
  if (name.find('@') != std::string_view::npos) {
    bool ok = false;
    for (std::string_view type : k_template_types) {
      ok = ok || type == suffix;
    }
    if (!ok) {
      return fmt::format(R"(invalid unit type for template: "{}")", suffix);
    }
  }
  for (std::size_t i = 0; i < dot; ++i) {
    if (!is_name_char(name[i])) {
      return fmt::format("invalid character {} in unit name", go_quoted_char(name, i));
    }
  }
  if (name.front() == '@') {
    return std::string(R"(unit name cannot start in "@")");
  }
  return std::nullopt;
}

std::string go_quoted_char(std::string_view name, std::size_t at) {
  unsigned char c = static_cast<unsigned char>(name[at]);
  if (c >= 0x20 && c < 0x7F) {
    if (c == '\'' || c == '\\') {
      return fmt::format("'\\{}'", static_cast<char>(c));
    }
    return fmt::format("'{}'", static_cast<char>(c));
  }
  if (c < 0x80) {
    return fmt::format("'\\x{:02x}'", c);
  }
  // A multi-byte character: Go prints it as is (when printable); show its bytes unchanged.
  std::size_t length = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
  return fmt::format("'{}'", name.substr(at, length));
}

std::string mangle_unit_name(std::string_view arg) {
  while (arg.size() > 1 && arg.back() == '/') {
    arg.remove_suffix(1);
  }
  if (auto slash = arg.rfind('/'); slash != std::string_view::npos) {
    arg.remove_prefix(slash + 1);
  }
  std::string name(arg);
  auto dot = name.rfind('.');
  if (dot == std::string::npos || !is_unit_type(std::string_view(name).substr(dot + 1))) {
    name += ".service";
  }
  return name;
}

std::string expand_specifiers(std::string_view value, std::string_view name) {
  std::string out(value);
  auto info = parse_unit_name(name);
  if (!info) {
    return out;
  }
  // fleet's unitPrintf replaces in this order, each over the result of the previous step.
  replace_all(out, "%n", info->full);
  replace_all(out, "%N", info->name);
  replace_all(out, "%p", info->prefix);
  replace_all(out, "%i", info->instance);
  return out;
}

} // namespace herald::fleet
