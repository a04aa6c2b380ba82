#include "herald/core/base64.hpp"

#include <array>

namespace herald {

namespace {

constexpr std::string_view k_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int digit_value(unsigned char c, Base64Decoding decoding) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  bool lenient = decoding == Base64Decoding::lenient;
  if (c == '+' || (lenient && c == '-')) {
    return 62;
  }
  if (c == '/' || (lenient && c == '_')) {
    return 63;
  }
  return -1;
}

bool is_newline(char c) {
  return c == '\n' || c == '\r';
}

// Go's decodeQuantum, group by group, so a corrupt input is reported at the byte Go reports.
// Returns that offset, or nullopt once all of `src` is decoded into `out`.
std::optional<std::size_t> decode_into(std::string_view src, Base64Decoding decoding,
                                       std::string& out) {
  std::size_t si = 0;
  auto skip_newlines = [&] {
    while (si < src.size() && is_newline(src[si])) {
      ++si;
    }
  };
  for (;;) {
    std::array<unsigned, 4> group{0, 0, 0, 0};
    std::size_t len = 0; // digits read into this group
    bool last = false;
    while (len < 4) {
      if (si == src.size()) {
        if (len == 0) {
          return std::nullopt;
        }
        // An unpadded last group: Go's StdEncoding refuses it; one digit holds no whole byte.
        if (decoding == Base64Decoding::go_std || len == 1) {
          return si - len;
        }
        last = true;
        break;
      }
      auto in = static_cast<unsigned char>(src[si]);
      ++si;
      if (int value = digit_value(in, decoding); value >= 0) {
        group[len++] = static_cast<unsigned>(value);
        continue;
      }
      if (is_newline(static_cast<char>(in))) {
        continue;
      }
      // Padding ends the group after two or three digits ("xx==", "xxx="), and the input.
      if (in != '=' || len < 2) {
        return si - 1;
      }
      if (len == 2) {
        skip_newlines();
        if (si == src.size()) {
          return src.size();
        }
        if (src[si] != '=') {
          return si - 1;
        }
        ++si;
      }
      skip_newlines();
      if (si < src.size()) {
        return si; // something after the padding
      }
      last = true;
      break;
    }
    unsigned value = (group[0] << 18) | (group[1] << 12) | (group[2] << 6) | group[3];
    out.push_back(static_cast<char>((value >> 16) & 0xff));
    if (len >= 3) {
      out.push_back(static_cast<char>((value >> 8) & 0xff));
    }
    if (len == 4) {
      out.push_back(static_cast<char>(value & 0xff));
    }
    if (last) {
      return std::nullopt;
    }
  }
}

} // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned value = (static_cast<unsigned char>(bytes[i]) << 16) |
                     (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                     static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(k_alphabet[(value >> 18) & 63]);
    out.push_back(k_alphabet[(value >> 12) & 63]);
    out.push_back(k_alphabet[(value >> 6) & 63]);
    out.push_back(k_alphabet[value & 63]);
  }
  std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    unsigned value = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) {
      value |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    }
    out.push_back(k_alphabet[(value >> 18) & 63]);
    out.push_back(k_alphabet[(value >> 12) & 63]);
    out.push_back(rest == 2 ? k_alphabet[(value >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Base64Decoded base64_decode(std::string_view text, Base64Decoding decoding) {
  Base64Decoded result;
  result.bytes.reserve(text.size() / 4 * 3 + 2);
  result.bad_byte = decode_into(text, decoding, result.bytes);
  if (result.bad_byte) {
    result.bytes.clear();
  }
  return result;
}

} // namespace herald
