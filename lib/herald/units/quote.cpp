#include "herald/units/quote.hpp"

#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/core/utf8.hpp"
#include "herald/units/unit_name.hpp"

#include <fmt/format.h>
#include <optional>

namespace herald::units {

namespace {

constexpr std::string_view k_separators = " \t\n\r";

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

/// `digits` hex digits at text[at..] as a number; nullopt when there are fewer or one is no hex.
std::optional<char32_t> read_hex(std::string_view text, std::size_t at, std::size_t digits) {
  if (at + digits > text.size()) {
    return std::nullopt;
  }
  char32_t value = 0;
  for (std::size_t k = 0; k < digits; ++k) {
    int d = hex_digit_value(text[at + k]);
    if (d < 0) {
      return std::nullopt;
    }
    value = value * 16 + static_cast<char32_t>(d);
  }
  return value;
}

bool valid_code_point(char32_t c) {
  std::string encoded;
  append_utf8(encoded, c);
  return c != 0 && c < 0x110000 && is_valid_utf8(encoded);
}

/// systemd's cunescape_one() on the escape whose letter is text[at] (after the backslash):
/// appends what it decodes to and returns how many characters it used, or 0 when it is invalid.
std::size_t decode_escape(std::string_view text, std::size_t at, std::string& out) {
  char c = text[at];
  switch (c) {
  case 'a':
    out += '\a';
    return 1;
  case 'b':
    out += '\b';
    return 1;
  case 'f':
    out += '\f';
    return 1;
  case 'n':
    out += '\n';
    return 1;
  case 'r':
    out += '\r';
    return 1;
  case 't':
    out += '\t';
    return 1;
  case 'v':
    out += '\v';
    return 1;
  case '\\':
  case '"':
  case '\'':
    out += c;
    return 1;
  case 's':
    out += ' ';
    return 1;
  case 'x': {
    auto byte = read_hex(text, at + 1, 2);
    if (!byte || *byte == 0) {
      return 0;
    }
    out += static_cast<char>(*byte); // a raw byte, as systemd's "eight bit" escapes
    return 3;
  }
  case 'u':
  case 'U': {
    std::size_t digits = c == 'u' ? 4 : 8;
    auto code = read_hex(text, at + 1, digits);
    if (!code || !valid_code_point(*code)) {
      return 0;
    }
    append_utf8(out, *code);
    return digits + 1;
  }
  default:
    break;
  }
  if (c >= '0' && c <= '7') {
    if (at + 3 > text.size()) {
      return 0;
    }
    unsigned value = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      char d = text[at + k];
      if (d < '0' || d > '7') {
        return 0;
      }
      value = value * 8 + static_cast<unsigned>(d - '0');
    }
    if (value == 0 || value > 255) {
      return 0;
    }
    out += static_cast<char>(value);
    return 3;
  }
  return 0;
}

[[noreturn]] void bad_words(std::string_view value, const std::string& why) {
  throw Error(ErrorKind::data,
              fmt::format("cannot split {} into words: {}", quoted(value.substr(0, 200)), why));
}

bool is_bare_word_char(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == '-' || c == '.' || c == '/' || c == ':' || c == '@' || c == '+' || c == ',' ||
         c == '=';
}

std::string double_dollars(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    out += c;
    if (c == '$') {
      out += '$';
    }
  }
  return out;
}

} // namespace

std::vector<std::string> split_words(std::string_view value) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (true) {
    while (i < value.size() && k_separators.find(value[i]) != std::string_view::npos) {
      ++i;
    }
    if (i >= value.size()) {
      return words;
    }
    std::string word;
    char quote = 0;
    while (i < value.size()) {
      char c = value[i];
      if (c == '\\') {
        if (i + 1 >= value.size()) {
          bad_words(value, "it ends in a lone backslash");
        }
        std::size_t used = decode_escape(value, i + 1, word);
        if (used == 0) {
          bad_words(value, fmt::format("unknown or invalid escape at byte {} (write \\\\ for a "
                                       "backslash)",
                                       i + 1));
        }
        i += 1 + used;
        continue;
      }
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else {
          word += c;
        }
        ++i;
        continue;
      }
      if (c == '"' || c == '\'') {
        quote = c;
        ++i;
        continue;
      }
      if (k_separators.find(c) != std::string_view::npos) {
        break;
      }
      word += c;
      ++i;
    }
    if (quote != 0) {
      bad_words(value,
                fmt::format("the {} quote is not closed", quote == '"' ? "double" : "single"));
    }
    words.push_back(std::move(word));
  }
}

std::string quote_word(std::string_view word) {
  if (word.find('\0') != std::string_view::npos) {
    throw Error(ErrorKind::data, "a NUL byte cannot be passed in a unit file");
  }
  bool bare = !word.empty();
  for (unsigned char c : word) {
    bare = bare && is_bare_word_char(c);
  }
  if (bare) {
    return std::string(word);
  }
  std::string out = "\"";
  for (std::size_t i = 0; i < word.size();) {
    unsigned char c = static_cast<unsigned char>(word[i]);
    if (c >= 0x80) {
      // Valid UTF-8 stays readable; any other byte is escaped so that the line stays valid
      // UTF-8 (systemd ignores a line that is not).
      std::size_t length = utf8_sequence_length(word, i);
      if (length > 0) {
        out += word.substr(i, length);
        i += length;
      } else {
        out += fmt::format("\\x{:02x}", c);
        ++i;
      }
      continue;
    }
    switch (c) {
    case '\\':
      out += "\\\\";
      break;
    case '"':
      out += "\\\"";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (c < 0x20 || c == 0x7F) {
        out += fmt::format("\\x{:02x}", c);
      } else {
        out += static_cast<char>(c);
      }
    }
    ++i;
  }
  out += '"';
  return out;
}

std::string exec_argument(std::string_view arg) {
  return quote_word(escape_specifiers(double_dollars(arg)));
}

bool is_valid_environment_name(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) {
    return false;
  }
  for (unsigned char c : name) {
    bool ok =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string environment_word(std::string_view name, std::string_view value) {
  if (!is_valid_environment_name(name)) {
    throw Error(ErrorKind::data,
                fmt::format("invalid environment variable name {}: use letters, digits and '_', "
                            "not starting with a digit",
                            quoted(name)));
  }
  if (value.find('\0') != std::string_view::npos) {
    throw Error(ErrorKind::data, fmt::format("the value of {} holds a NUL byte", name));
  }
  if (std::size_t bad = invalid_utf8_offset(value); bad != value.size()) {
    throw Error(ErrorKind::data,
                fmt::format("the value of {} is not valid UTF-8 (byte {}); systemd would drop it",
                            name, bad + 1));
  }
  std::string assignment(name);
  assignment += '=';
  assignment += value;
  return quote_word(escape_specifiers(assignment));
}

} // namespace herald::units
