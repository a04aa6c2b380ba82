#include "herald/units/unit_file.hpp"

#include "herald/core/strings.hpp"
#include "herald/core/utf8.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <utility>

namespace herald::units {

namespace {

/// systemd's LONG_LINE_MAX: longer lines (also after joining continuations) are refused.
constexpr std::size_t k_max_line = 1024 * 1024;

/// systemd's WHITESPACE, what it trims around names and values.
constexpr std::string_view k_whitespace = " \t\n\r";

constexpr std::string_view k_byte_order_mark = "\xEF\xBB\xBF";

std::string_view strip(std::string_view text) {
  std::size_t begin = text.find_first_not_of(k_whitespace);
  if (begin == std::string_view::npos) {
    return {};
  }
  std::size_t end = text.find_last_not_of(k_whitespace);
  return text.substr(begin, end - begin + 1);
}

/// The line without the '\r' of a "\r\n" ending.
std::string_view without_cr(std::string_view raw) {
  return raw.ends_with('\r') ? raw.substr(0, raw.size() - 1) : raw;
}

/// A comment line: its first non-blank character is '#' or ';' (systemd's COMMENTS).
bool is_comment(std::string_view line) {
  std::size_t first = line.find_first_not_of(k_whitespace);
  return first != std::string_view::npos && (line[first] == '#' || line[first] == ';');
}

bool is_blank(std::string_view line) {
  return strip(line).empty();
}

/// True when `line` ends in an odd run of backslashes: systemd then joins the next line to it.
bool continues(std::string_view line) {
  std::size_t run = 0;
  while (run < line.size() && line[line.size() - 1 - run] == '\\') {
    ++run;
  }
  return run % 2 == 1;
}

/// 1-based column of `part` (a view into `line`) within `line`.
int column_of(std::string_view line, std::string_view part) {
  return static_cast<int>(part.data() - line.data()) + 1;
}

/// A logical line: one or more physical lines joined as systemd joins them.
struct LogicalLine {
  std::string text;    ///< joined, '\r' dropped, backslash-newlines turned into spaces
  std::string written; ///< the physical lines as they are in the file, '\n' between them
  int line = 0;        ///< 1-based number of the first physical line
};

/// The file split at '\n', with what emit() needs to put it back together.
class Lines {
public:
  Lines(std::string_view text, std::string_view source, UnitFile& file) : m_source(source) {
    if (text.starts_with(k_byte_order_mark)) {
      file.byte_order_mark = true;
      text.remove_prefix(k_byte_order_mark.size());
    }
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t newline = text.find('\n', pos);
      if (newline == std::string_view::npos) {
        m_lines.push_back(text.substr(pos));
        file.final_newline = false;
        break;
      }
      m_lines.push_back(text.substr(pos, newline - pos));
      pos = newline + 1;
    }
    for (std::size_t i = 0; i < m_lines.size(); ++i) {
      check_physical(m_lines[i], static_cast<int>(i) + 1);
    }
  }

  bool done() const { return m_next >= m_lines.size(); }
  std::string_view peek() const { return without_cr(m_lines[m_next]); }
  std::string_view raw() const { return m_lines[m_next]; }
  int number() const { return static_cast<int>(m_next) + 1; }
  void advance() { ++m_next; }

  /// Reads the logical line starting at the current one.
  LogicalLine read_logical() {
    LogicalLine logical;
    logical.line = number();
    logical.text = peek();
    logical.written = raw();
    advance();
    while (continues(logical.text)) {
      logical.text.back() = ' ';
      // Comment lines inside a continuation are skipped (systemd.syntax(7)); a blank line is not
      // a comment: it is joined, and ends the continuation.
      while (!done() && is_comment(peek())) {
        logical.written += '\n';
        logical.written += raw();
        advance();
      }
      if (done()) {
        break;
      }
      logical.written += '\n';
      logical.written += raw();
      logical.text += peek();
      advance();
      if (logical.text.size() > k_max_line) {
        throw ParseError(
            m_source, logical.line, 0,
            fmt::format("line longer than {} bytes after joining continuation lines", k_max_line));
      }
    }
    return logical;
  }

