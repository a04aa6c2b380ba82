#pragma once

#include <cstddef>
#include <string_view>

namespace herald {

/// The byte offset of the first invalid UTF-8 sequence in `text`, or text.size() when it is all
/// valid. Valid means what systemd's utf8_is_valid() accepts: shortest encodings of code points
/// up to U+10FFFF, no surrogates and no non-characters (U+FDD0..U+FDEF, U+xxFFFE, U+xxFFFF).
std::size_t invalid_utf8_offset(std::string_view text) noexcept;

/// The length (1-4) of the valid UTF-8 sequence starting at text[i], or 0 when the bytes there
/// are not one (by the rules of invalid_utf8_offset()).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept;

/// The length (1-4) of the valid UTF-8 sequence at text[i] with its code point in `code`, or 0
/// (and `code` unspecified) when the bytes there are not one (by the rules of invalid_utf8_offset).
std::size_t utf8_decode(std::string_view text, std::size_t i, char32_t& code) noexcept;

/// Line and paragraph separators, zero-width and bidirectional formatting characters and the
/// byte order mark: invisible in a log or a terminal, they can make text read as something else
/// ("Trojan Source").
bool is_invisible(char32_t code) noexcept;

/// True when invalid_utf8_offset() finds nothing.
inline bool is_valid_utf8(std::string_view text) noexcept {
  return invalid_utf8_offset(text) == text.size();
}

} // namespace herald
