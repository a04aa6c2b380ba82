#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace herald::fleet {

/// The parts of a unit name as fleet sees them (fleet's unit.UnitNameInfo).
struct UnitNameInfo {
  std::string full;     ///< "web@1.service"
  std::string name;     ///< without the type suffix: "web@1"
  std::string prefix;   ///< before '@' (the whole name when there is none): "web"
  std::string instance; ///< after '@': "1"; empty for a template or a plain unit
  std::string suffix;   ///< the unit type: "service"
  bool has_at = false;  ///< the name has an '@' (a template or an instance)

  /// True for "web@.service".
  bool is_template() const { return has_at && instance.empty(); }
  /// True for "web@1.service".
  bool is_instance() const { return has_at && !instance.empty(); }
  /// "web@.service" for an instance or a template; empty for a plain unit.
  std::string template_name() const;
};

/// Splits `name` at its last '.' and its first '@'; nullopt when it has no '.'.
std::optional<UnitNameInfo> parse_unit_name(std::string_view name);

/// Why fleet would refuse `name` on a PUT, in fleetd's own words ("unit name must contain
/// \".\""), checked in fleetd's order; nullopt when fleet accepts it.
std::optional<std::string> unit_name_problem(std::string_view name);

/// The character at `at` of `name` as Go's %q prints a rune ('!', '\\x01', '\\''), for fleet's
/// "invalid character %q in unit name": a control byte never reaches a message raw.
std::string go_quoted_char(std::string_view name, std::size_t at);

/// What fleetctl makes of a command-line argument: the base name of a path, with ".service"
/// added when it does not end in a unit type ("units/web@1" -> "web@1.service").
std::string mangle_unit_name(std::string_view arg);

/// True when `suffix` is a unit type fleet knows ("service", "socket", "timer", ...).
bool is_unit_type(std::string_view suffix);

/// `value` with fleet's specifiers expanded for the unit `name`: %n (full name), %N (without
/// the type), %p (prefix), %i (instance). fleet does this to [X-Fleet] values before it
/// schedules, so a template's `MachineOf=web@%i.service` follows each instance.
std::string expand_specifiers(std::string_view value, std::string_view name);

} // namespace herald::fleet
