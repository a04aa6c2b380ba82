#pragma once

// Go's strconv and unicode/utf8 rules, as text/template and fmt apply them: quoting, unquoting,
// integer and float parsing and float formatting. Internal to tmpl/.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald::tmpl::go {

/// Go's utf8.RuneError, returned for invalid UTF-8.
inline constexpr char32_t k_rune_error = 0xFFFD;

/// Decodes the rune at the start of `s` as utf8.DecodeRuneInString does; `size` gets its width
/// (1 for invalid input, 0 for empty input).
char32_t decode_rune(std::string_view s, std::size_t& size);

/// Appends the UTF-8 encoding of `r` (invalid runes become U+FFFD).
void append_rune(std::string& out, char32_t r);

/// The number of runes in `s`, counting each invalid byte as one rune.
std::size_t rune_count(std::string_view s);

/// unicode.IsPrint, exact for ASCII and Latin-1, close for the rest of Unicode.
bool is_print(char32_t r);

/// unicode.IsLetter, exact for ASCII; every other letter-like rune counts as a letter.
bool is_letter(char32_t r);

/// unicode.IsDigit for ASCII (other digits count as letters through is_letter).
bool is_digit(char32_t r);

/// strconv.Quote (or QuoteToASCII when `ascii_only`).
std::string quote(std::string_view s, bool ascii_only = false);

/// strconv.QuoteRune (or QuoteRuneToASCII when `ascii_only`).
std::string quote_rune(char32_t r, bool ascii_only = false);

/// strconv.CanBackquote.
bool can_backquote(std::string_view s);

/// strconv.Unquote for "...", `...` and '...' literals; nullopt means strconv.ErrSyntax.
std::optional<std::string> unquote(std::string_view s);

/// strconv.UnquoteChar: decodes one (possibly escaped) character from the front of `s`, which it
/// advances; nullopt on a syntax error. `multibyte` tells whether the rune is to be UTF-8 encoded
/// (false for single-byte \x and octal escapes).
std::optional<char32_t> unquote_char(std::string_view& s, char quote, bool* multibyte = nullptr);

/// Why a strconv.ParseInt-style conversion failed.
enum class NumError { none, syntax, range };

/// strconv.ParseInt(s, base, 64); base 0 honours 0x/0o/0b/0 prefixes and underscores.
std::int64_t parse_int(std::string_view s, int base, NumError& err);

/// strconv.ParseUint(s, base, 64).
std::uint64_t parse_uint(std::string_view s, int base, NumError& err);

/// strconv.ParseFloat(s, 64), including hex floats, Inf and NaN.
double parse_float(std::string_view s, NumError& err);

/// strconv.FormatFloat(v, fmt, prec, 64) for the formats 'e' 'E' 'f' 'F' 'g' 'G'; prec -1 means
/// the shortest representation that round-trips.
std::string format_float(double v, char fmt, int prec);

} // namespace herald::tmpl::go
