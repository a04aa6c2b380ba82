#include "herald/cli/printer.hpp"

#include "herald/cli/write_impl.hpp"
#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <ostream>
#include <yaml-cpp/yaml.h>

namespace herald::cli {

namespace {

constexpr std::string_view k_gap = "   ";
constexpr char k_replacement = '?';

/// Characters, not bytes: UTF-8 continuation bytes take no column of their own.
std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool is_plain_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7F;
  });
}

/// The length of the well-formed UTF-8 sequence at the start of `text` and its code point, or
/// 0 when it is not one (overlong, surrogate, beyond U+10FFFF, cut short).
std::size_t utf8_sequence(std::string_view text, char32_t& code_point) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(0);
  std::size_t length = 0;
  char32_t cp = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    cp = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    cp = lead & 0x07;
  } else {
    return 0;
  }
  if (text.size() < length) {
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (byte(i) & 0x3F);
  }
  bool overlong = (length == 3 && cp < 0x800) || (length == 4 && cp < 0x10000);
  if (overlong || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    return 0;
  }
  code_point = cp;
  return length;
}

/// Characters a terminal acts on instead of showing: C1 controls (U+009B is CSI, like ESC [)
/// and the bidirectional overrides and isolates, which make a cell read backwards.
bool is_hidden_control(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

std::string list_of(const std::vector<Column>& columns) {
  std::string names;
  for (const auto& column : columns) {
    names += (names.empty() ? "" : ", ") + column.field;
  }
  return names;
}

std::string lowercase(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return text;
}

void emit_yaml(YAML::Emitter& out, const nlohmann::ordered_json& value) {
  using Type = nlohmann::json::value_t;
  switch (value.type()) {
  case Type::object:
    if (value.empty()) {
      out << YAML::Flow; // "meta: {}" rather than a "{}" on a line of its own
    }
    out << YAML::BeginMap;
    for (const auto& [name, item] : value.items()) {
      out << YAML::Key << name << YAML::Value;
      emit_yaml(out, item);
    }
    out << YAML::EndMap;
    break;
  case Type::array:
    if (value.empty()) {
      out << YAML::Flow;
    }
    out << YAML::BeginSeq;
    for (const auto& item : value) {
      emit_yaml(out, item);
    }
    out << YAML::EndSeq;
    break;
  case Type::string:
    // Every string is double-quoted: plain "1", "yes", "1:20" or "" would read back as a
    // number, a bool, a sexagesimal or null in some YAML parser, and the schema says string.
    out << YAML::DoubleQuoted << value.get_ref<const std::string&>();
    break;
  case Type::boolean:
    out << value.get<bool>();
    break;
  case Type::number_integer:
    out << value.get<std::int64_t>();
    break;
  case Type::number_unsigned:
    out << value.get<std::uint64_t>();
    break;
  case Type::number_float:
    out << value.get<double>();
    break;
  default:
    out << YAML::Null;
    break;
  }
}

[[noreturn]] void throw_write_error() {
  int error = errno;
  throw Error(ErrorKind::internal,
              error != 0 ? fmt::format("cannot write the output: {}", std::strerror(error))
                         : std::string("cannot write the output"));
}

} // namespace

void write_checked(std::ostream& out, std::string_view text) {
  errno = 0;
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) {
    throw_write_error();
  }
}

void flush_checked(std::ostream& out) {
  errno = 0;
  out.flush();
  if (!out) {
    throw_write_error();
  }
}