  const std::string& source() const { return m_source; }

private:
  void check_physical(std::string_view line, int number) const {
    if (line.size() > k_max_line) {
      throw ParseError(
          m_source, number, 0,
          fmt::format("line longer than {} bytes, the most systemd reads", k_max_line));
    }
    if (std::size_t nul = line.find('\0'); nul != std::string_view::npos) {
      throw ParseError(m_source, number, static_cast<int>(nul) + 1,
                       "NUL byte: a unit file is text");
    }
  }

  std::string m_source;
  std::vector<std::string_view> m_lines;
  std::size_t m_next = 0;
};

/// Reads the section name out of a header line ("[Service]"), or throws.
std::string parse_header(std::string_view stripped, const LogicalLine& logical,
                         const std::string& source) {
  if (!stripped.ends_with(']')) {
    throw ParseError(source, logical.line, column_of(logical.text, stripped),
                     fmt::format("invalid section header {}: a header is [NAME] alone on its "
                                 "line",
                                 quoted(stripped)));
  }
  std::string name(stripped.substr(1, stripped.size() - 2));
  if (std::string problem = section_name_problem(name); !problem.empty()) {
    throw ParseError(source, logical.line, column_of(logical.text, stripped) + 1,
                     fmt::format("invalid section header {}: {}", quoted(stripped), problem));
  }
  return name;
}

/// Reads Name=Value out of an assignment line, or throws.
UnitOption parse_assignment(std::string_view stripped, const LogicalLine& logical,
                            const std::string& source) {
  std::size_t equals = stripped.find('=');
  int column = column_of(logical.text, stripped);
  if (equals == std::string_view::npos) {
    throw ParseError(source, logical.line, column,
                     fmt::format("expected NAME=VALUE or a [SECTION] header, found {}",
                                 quoted(stripped.substr(0, 60))));
  }
  std::string_view name = strip(stripped.substr(0, equals));
  if (name.empty()) {
    throw ParseError(source, logical.line, column, "missing option name before '='");
  }
  if (std::string problem = option_name_problem(name); !problem.empty()) {
    throw ParseError(source, logical.line, column, problem);
  }
  UnitOption option;
  option.name = name;
  option.value = strip(stripped.substr(equals + 1));
  option.line = logical.line;
  return option;
}

/// What a header or option line reads as, for the check that `written` still matches the data.
std::string joined(std::string_view written) {
  std::string text;
  std::size_t pos = 0;
  bool continuing = false;
  while (pos <= written.size()) {
    std::size_t newline = written.find('\n', pos);
    std::string_view line = without_cr(written.substr(
        pos, newline == std::string_view::npos ? std::string_view::npos : newline - pos));
    if (!(continuing && is_comment(line))) {
      text += line;
      continuing = continues(text);
      if (continuing) {
        text.back() = ' ';
      }
    }
    if (newline == std::string_view::npos) {
      break;
    }
    pos = newline + 1;
  }
  return text;
}

bool written_matches(const UnitOption& option) {
  if (option.written.empty()) {
    return false;
  }
  std::string text = joined(option.written);
  std::string_view line = strip(text);
  std::size_t equals = line.find('=');
  return equals != std::string_view::npos && strip(line.substr(0, equals)) == option.name &&
         strip(line.substr(equals + 1)) == option.value;
}

bool written_matches(const UnitSection& section) {
  if (section.written.empty()) {
    return false;
  }
  std::string text = joined(section.written);
  std::string_view line = strip(text);
  return line.size() >= 2 && line.front() == '[' && line.back() == ']' &&
         line.substr(1, line.size() - 2) == section.name;
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7F;
}

} // namespace

