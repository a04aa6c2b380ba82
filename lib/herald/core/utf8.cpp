#include "herald/core/utf8.hpp"

namespace herald {

namespace {

/// The code point of the sequence at text[i] and its length, or length 0 when it is invalid.
struct Decoded {
  char32_t code = 0;
  std::size_t length = 0;
};

Decoded decode(std::string_view text, std::size_t i) noexcept {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  std::size_t length = 0;
  char32_t code = 0;
  char32_t minimum = 0;
  if (lead < 0x80) {
    return {lead, 1};
  }
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    code = lead & 0x1F;
    minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    code = lead & 0x0F;
    minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    code = lead & 0x07;
    minimum = 0x10000;
  } else {
    return {};
  }
  if (i + length > text.size()) {
    return {};
  }
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      return {};
    }
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  if (code < minimum) {
    return {}; // overlong
  }
  return {code, length};
}

/// systemd's unichar_is_valid().
bool valid_code_point(char32_t c) noexcept {
  if (c >= 0x110000 || (c & 0xFFFFF800) == 0xD800) {
    return false;
  }
  if ((c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE) {
    return false;
  }
  return true;
}

} // namespace

std::size_t utf8_decode(std::string_view text, std::size_t i, char32_t& code) noexcept {
  if (i >= text.size()) {
    return 0;
  }
  Decoded d = decode(text, i);
  code = d.code;
  return d.length != 0 && valid_code_point(d.code) ? d.length : 0;
}

std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept {
  char32_t code = 0;
  return utf8_decode(text, i, code);
}

bool is_invisible(char32_t code) noexcept {
  return (code >= 0x200b && code <= 0x200f) || (code >= 0x2028 && code <= 0x202e) ||
         (code >= 0x2060 && code <= 0x2069) || code == 0xfeff;
}

std::size_t invalid_utf8_offset(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      return i;
    }
    i += length;
  }
  return text.size();
}

} // namespace herald
