#include "herald/units/unit_name.hpp"

#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/fleet/unit_name.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <vector>

namespace herald::units {

namespace {

/// The unit types systemd 252 knows.
constexpr std::array<std::string_view, 11> k_systemd_types = {
    "service", "socket", "target", "device", "mount", "automount",
    "swap",    "timer",  "path",   "slice",  "scope"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& set, std::string_view word) {
  return std::find(set.begin(), set.end(), word) != set.end();
}

bool is_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/// systemd's VALID_CHARS: what a unit name part may hold besides the '@'.
bool is_valid_char(unsigned char c) {
  return is_alnum(c) || c == ':' || c == '-' || c == '_' || c == '.' || c == '\\';
}

/// The characters escape_instance() keeps as they are.
bool is_kept_by_escape(unsigned char c) {
  return is_alnum(c) || c == ':' || c == '_' || c == '.';
}

void append_hex_escape(std::string& out, unsigned char c) {
  constexpr std::string_view k_hex = "0123456789abcdef";
  out += "\\x";
  out += k_hex[c >> 4];
  out += k_hex[c & 0x0F];
}

/// fleet's and systemd's rules for the characters before the type: letters, digits, ":-_.\\@",
/// and no '@' first.
std::string character_problem(std::string_view name, std::size_t dot) {
  for (std::size_t i = 0; i < dot; ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (!is_valid_char(c) && c != '@') {
      return fmt::format("invalid character {} in unit name", fleet::go_quoted_char(name, i));
    }
  }
  if (name.front() == '@') {
    return R"(unit name cannot start in "@")";
  }
  return {};
}

/// The components of an absolute path after path_simplify(): no empty ones, no ".".
std::vector<std::string_view> path_components(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  while (pos < path.size()) {
    std::size_t slash = path.find('/', pos);
    std::string_view part =
        path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    if (slash == std::string_view::npos) {
      break;
    }
    pos = slash + 1;
  }
  return parts;
}

} // namespace

std::string UnitName::str() const {
  return stem() + "." + type;
}

std::string UnitName::stem() const {
  return instance ? prefix + "@" + *instance : prefix;
}

UnitName UnitName::template_name() const {
  return with_instance("");
}

UnitName UnitName::with_instance(std::string escaped_instance) const {
  if (!instance) {
    throw Error(ErrorKind::internal,
                fmt::format("{} is no template or instance: it has no '@'", str()));
  }
  return UnitName{prefix, std::move(escaped_instance), type};
}

std::string fleet_name_problem(std::string_view name) {
  return fleet::unit_name_problem(name).value_or("");
}

std::string systemd_name_problem(std::string_view name) {
  if (name.empty()) {
    return "unit name cannot be empty";
  }
  if (name.size() > k_unit_name_max) {
    return fmt::format("unit name exceeds maximum length ({})", k_unit_name_max);
  }
  std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) {
    return "unit name must end in a type such as .service";
  }
  std::string_view type = name.substr(dot + 1);
  if (!contains(k_systemd_types, type)) {
    return fmt::format("unit type \"{}\" is unknown to systemd", type);
  }
  if (std::string problem = character_problem(name, dot); !problem.empty()) {
    return problem;
  }
  return {};
}

UnitName parse_unit_name(std::string_view name) {
  std::string problem = fleet_name_problem(name);
  if (problem.empty()) {
    problem = systemd_name_problem(name);
  }
  if (!problem.empty()) {
    throw Error(ErrorKind::data, fmt::format("invalid unit name {}: {}", quoted(name), problem));
  }
  std::size_t dot = name.rfind('.');
  std::string_view stem = name.substr(0, dot);
  UnitName unit;
  unit.type = name.substr(dot + 1);
  if (std::size_t at = stem.find('@'); at != std::string_view::npos) {
    unit.prefix = stem.substr(0, at);
    unit.instance = std::string(stem.substr(at + 1));
  } else {
    unit.prefix = stem;
  }
  return unit;
}

bool is_valid_unit_name(std::string_view name) {
  return fleet_name_problem(name).empty() && systemd_name_problem(name).empty();
}

