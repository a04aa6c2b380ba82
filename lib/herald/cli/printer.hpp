#pragma once

// The printer: everything a command shows on stdout goes through it, in the manner of
// etcdctl's printer (etcdctl/ctlv3/command/printer.go) and fleetctl's --fields/--no-legend.
//
// A command declares its columns once, builds rows of cells for tables and writes its JSON
// document for scripts; the printer picks what `-o` asks for and renders it:
//
//   -o table   aligned columns under a header row (--no-legend drops it); wide columns hidden
//   -o wide    the table with the wide columns too
//   -o simple  no header, no padding, cells separated by one tab: for `cut -f` and `read`
//   -o json    the command's JSON document, indented; streamed, so any size costs little memory
//   -o yaml    the same document as YAML (every string double-quoted)
//   --fields   columns picked and ordered by name (table, wide, simple); an unknown name is a
//              usage error naming the nearest valid one and listing them all
//
// Cells are made safe for a terminal (control bytes become '?'): a registry value holding ESC
// or CR can never drive the terminal or break the table. The printer never writes colour. A
// write that fails (`> /dev/full`, a closed pipe) throws Error(internal), exit 1.
//
// Usage, in a command (apps/herald/commands/<name>.cpp; the flags come from the shared option
// group add_list_options() in commands.hpp, which fills a cli::ListOptions):
//
//   const std::vector<cli::Column> k_columns = {
//       {"unit", "UNIT"}, {"state", "STATE"}, {"machine", "MACHINE"},
//       {"hash", "HASH", /*wide=*/true}};
//
//   cli::Printer printer = make_printer(opts.list, k_columns); // before any network: --fields
//   std::vector<Unit> units = fleet.units();                   //   errors come first
//   printer.print(
//       [&](cli::Table& table) {
//         for (const Unit& u : units) {
//           table.add_row({u.name, u.state, u.machine, u.hash}); // one cell per column
//         }
//       },
//       [&](cli::JsonWriter& json) {
//         json.begin_array();
//         for (const Unit& u : units) {
//           json.begin_object();
//           json.key("unit");
//           json.string(u.name);
//           json.end_object();
//         }
//         json.end_array();
//       });
//
// Only the function the format needs is called: rows for table/wide/simple, the JSON writer for
// json/yaml. A document small enough to build may be handed over whole: `json.value(doc)`.
// Where rows are built: lib/ areas return data (route::Listing, a plan, unit states), and the
// code that turns that data into columns, rows and a JSON document lives here in cli/ (cli sits
// above every area), e.g. cli/route_output.{hpp,cpp} for `route ls`. A reprinting command
// (--watch) calls print_update() for every new state instead of print(). Output that is no
// listing (`render --stdout`, `completion`) goes through print_text() of make_text_printer().

