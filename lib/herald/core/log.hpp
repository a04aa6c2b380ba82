#pragma once

#include <string_view>

namespace herald::log {

/// How log lines are written to stderr.
enum class Format {
  text,    ///< "2026-11-23T09:12:00.123Z info  registered web@1 ..." for terminals and files
  journal, ///< "<6>registered web@1 ..." for journald: sd-daemon priority, no timestamp
  json     ///< one JSON object a line: {"ts":..,"level":..,"msg":..}
};

/// Logging set-up, resolved once in main() before anything logs.
struct Options {
  std::string_view level = "info"; ///< trace, debug, info, warn, error, off
  std::string_view format = "";    ///< "text", "json", or "" to choose (journal when
                                   ///< JOURNAL_STREAM is set, text otherwise)
};

/// Installs the default spdlog logger writing to stderr. Throws Error(usage) for an unknown level
/// or format. Library code then simply calls spdlog::info(...).
void setup(const Options& options);

/// The format `setup` would pick for `requested` in the current environment.
Format resolve_format(std::string_view requested);

} // namespace herald::log