std::string escape_instance(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '/') {
      out += '-';
    } else if ((i == 0 && c == '.') || !is_kept_by_escape(c)) {
      append_hex_escape(out, c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string unescape_instance(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    char c = escaped[i];
    if (c == '-') {
      out += '/';
      continue;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i + 3 < escaped.size() && escaped[i + 1] == 'x') {
      int h = hex_digit_value(escaped[i + 2]);
      int l = hex_digit_value(escaped[i + 3]);
      if (h >= 0 && l >= 0 && (h | l) != 0) {
        out += static_cast<char>(h * 16 + l);
        i += 3;
        continue;
      }
    }
    throw Error(ErrorKind::data,
                fmt::format("cannot unescape {}: a backslash starts \\xNN (NN two hex digits, "
                            "not 00)",
                            quoted(escaped)));
  }
  return out;
}

std::string escape_path(std::string_view path) {
  if (!path.starts_with('/')) {
    throw Error(ErrorKind::data,
                fmt::format("cannot escape {} as a path: it is not absolute", quoted(path)));
  }
  std::vector<std::string_view> parts = path_components(path);
  if (std::find(parts.begin(), parts.end(), "..") != parts.end()) {
    throw Error(ErrorKind::data, fmt::format("cannot escape {} as a path: it has a \"..\" "
                                             "component",
                                             quoted(path)));
  }
  if (parts.empty()) {
    return "-";
  }
  std::string simplified;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      simplified += '/';
    }
    simplified += parts[i];
  }
  return escape_instance(simplified);
}

std::string unescape_path(std::string_view escaped) {
  if (escaped == "-") {
    return "/";
  }
  std::string path = "/" + unescape_instance(escaped);
  std::vector<std::string_view> parts = path_components(path);
  bool normalized = !path.ends_with('/') && path.find("//") == std::string::npos &&
                    std::none_of(parts.begin(), parts.end(),
                                 [](std::string_view p) { return p == "." || p == ".."; }) &&
                    path.find("/./") == std::string::npos && !path.ends_with("/.");
  if (!normalized) {
    throw Error(ErrorKind::data, fmt::format("cannot unescape {} as a path: it gives {}, "
                                             "which is not a normalized path",
                                             quoted(escaped), quoted(path)));
  }
  return path;
}

UnitName instance_of(std::string_view template_name, std::string_view instance) {
  UnitName unit = parse_unit_name(template_name);
  if (!unit.is_template()) {
    throw Error(ErrorKind::data,
                fmt::format("{} is not a template (NAME@.TYPE)", std::string(template_name)));
  }
  unit.instance = escape_instance(instance);
  std::string name = unit.str();
  if (unit.instance->empty() || !is_valid_unit_name(name)) {
    throw Error(ErrorKind::data, fmt::format("instance {} of {} does not make a valid unit name{}",
                                             quoted(instance), std::string(template_name),
                                             name.size() > k_unit_name_max ? " (too long)" : ""));
  }
  return unit;
}

std::string resolve_specifiers(std::string_view text, const UnitName& unit) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 1 == text.size()) {
      throw Error(ErrorKind::data,
                  fmt::format("{} ends in a lone '%': write %% for a '%'", quoted(text)));
    }
    char spec = text[++i];
    std::string_view dash_tail = unit.prefix;
    if (std::size_t dash = unit.prefix.rfind('-'); dash != std::string::npos) {
      dash_tail = std::string_view(unit.prefix).substr(dash + 1);
    }
    switch (spec) {
    case '%':
      out += '%';
      break;
    case 'n':
      out += unit.str();
      break;
    case 'N':
      out += unit.stem();
      break;
    case 'p':
      out += unit.prefix;
      break;
    case 'P':
      out += unescape_instance(unit.prefix);
      break;
    case 'i':
      out += unit.instance.value_or("");
      break;
    case 'I':
      out += unescape_instance(unit.instance.value_or(""));
      break;
    case 'j':
      out += dash_tail;
      break;
    case 'J':
      out += unescape_instance(dash_tail);
      break;
    default:
      throw Error(ErrorKind::data,
                  fmt::format("specifier %{} in {} is not one herald resolves (%n %N %p %P %i "
                              "%I %j %J %%)",
                              spec, quoted(text)));
    }
  }
  return out;
}

std::string escape_specifiers(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    out += c;
    if (c == '%') {
      out += '%';
    }
  }
  return out;
}

} // namespace herald::units
