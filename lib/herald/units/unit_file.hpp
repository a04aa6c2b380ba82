#pragma once

// The systemd unit file as data (fleet's unit.UnitFile): sections in order, each a list of
// Name=Value options, repeated names kept. Parsed as systemd's config_parse() reads a file
// (systemd.syntax(7)) and emitted so that a parsed file comes back byte for byte: comments, blank
// lines and continuation lines are kept as written beside the values they belong to.

#include "herald/core/error.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::units {

/// A unit file systemd would refuse or misread, located: Error(data) whose message is
/// "SOURCE:LINE:COLUMN: what is wrong" (":COLUMN" left out when the whole line is at fault).
class ParseError : public Error {
public:
  ParseError(std::string source, int line, int column, const std::string& message);

  /// The file name (or "<stdin>", the unit's name) given to parse().
  const std::string& source() const noexcept { return m_source; }
  /// 1-based line.
  int line() const noexcept { return m_line; }
  /// 1-based column; 0 when the message is about the whole line.
  int column() const noexcept { return m_column; }

private:
  std::string m_source;
  int m_line;
  int m_column;
};

/// One `Name=Value` assignment.
struct UnitOption {
  std::string name;  ///< "ExecStartPre"
  std::string value; ///< as systemd reads it: trimmed, continuation lines joined by a space

  /// Comment and blank lines just above the option in the file, verbatim, each ending in '\n'.
  std::string leading;
  /// The option's lines as written (spaces around '=', continuation lines, comments between
  /// them), without the final newline; empty for options built in code. emit() writes it only
  /// while it still reads as name=value, so changing name or value is all an edit takes.
  std::string written;
  /// The 1-based line the option starts on in its file; 0 for options built in code.
  int line = 0;

  /// Equal name and value; layout is not compared.
  friend bool operator==(const UnitOption& a, const UnitOption& b) {
    return a.name == b.name && a.value == b.value;
  }
};

/// A `[Name]` section and its options in file order.
struct UnitSection {
  std::string name; ///< "Service", "X-Fleet"
  std::vector<UnitOption> options;

  /// Comment and blank lines above the header, verbatim. nullopt for sections built in code:
  /// emit() then separates them from the previous section by one blank line, as go-systemd's
  /// serializer (and so fleet) does.
  std::optional<std::string> leading;
  /// The header line as written ("[Service]  "), empty for sections built in code.
  std::string written;
  /// The 1-based line of the header; 0 for sections built in code.
  int line = 0;

  /// Equal names and options (layout is not compared).
  friend bool operator==(const UnitSection& a, const UnitSection& b) {
    return a.name == b.name && a.options == b.options;
  }
};

/// A whole unit file. Sections keep file order; a name may appear twice ([Service] split in
/// two), as systemd allows.
class UnitFile {
public:
  std::vector<UnitSection> sections;

  /// Comment and blank lines after the last option, verbatim.
  std::string trailing;
  /// False when the file's last line had no '\n' (kept so such a file also comes back as is).
  bool final_newline = true;
  /// True when the file began with a UTF-8 byte order mark (which systemd skips).
  bool byte_order_mark = false;

  /// Reads `text` as systemd does: a line ending in an odd number of backslashes continues on
  /// the next (the backslash becomes a space; comment lines in between are skipped); lines
  /// starting with '#' or ';' are comments; names and values are trimmed of whitespace; '\r\n'
  /// ends a line like '\n'. What systemd would refuse or silently drop is a ParseError naming
  /// `source`, the line and the column: an unterminated or unsafe section header, a line that is
  /// no Name=Value, an option before the first section, invalid UTF-8, a NUL byte, a line over
  /// 1 MiB.
  static UnitFile parse(std::string_view text, std::string_view source = "<unit>");

  /// The file's text. Parsed parts come back as written; built parts are written as
  /// `[Section]` and `Name=Value` lines, sections apart by a blank line. Error(data) when an
  /// option cannot be written so that systemd reads it back: a newline or another control
  /// character, leading or trailing whitespace, a final backslash (it would continue the line), a
  /// name that is empty or holds '=', whitespace or a control character, or a bad section name.
  std::string emit() const;

  /// The first section called `name`, or nullptr.
  const UnitSection* section(std::string_view name) const;
  /// The first section called `name`, or nullptr.
  UnitSection* section(std::string_view name);

  /// Every value of `name` in the sections called `section`, in file order (ExecStartPre x3).
  std::vector<std::string> values(std::string_view section, std::string_view name) const;

  /// The value systemd uses for a single-valued option: the last assignment; nullopt when absent.
  std::optional<std::string> value(std::string_view section, std::string_view name) const;

  /// Appends Name=Value to the last section called `section`, adding that section at the end when
  /// there is none.
  void add(std::string_view section, std::string_view name, std::string_view value);

  /// Makes `value` the only assignment of `name` in `section`: the first assignment is changed
  /// (keeping its place and comments), later ones are removed; added as add() does when absent.
  void set(std::string_view section, std::string_view name, std::string_view value);

  /// Removes every assignment of `name` in `section`; returns how many there were.
  std::size_t remove(std::string_view section, std::string_view name);

  /// Same sections with the same options in the same order (layout and comments aside).
  friend bool operator==(const UnitFile& a, const UnitFile& b) { return a.sections == b.sections; }
};

/// Why `name` cannot be a section name systemd accepts ("" when it can): it must be non-empty
/// and free of control characters, quotes, backslashes and brackets.
std::string section_name_problem(std::string_view name);

/// Why `name` cannot be written as an option name ("" when it can).
std::string option_name_problem(std::string_view name);

/// Why `value` cannot be written on a Name=Value line so that systemd reads it back unchanged
/// ("" when it can): see UnitFile::emit().
std::string option_value_problem(std::string_view value);

} // namespace herald::units
