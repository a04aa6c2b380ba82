#pragma once

// Unit names as systemd and fleet read them: "web.service", the template "web@.service", its
// instance "web@1.service"; prefix, instance and type parts; validation; systemd-escape's
// escaping of instance strings and paths, both ways; the %-specifiers a generated unit uses.

#include <optional>
#include <string>
#include <string_view>

namespace herald::units {

/// The most bytes a unit name may have. systemd's UNIT_NAME_MAX is 256 with the NUL, so 255;
/// fleet allows 256 and systemd would then refuse the unit on the machine.
inline constexpr std::size_t k_unit_name_max = 255;

/// A valid unit name taken apart.
struct UnitName {
  std::string prefix; ///< "web": before the '@', or the whole name before the type
  /// nullopt for a plain unit ("web.service"); "" for a template ("web@.service"); the escaped
  /// instance string for an instance ("1" in "web@1.service").
  std::optional<std::string> instance;
  std::string type; ///< "service", "socket", ...

  /// A template: "web@.service".
  bool is_template() const { return instance && instance->empty(); }
  /// An instance of a template: "web@1.service".
  bool is_instance() const { return instance && !instance->empty(); }

  /// The name: "web@1.service".
  std::string str() const;
  /// The name without ".type" (systemd's %N, unescaped parts aside): "web@1".
  std::string stem() const;
  /// The template this instance (or template) belongs to: "web@.service". Only for names with
  /// an '@'.
  UnitName template_name() const;
  /// This template (or instance) with another instance: "web@2.service". `escaped_instance` is
  /// used as is: escape_instance() it first when it is free text.
  UnitName with_instance(std::string escaped_instance) const;

  friend bool operator==(const UnitName&, const UnitName&) = default;
};

/// The reason fleet's API refuses `name` (a PUT answers 400 with it), worded as fleet words it
/// ("unit name must contain \".\"", "invalid unit type: \"bogus\"", ...), or "" when fleet
/// accepts it. fleet allows the types busname and snapshot, which systemd 252 no longer knows.
std::string fleet_name_problem(std::string_view name);

/// The reason systemd refuses `name` (unit_name_is_valid() and the unit types it knows), or ""
/// when it is a valid plain, template or instance name.
std::string systemd_name_problem(std::string_view name);

/// Parses a name both fleet and systemd accept; anything else is Error(data) naming `name` and
/// the first problem found (fleet's wording where fleet refuses it).
UnitName parse_unit_name(std::string_view name);

/// True when parse_unit_name() would accept `name`.
bool is_valid_unit_name(std::string_view name);

/// `text` escaped as `systemd-escape TEXT` does, for use as an instance (or prefix): '/' becomes
/// '-'; a leading '.', and every byte other than ASCII letters, digits, ':', '_' and '.', becomes
/// "\xNN" (lower-case hex) -- '-' and '\' included. "" stays "".
std::string escape_instance(std::string_view text);

/// The inverse, as `systemd-escape --unescape`: '-' becomes '/', "\xNN" the byte NN. Error(data)
/// for any other backslash sequence, a truncated one, or one that decodes to a NUL.
std::string unescape_instance(std::string_view escaped);

/// `path` escaped as `systemd-escape --path`: simplified ("//" and "/./" collapsed, trailing '/'
/// dropped), leading and trailing '/' removed, then escaped as above; "/" becomes "-".
/// Error(data) for a relative path or one with a ".." component.
std::string escape_path(std::string_view path);

/// The inverse, as `systemd-escape --unescape --path`: "-" is "/"; anything else is unescaped and
/// prefixed with '/', and must give a normalized path. Error(data) otherwise.
std::string unescape_path(std::string_view escaped);

/// The instance unit of `template_name` ("web@.service") for the free-text `instance`, as
/// `systemd-escape --template=web@.service INSTANCE` gives it ("web@a-b\x20c.service" for
/// "a/b c"). Error(data) when `template_name` is not a template or the result is too long.
UnitName instance_of(std::string_view template_name, std::string_view instance);

/// `text` with its specifiers resolved for the unit `unit` as systemd does for the ones a unit
/// built from a template needs: %n (full name), %N (name without type), %p (prefix), %P
/// (unescaped prefix), %i (instance), %I (unescaped instance), %j / %J (the prefix's last
/// '-'-separated part, escaped / unescaped) and %% ('%'). Error(data) naming the specifier for
/// any other, or a '%' at the end.
std::string resolve_specifiers(std::string_view text, const UnitName& unit);

/// `text` with every '%' doubled, so that systemd's specifier expansion gives `text` back.
std::string escape_specifiers(std::string_view text);

} // namespace herald::units
