#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald {

/// Splits `text` at every `sep`; empty fields are kept ("a,,b" -> {"a","","b"}).
std::vector<std::string> split(std::string_view text, char sep);

/// `text` without leading and trailing ASCII whitespace.
std::string_view trim(std::string_view text);

/// `text` safe for one line of a terminal or a log: control bytes (and DEL) are written as C
/// escapes ("\n", "\t", "\x1b"), bytes that are not valid UTF-8 as "\xNN", and C1 controls and
/// invisible characters (bidirectional controls, zero-width ones, line separators) as "\u{202e}",
/// so a newline in untrusted text cannot start a forged line, an escape sequence cannot drive the
/// terminal and text cannot read as something it is not. Everything else, UTF-8 included, is kept.
std::string escape_control(std::string_view text);

/// `text` safe inside HTML text or a quoted attribute, as Go's template function `html` escapes
/// it: & < > " ' as entities (&amp; &lt; &gt; &#34; &#39;), NUL as U+FFFD.
std::string html_escape(std::string_view text);

/// `text` in double quotes for a message, escaped as escape_control() does and with '"' and '\'
/// escaped too: "web@\x00" (what fmt's {:?} does, without its assertion on invalid UTF-8).
std::string quoted(std::string_view text);

/// The candidate closest to `word` by edit distance when it is close enough to be a likely typo,
/// for "did you mean ...?" hints.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

/// The value of `name` in an /etc/environment-style file (KEY=value lines, optional quotes,
/// '#' comments); nullopt when the file or the key is missing.
std::optional<std::string> read_env_file_value(const std::string& path, std::string_view name);

/// The environment variable `name` when set and non-empty.
std::optional<std::string> getenv_nonempty(const char* name);

/// The value of the hex digit `c` (either case), or -1 when it is none.
int hex_digit_value(char c) noexcept;

} // namespace herald