ParseError::ParseError(std::string source, int line, int column, const std::string& message)
    : Error(ErrorKind::data, column > 0 ? fmt::format("{}:{}:{}: {}", source, line, column, message)
                                        : fmt::format("{}:{}: {}", source, line, message)),
      m_source(std::move(source)), m_line(line), m_column(column) {}

std::string section_name_problem(std::string_view name) {
  if (name.empty()) {
    return "the section name is empty";
  }
  for (unsigned char c : name) {
    if (is_control(c) || c == '"' || c == '\'' || c == '\\' || c == '[' || c == ']') {
      return fmt::format("character {} is not allowed in a section name",
                         quoted(std::string(1, static_cast<char>(c))));
    }
  }
  if (!is_valid_utf8(name)) {
    return "the section name is not valid UTF-8";
  }
  return {};
}

std::string option_name_problem(std::string_view name) {
  if (name.empty()) {
    return "the option name is empty";
  }
  for (unsigned char c : name) {
    if (is_control(c) || c == ' ' || c == '=') {
      return fmt::format("character {} is not allowed in option name {}",
                         quoted(std::string(1, static_cast<char>(c))), quoted(name));
    }
  }
  if (name.front() == '[' || name.front() == '#' || name.front() == ';') {
    return fmt::format("option name {} would read as a header or a comment", quoted(name));
  }
  if (!is_valid_utf8(name)) {
    return fmt::format("option name {} is not valid UTF-8", quoted(name));
  }
  return {};
}

std::string option_value_problem(std::string_view value) {
  for (unsigned char c : value) {
    if (c == '\n') {
      return "it holds a newline (a unit file has no way to write one; join the lines)";
    }
    if (is_control(c) && c != '\t') {
      return fmt::format("it holds the control character {}",
                         quoted(std::string(1, static_cast<char>(c))));
    }
  }
  if (strip(value).size() != value.size()) {
    return "it starts or ends with whitespace, which systemd trims";
  }
  if (continues(value)) {
    return "it ends in a backslash, which would join the next line to it";
  }
  if (std::size_t bad = invalid_utf8_offset(value); bad != value.size()) {
    return fmt::format("it is not valid UTF-8 (byte {})", bad + 1);
  }
  return {};
}

UnitFile UnitFile::parse(std::string_view text, std::string_view source) {
  UnitFile file;
  Lines lines(text, source, file);
  std::string pending; // comment and blank lines not yet attached to what follows them
  UnitSection* current = nullptr;
  while (!lines.done()) {
    std::string_view line = lines.peek();
    if (is_comment(line) || is_blank(line)) {
      pending += lines.raw();
      pending += '\n';
      lines.advance();
      continue;
    }
    LogicalLine logical = lines.read_logical();
    std::string_view stripped = strip(logical.text);
    if (stripped.empty()) {
      // Only a backslash on its line: systemd reads an empty line.
      pending += logical.written;
      pending += '\n';
      continue;
    }
    if (std::size_t bad = invalid_utf8_offset(logical.text); bad != logical.text.size()) {
      throw ParseError(lines.source(), logical.line, static_cast<int>(bad) + 1,
                       "invalid UTF-8 (systemd ignores such a line)");
    }
    if (stripped.front() == '[') {
      UnitSection section;
      section.name = parse_header(stripped, logical, lines.source());
      section.leading = std::move(pending);
      section.written = std::move(logical.written);
      section.line = logical.line;
      pending.clear();
      file.sections.push_back(std::move(section));
      current = &file.sections.back();
      continue;
    }
    UnitOption option = parse_assignment(stripped, logical, lines.source());
    if (current == nullptr) {
      throw ParseError(lines.source(), logical.line, 0,
                       fmt::format("option {} comes before any section: put it under a header "
                                   "such as [Unit] or [Service]",
                                   option.name));
    }
    option.leading = std::move(pending);
    option.written = std::move(logical.written);
    pending.clear();
    current->options.push_back(std::move(option));
  }
  file.trailing = std::move(pending);
  return file;
}