#include "herald/cli/json_writer.hpp"

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace herald::cli {

/// What `-o` asks for.
enum class OutputFormat {
  table,  ///< aligned columns with a header row
  wide,   ///< the table with its wide columns
  simple, ///< rows only, cells separated by a tab
  json,   ///< the command's JSON document
  yaml    ///< the same document as YAML
};

/// Parses "table", "wide", "simple", "json", "yaml"; Error(usage) naming the text otherwise.
OutputFormat parse_output_format(std::string_view text);

/// The listing flags as typed; add_list_options() (apps) binds them, resolve_output() reads them.
struct ListOptions {
  std::string output = "table"; ///< -o/--output
  bool no_legend = false;       ///< --no-legend
  std::string fields;           ///< --fields a,b,c ("" = the format's default columns)
};

/// How the printer prints.
struct OutputOptions {
  OutputFormat format = OutputFormat::table;
  bool legend = true;              ///< tables: print the header row
  std::vector<std::string> fields; ///< columns to show, in order (empty = the format's own)
  bool compact = false;            ///< json: the document on one line instead of indented
  bool terminal = false;           ///< the output is a terminal (print_update() redraws it)
};

/// `opts` parsed: Error(usage) for an unknown -o or --fields given with -o json/yaml (they print
/// every field). Field names are checked by the Printer, which knows the columns.
OutputOptions resolve_output(const ListOptions& opts);

/// One column a command offers.
struct Column {
  std::string field;  ///< its --fields name: "address"
  std::string header; ///< its header cell: "ADDRESS"
  bool wide = false;  ///< shown by -o wide only (or when --fields names it)
};

/// The rows of one table, handed to a command's row function by Printer::print(). Add one row
/// per item, with one cell per column the printer was given, in that order.
class Table {
public:
  /// Adds a row. `cells` has one cell per column; hidden ones are dropped. Control bytes and
  /// invalid UTF-8 in a cell are shown as '?'.
  void add_row(std::vector<std::string> cells);

  /// Whether column `index` (into the printer's columns) is shown: a command may put "" in a
  /// hidden cell that would be costly to compute.
  bool shown(std::size_t index) const;

  /// True for -o wide, which shows long values whole: a command that cuts a long cell
  /// (ellipsize()) in a table leaves it whole then.
  bool wide() const { return m_wide; }

private:
  friend class Printer;
  Table(const std::vector<std::size_t>& shown, std::size_t columns, bool wide);
  /// Appends the rows to `out`: aligned under `headers` (none when empty), or tab-separated.
  void render(std::string& out, const std::vector<std::string_view>& headers, bool simple);

  const std::vector<std::size_t>& m_shown; ///< indices of the columns shown, in display order
  bool m_wide;
  std::vector<bool> m_is_shown; ///< per column
  std::size_t m_columns;
  std::vector<std::string> m_cells; ///< shown cells, row after row
  std::vector<std::size_t> m_widths;
};

/// Fills a table; called only for table, wide and simple.
using RowFunction = std::function<void(Table&)>;
/// Writes the JSON document; called only for json and yaml.
using JsonFunction = std::function<void(JsonWriter&)>;

/// Renders what a command shows to the stream it is handed (stdout in the binary, a string in
/// tests). See the top of this file.
class Printer {
public:
  /// Throws Error(usage) when options.fields names no column: "unknown field 'adress' in
  /// --fields; did you mean 'address'? Valid fields: app, instance, address, ...".
  Printer(std::ostream& out, std::vector<Column> columns, OutputOptions options);

  /// The options in force.
  const OutputOptions& options() const { return m_options; }

  /// Prints one document: a table from `rows`, or the JSON/YAML document from `json`, then
  /// flushes. An empty table without a legend prints nothing.
  void print(const RowFunction& rows, const JsonFunction& json);

  /// Prints the next state of a watched document (--watch). On a terminal, tables and YAML
  /// redraw the screen under "<title> at HH:MM:SS (Ctrl-C to stop)"; otherwise states after the
  /// first follow a "---" line. JSON is always one compact document per line.
  void print_update(const RowFunction& rows, const JsonFunction& json, std::string_view title);

  /// Writes `text` as it is, then flushes: output that is no listing (a rendered config, a
  /// completion script), with the same check of the write as every document. Never escaped: the
  /// text is the command's product, not a value read from the registry.
  void print_text(std::string_view text);

private:
  void print_document(const RowFunction& rows, const JsonFunction& json, std::string prefix,
                      bool compact);

  std::ostream* m_out;
  std::vector<Column> m_columns;
  OutputOptions m_options;
  std::vector<std::size_t> m_shown;
  std::size_t m_printed = 0;
};

/// `text` with every C0 control byte, DEL, C1 control character and invalid UTF-8 byte replaced
/// by '?': what a table cell, a title or any untrusted text shows on a terminal.
std::string terminal_safe(std::string_view text);

/// `text` cut to `width` characters, its last three being "..." (0: never cut); a UTF-8 sequence
/// is never split.
std::string ellipsize(std::string text, std::size_t width);

/// `text`, or "-" when it is empty: an empty table cell as every listing shows it.
std::string or_dash(std::string_view text);

} // namespace herald::cli