std::string terminal_safe(std::string_view text) {
  if (is_plain_ascii(text)) {
    return std::string(text);
  }
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    auto u = static_cast<unsigned char>(text[i]);
    if (u < 0x80) {
      out.push_back(u < 0x20 || u == 0x7F ? k_replacement : text[i]);
      ++i;
      continue;
    }
    char32_t cp = 0;
    std::size_t length = utf8_sequence(text.substr(i), cp);
    if (length == 0 || is_hidden_control(cp)) {
      out.push_back(k_replacement);
      i += length == 0 ? 1 : length;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

std::string ellipsize(std::string text, std::size_t width) {
  if (width == 0 || display_width(text) <= width) {
    return text;
  }
  std::size_t keep = width > 3 ? width - 3 : 0;
  std::size_t chars = 0;
  std::size_t pos = 0;
  for (; pos < text.size(); ++pos) {
    if ((static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80) {
      if (chars == keep) {
        break;
      }
      ++chars;
    }
  }
  text.resize(pos);
  return text + "...";
}

OutputFormat parse_output_format(std::string_view text) {
  static constexpr std::pair<std::string_view, OutputFormat> k_formats[] = {
      {"table", OutputFormat::table},
      {"wide", OutputFormat::wide},
      {"simple", OutputFormat::simple},
      {"json", OutputFormat::json},
      {"yaml", OutputFormat::yaml}};
  for (const auto& [name, format] : k_formats) {
    if (text == name) {
      return format;
    }
  }
  throw Error(ErrorKind::usage,
              fmt::format("invalid --output '{}': use table, wide, simple, json or yaml", text));
}

OutputOptions resolve_output(const ListOptions& opts) {
  OutputOptions out;
  out.format = parse_output_format(opts.output);
  out.legend = !opts.no_legend;
  if (!opts.fields.empty()) {
    if (out.format == OutputFormat::json || out.format == OutputFormat::yaml) {
      throw Error(ErrorKind::usage,
                  fmt::format("--fields picks table columns; -o {} prints every field (select "
                              "them with jq, or use -o simple --fields ...)",
                              opts.output));
    }
    for (const auto& field : split(opts.fields, ',')) {
      out.fields.emplace_back(trim(field));
    }
  }
  return out;
}

Table::Table(const std::vector<std::size_t>& shown, std::size_t columns, bool wide)
    : m_shown(shown), m_wide(wide), m_is_shown(columns, false), m_columns(columns),
      m_widths(shown.size(), 0) {
  for (std::size_t index : shown) {
    m_is_shown[index] = true;
  }
}

bool Table::shown(std::size_t index) const {
  return index < m_columns && m_is_shown[index];
}

void Table::add_row(std::vector<std::string> cells) {
  if (cells.size() != m_columns) {
    throw Error(ErrorKind::internal,
                fmt::format("a table row has {} cells for {} columns", cells.size(), m_columns));
  }
  for (std::size_t i = 0; i < m_shown.size(); ++i) {
    std::string& cell = cells[m_shown[i]];
    std::string safe = is_plain_ascii(cell) ? std::move(cell) : terminal_safe(cell);
    m_widths[i] = std::max(m_widths[i], display_width(safe));
    m_cells.push_back(std::move(safe));
  }
}

void Table::render(std::string& out, const std::vector<std::string_view>& headers, bool simple) {
  std::size_t count = m_shown.size();
  for (std::size_t i = 0; i < headers.size(); ++i) {
    m_widths[i] = std::max(m_widths[i], display_width(headers[i]));
  }
  auto line = [&](auto&& cell_at) {
    std::size_t start = out.size();
    for (std::size_t i = 0; i < count; ++i) {
      std::string_view cell = cell_at(i);
      out += cell;
      if (i + 1 < count) {
        if (simple) {
          out += '\t';
        } else {
          out.append(m_widths[i] - display_width(cell), ' ');
          out += k_gap;
        }
      }
    }
    // A last cell that is empty would otherwise leave the gap behind.
    while (!simple && out.size() > start && out.back() == ' ') {
      out.pop_back();
    }
    out += '\n';
  };
  if (!headers.empty()) {
    line([&](std::size_t i) { return headers[i]; });
  }
  std::size_t row_count = count == 0 ? 0 : m_cells.size() / count;
  std::size_t line_width = count * k_gap.size() + 1;
  for (std::size_t width : m_widths) {
    line_width += width;
  }
  out.reserve(out.size() + row_count * line_width); // exact for ASCII
  for (std::size_t r = 0; r < row_count; ++r) {
    line([&](std::size_t i) { return std::string_view(m_cells[r * count + i]); });
  }
}

Printer::Printer(std::ostream& out, std::vector<Column> columns, OutputOptions options)
    : m_out(&out), m_columns(std::move(columns)), m_options(std::move(options)) {
  if (m_options.fields.empty()) {
    bool wide = m_options.format == OutputFormat::wide;
    for (std::size_t i = 0; i < m_columns.size(); ++i) {
      if (wide || !m_columns[i].wide) {
        m_shown.push_back(i);
      }
    }
    return;
  }
  for (const auto& field : m_options.fields) {
    std::string name = lowercase(field);
    auto found = std::find_if(m_columns.begin(), m_columns.end(),
                              [&](const Column& column) { return column.field == name; });
    if (found != m_columns.end()) {
      m_shown.push_back(static_cast<std::size_t>(found - m_columns.begin()));
      continue;
    }
    std::vector<std::string> names;
    for (const auto& column : m_columns) {
      names.push_back(column.field);
    }
    auto near = name.empty() ? std::nullopt : closest_match(name, names);
    throw Error(ErrorKind::usage,
                fmt::format("{} in --fields{} (valid: {})",
                            name.empty() ? std::string("empty field")
                                         : fmt::format("unknown field '{}'", terminal_safe(field)),
                            near ? fmt::format("; did you mean '{}'?", *near) : std::string(),
                            list_of(m_columns)));
  }
}

void Printer::print(const RowFunction& rows, const JsonFunction& json) {
  print_document(rows, json, {}, m_options.compact);
}

void Printer::print_update(const RowFunction& rows, const JsonFunction& json,
                           std::string_view title) {
  std::string prefix;
  if (m_options.format != OutputFormat::json) {
    if (m_options.terminal) {
      auto now = fmt::localtime(std::time(nullptr));
      prefix = fmt::format("\033[H\033[2J{} at {:%H:%M:%S} (Ctrl-C to stop)\n\n",
                           terminal_safe(title), now);
    } else if (m_printed > 0) {
      prefix = "---\n"; // tables and YAML documents, separated
    }
  }
  print_document(rows, json, std::move(prefix), true);
}

void Printer::print_text(std::string_view text) {
  write_checked(*m_out, text);
  flush_checked(*m_out);
}

void Printer::print_document(const RowFunction& rows, const JsonFunction& json, std::string prefix,
                             bool compact) {
  bool machine = m_options.format == OutputFormat::json || m_options.format == OutputFormat::yaml;
  if (machine && !json) {
    throw Error(ErrorKind::usage, "this command has no -o json or yaml output: use -o table");
  }
  if (!machine && !rows) {
    throw Error(ErrorKind::usage, "this command has no table output: use -o json or -o yaml");
  }
  ++m_printed;
  switch (m_options.format) {
  case OutputFormat::json: {
    write_checked(*m_out, prefix);
    JsonWriter writer(*m_out, compact);
    json(writer);
    writer.flush();
    write_checked(*m_out, "\n");
    break;
  }
  case OutputFormat::yaml: {
    nlohmann::ordered_json doc;
    {
      JsonWriter writer(doc);
      json(writer);
    }
    YAML::Emitter emitter;
    emit_yaml(emitter, doc);
    prefix += emitter.c_str();
    prefix += '\n';
    write_checked(*m_out, prefix);
    break;
  }
  case OutputFormat::table:
  case OutputFormat::wide:
  case OutputFormat::simple: {
    Table table(m_shown, m_columns.size(), m_options.format == OutputFormat::wide);
    rows(table);
    bool simple = m_options.format == OutputFormat::simple;
    std::vector<std::string_view> headers;
    if (m_options.legend && !simple) {
      for (std::size_t index : m_shown) {
        headers.push_back(m_columns[index].header);
      }
    }
    std::string& text = prefix;
    table.render(text, headers, simple);
    write_checked(*m_out, text);
    break;
  }
  }
  flush_checked(*m_out);
}

std::string or_dash(std::string_view text) {
  return text.empty() ? std::string("-") : std::string(text);
}

} // namespace herald::cli