std::string UnitFile::emit() const {
  std::string out;
  if (byte_order_mark) {
    out += k_byte_order_mark;
  }
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const UnitSection& section = sections[i];
    if (section.leading) {
      out += *section.leading;
    } else if (i > 0) {
      out += '\n';
    }
    if (written_matches(section)) {
      out += section.written;
    } else {
      if (std::string problem = section_name_problem(section.name); !problem.empty()) {
        throw Error(ErrorKind::data,
                    fmt::format("cannot write section [{}]: {}", quoted(section.name), problem));
      }
      out += '[';
      out += section.name;
      out += ']';
    }
    out += '\n';
    for (const UnitOption& option : section.options) {
      out += option.leading;
      if (written_matches(option)) {
        out += option.written;
      } else {
        if (std::string problem = option_name_problem(option.name); !problem.empty()) {
          throw Error(ErrorKind::data,
                      fmt::format("cannot write an option of [{}]: {}", section.name, problem));
        }
        if (std::string problem = option_value_problem(option.value); !problem.empty()) {
          throw Error(ErrorKind::data, fmt::format("cannot write {}= of [{}] {}: {}", option.name,
                                                   section.name, quoted(option.value), problem));
        }
        out += option.name;
        out += '=';
        out += option.value;
      }
      out += '\n';
    }
  }
  out += trailing;
  if (!final_newline && out.ends_with('\n')) {
    out.pop_back();
  }
  return out;
}

const UnitSection* UnitFile::section(std::string_view name) const {
  auto it = std::find_if(sections.begin(), sections.end(),
                         [&](const UnitSection& s) { return s.name == name; });
  return it == sections.end() ? nullptr : &*it;
}

UnitSection* UnitFile::section(std::string_view name) {
  return const_cast<UnitSection*>(std::as_const(*this).section(name));
}

std::vector<std::string> UnitFile::values(std::string_view section, std::string_view name) const {
  std::vector<std::string> found;
  for (const UnitSection& s : sections) {
    if (s.name != section) {
      continue;
    }
    for (const UnitOption& option : s.options) {
      if (option.name == name) {
        found.push_back(option.value);
      }
    }
  }
  return found;
}

std::optional<std::string> UnitFile::value(std::string_view section, std::string_view name) const {
  std::vector<std::string> all = values(section, name);
  if (all.empty()) {
    return std::nullopt;
  }
  return all.back();
}

void UnitFile::add(std::string_view section, std::string_view name, std::string_view value) {
  auto last = std::find_if(sections.rbegin(), sections.rend(),
                           [&](const UnitSection& s) { return s.name == section; });
  UnitSection* target = nullptr;
  if (last == sections.rend()) {
    sections.push_back(UnitSection{std::string(section), {}, std::nullopt, {}, 0});
    target = &sections.back();
  } else {
    target = &*last;
  }
  UnitOption option;
  option.name = name;
  option.value = value;
  target->options.push_back(std::move(option));
}

void UnitFile::set(std::string_view section, std::string_view name, std::string_view value) {
  bool first = true;
  for (UnitSection& s : sections) {
    if (s.name != section) {
      continue;
    }
    for (auto it = s.options.begin(); it != s.options.end();) {
      if (it->name != name) {
        ++it;
      } else if (first) {
        it->value = value;
        first = false;
        ++it;
      } else {
        it = s.options.erase(it);
      }
    }
  }
  if (first) {
    add(section, name, value);
  }
}

std::size_t UnitFile::remove(std::string_view section, std::string_view name) {
  std::size_t removed = 0;
  for (UnitSection& s : sections) {
    if (s.name == section) {
      removed += std::erase_if(s.options, [&](const UnitOption& o) { return o.name == name; });
    }
  }
  return removed;
}

} // namespace herald::units
