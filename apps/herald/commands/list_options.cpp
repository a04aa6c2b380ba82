// The flags every listing command shares (-o, --no-legend, --fields) and the printers on stdout.
#include "commands/commands.hpp"

#include <iostream>
#include <string>
#include <unistd.h>

namespace herald::commands {

void add_list_options(CLI::App& cmd, cli::ListOptions& opts,
                      const std::vector<cli::Column>& columns, bool offer_fields) {
  cmd.add_option("-o,--output", opts.output, "Output format: table, wide, simple, json or yaml")
      ->default_str("table");
  cmd.add_flag("--no-legend", opts.no_legend, "Tables: leave out the header row");
  if (offer_fields) {
    cmd.add_option("--fields", opts.fields,
                   "Columns to show, in this order (tables and -o simple): " +
                       column_names(columns));
  }
}

std::string column_names(const std::vector<cli::Column>& columns) {
  std::string names;
  for (const auto& column : columns) {
    names += (names.empty() ? "" : ",") + column.field;
  }
  return names;
}

cli::Printer make_printer(const cli::ListOptions& opts, std::vector<cli::Column> columns) {
  cli::OutputOptions options = cli::resolve_output(opts);
  options.terminal = ::isatty(STDOUT_FILENO) == 1;
  return cli::Printer(std::cout, std::move(columns), std::move(options));
}

cli::Printer make_text_printer() {
  return cli::Printer(std::cout, {}, {});
}

} // namespace herald::commands
