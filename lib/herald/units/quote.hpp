#pragma once

// Values of unit options that are lists of words (ExecStart=, Environment=): systemd splits them
// with extract_first_word(EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE), then resolves %-specifiers in
// each word, and for Exec lines substitutes $VAR / ${VAR} when the command runs. These functions
// read such values and write words that come back exactly, whatever bytes they hold.

#include <string>
#include <string_view>
#include <vector>

namespace herald::units {

/// The words of `value` as systemd splits them: whitespace separates words; "..." and '...'
/// quote (quotes may start anywhere in a word and are removed); C escapes (\n \t \\ \" \' \s \xNN
/// \NNN \uNNNN \UNNNNNNNN, systemd.syntax(7)) are decoded inside and outside quotes.
/// Specifiers and $ are left alone. Error(data) for an unbalanced quote, an unknown or
/// truncated escape, or an escape that decodes to NUL.
std::vector<std::string> split_words(std::string_view value);

/// `word` written as one word split_words() reads back unchanged: as is when it holds only
/// letters, digits and `_ - . / : @ + , =`; otherwise in double quotes, with '\\', '"' and
/// control characters escaped. "" becomes "". Specifiers and $ are not escaped (see below).
/// Error(data) for a NUL byte.
std::string quote_word(std::string_view word);

/// One argument of an Exec line (ExecStart=, ExecStartPre=, ...) that the program receives as
/// exactly `arg`: quote_word() of `arg` with '%' doubled (specifiers) and '$' doubled (systemd's
/// variable substitution).
std::string exec_argument(std::string_view arg);

/// One word of Environment= that sets `name` to exactly `value`: "NAME=VALUE" quoted with
/// quote_word(), '%' doubled. Error(data) when `name` is not a valid variable name
/// ([A-Za-z_][A-Za-z0-9_]*) or `value` is not valid UTF-8 or holds a NUL (systemd would drop
/// the assignment).
std::string environment_word(std::string_view name, std::string_view value);

/// True for a name systemd accepts in Environment= (and the shell as a variable).
bool is_valid_environment_name(std::string_view name);

} // namespace herald::units
