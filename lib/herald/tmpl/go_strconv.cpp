#include "herald/tmpl/go_strconv.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace herald::tmpl::go {
namespace {

constexpr char k_lowerhex[] = "0123456789abcdef";

char lower(char c) {
  return static_cast<char>(c | ('x' - 'X'));
}

bool unhex(char c, char32_t& v) {
  if (c >= '0' && c <= '9') {
    v = static_cast<char32_t>(c - '0');
    return true;
  }
  if (c >= 'a' && c <= 'f') {
    v = static_cast<char32_t>(c - 'a' + 10);
    return true;
  }
  if (c >= 'A' && c <= 'F') {
    v = static_cast<char32_t>(c - 'A' + 10);
    return true;
  }
  return false;
}

bool valid_rune(char32_t r) {
  return r < 0xD800 || (r > 0xDFFF && r <= 0x10FFFF);
}

void append_escaped_rune(std::string& out, char32_t r, char quote, bool ascii_only) {
  if (r == static_cast<char32_t>(quote) || r == '\\') {
    out += '\\';
    append_rune(out, r);
    return;
  }
  if (ascii_only) {
    if (r < 0x80 && is_print(r)) {
      out += static_cast<char>(r);
      return;
    }
  } else if (is_print(r)) {
    append_rune(out, r);
    return;
  }
  switch (r) {
  case '\a':
    out += "\\a";
    return;
  case '\b':
    out += "\\b";
    return;
  case '\f':
    out += "\\f";
    return;
  case '\n':
    out += "\\n";
    return;
  case '\r':
    out += "\\r";
    return;
  case '\t':
    out += "\\t";
    return;
  case '\v':
    out += "\\v";
    return;
  default:
    break;
  }
  if (r < ' ' || r == 0x7f) {
    out += "\\x";
    out += k_lowerhex[(r >> 4) & 0xF];
    out += k_lowerhex[r & 0xF];
    return;
  }
  if (!valid_rune(r)) {
    r = k_rune_error;
  }
  if (r < 0x10000) {
    out += "\\u";
    for (int s = 12; s >= 0; s -= 4) {
      out += k_lowerhex[(r >> s) & 0xF];
    }
  } else {
    out += "\\U";
    for (int s = 28; s >= 0; s -= 4) {
      out += k_lowerhex[(r >> s) & 0xF];
    }
  }
}

bool underscore_ok(std::string_view s) {
  char saw = '^';
  std::size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    s.remove_prefix(1);
  }
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    char c = s[i];
    if ((c >= '0' && c <= '9') || (hex && lower(c) >= 'a' && lower(c) <= 'f')) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0') {
        return false;
      }
      saw = '_';
      continue;
    }
    if (saw == '_') {
      return false;
    }
    saw = '!';
  }
  return saw != '_';
}

// The decimal digits of a float, as Go's decimalSlice: d[0..nd) with the decimal point dp digits
// from the left.
struct Digits {
  std::string d;
  int dp = 0;
  bool neg = false;
};

// Splits a to_chars scientific result ("-1.2345e+03") into digits and decimal point position;
// trailing zeros are trimmed as Go's ryu code trims them.
Digits scientific_digits(double v, int precision) {
  char buf[512];
  std::to_chars_result res;
  if (precision < 0) {
    res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  } else {
    res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific, precision);
  }
  std::string_view s(buf, static_cast<std::size_t>(res.ptr - buf));
  Digits out;
  if (!s.empty() && s[0] == '-') {
    out.neg = true;
    s.remove_prefix(1);
  }
  auto e = s.find('e');
  std::string_view mant = s.substr(0, e);
  int exp = std::atoi(std::string(s.substr(e + 1)).c_str());
  for (char c : mant) {
    if (c != '.') {
      out.d += c;
    }
  }
  while (!out.d.empty() && out.d.back() == '0') {
    out.d.pop_back();
  }
  out.dp = out.d.empty() ? 0 : exp + 1;
  return out;
}

void fmt_e(std::string& dst, const Digits& d, int prec, char fmt) {
  if (d.neg) {
    dst += '-';
  }
  int nd = static_cast<int>(d.d.size());
  dst += nd != 0 ? d.d[0] : '0';
  if (prec > 0) {
    dst += '.';
    int i = 1;
    int m = std::min(nd, prec + 1);
    if (i < m) {
      dst.append(d.d, 1, static_cast<std::size_t>(m - 1));
      i = m;
    }
    for (; i <= prec; ++i) {
      dst += '0';
    }
  }
  dst += fmt;
  int exp = nd == 0 ? 0 : d.dp - 1;
  char sign = '+';
  if (exp < 0) {
    sign = '-';
    exp = -exp;
  }
  dst += sign;
  if (exp < 10) {
    dst += '0';
    dst += static_cast<char>('0' + exp);
  } else if (exp < 100) {
    dst += static_cast<char>('0' + exp / 10);
    dst += static_cast<char>('0' + exp % 10);
  } else {
    dst += static_cast<char>('0' + exp / 100);
    dst += static_cast<char>('0' + (exp / 10) % 10);
    dst += static_cast<char>('0' + exp % 10);
  }
}

void fmt_f(std::string& dst, const Digits& d, int prec) {
  if (d.neg) {
    dst += '-';
  }
  int nd = static_cast<int>(d.d.size());
  if (d.dp > 0) {
    int m = std::min(nd, d.dp);
    dst.append(d.d, 0, static_cast<std::size_t>(m));
    for (; m < d.dp; ++m) {
      dst += '0';
    }
  } else {
    dst += '0';
  }
  if (prec > 0) {
    dst += '.';
    for (int i = 1; i <= prec; ++i) {
      int j = d.dp + i - 1;
      dst += (j >= 0 && j < nd) ? d.d[static_cast<std::size_t>(j)] : '0';
    }
  }
}

} // namespace

char32_t decode_rune(std::string_view s, std::size_t& size) {
  if (s.empty()) {
    size = 0;
    return k_rune_error;
  }
  auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) {
    size = 1;
    return b0;
  }
  size = 1;
  auto cont = [&](std::size_t i, unsigned char lo, unsigned char hi) {
    if (i >= s.size()) {
      return false;
    }
    auto b = static_cast<unsigned char>(s[i]);
    return b >= lo && b <= hi;
  };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (!cont(1, 0x80, 0xBF)) {
      return k_rune_error;
    }
    size = 2;
    return ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(s[1]) & 0x3Fu);
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;
    unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;
    if (!cont(1, lo, hi) || !cont(2, 0x80, 0xBF)) {
      return k_rune_error;
    }
    size = 3;
    return ((b0 & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[1]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(s[2]) & 0x3Fu);
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;
    if (!cont(1, lo, hi) || !cont(2, 0x80, 0xBF) || !cont(3, 0x80, 0xBF)) {
      return k_rune_error;
    }
    size = 4;
    return ((b0 & 0x07u) << 18) | ((static_cast<unsigned char>(s[1]) & 0x3Fu) << 12) |
           ((static_cast<unsigned char>(s[2]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(s[3]) & 0x3Fu);
  }
  return k_rune_error;
}

void append_rune(std::string& out, char32_t r) {
  if (!valid_rune(r)) {
    r = k_rune_error;
  }
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

std::size_t rune_count(std::string_view s) {
  std::size_t n = 0;
  while (!s.empty()) {
    std::size_t size = 1;
    if (static_cast<unsigned char>(s[0]) >= 0x80) {
      decode_rune(s, size);
    }
    s.remove_prefix(size);
    ++n;
  }
  return n;
}

bool is_print(char32_t r) {
  if (r < 0x80) {
    return r >= 0x20 && r < 0x7F;
  }
  if (r < 0xA1) {
    return false; // C1 controls and NO-BREAK SPACE
  }
  if (r == 0xAD || r == 0x1680 || r == 0x180E || (r >= 0x2000 && r <= 0x200F) ||
      (r >= 0x2028 && r <= 0x202F) || (r >= 0x205F && r <= 0x206F) || r == 0x3000 || r == 0xFEFF ||
      (r >= 0xFFF9 && r <= 0xFFFB) || (r >= 0x600 && r <= 0x605) || r == 0x61C || r == 0x6DD ||
      r == 0x70F) {
    return false;
  }
  if ((r >= 0xD800 && r <= 0xDFFF) || (r >= 0xE000 && r <= 0xF8FF) || r >= 0xF0000 ||
      (r & 0xFFFE) == 0xFFFE || (r >= 0xFDD0 && r <= 0xFDEF) || r > 0x10FFFF) {
    return false;
  }
  return true;
}

bool is_letter(char32_t r) {
  if (r < 0x80) {
    return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
  }
  return is_print(r);
}

bool is_digit(char32_t r) {
  return r >= '0' && r <= '9';
}

std::string quote(std::string_view s, bool ascii_only) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  while (!s.empty()) {
    std::size_t width = 1;
    char32_t r = static_cast<unsigned char>(s[0]);
    if (r >= 0x80) {
      r = decode_rune(s, width);
    }
    if (width == 1 && r == k_rune_error) {
      out += "\\x";
      out += k_lowerhex[static_cast<unsigned char>(s[0]) >> 4];
      out += k_lowerhex[static_cast<unsigned char>(s[0]) & 0xF];
      s.remove_prefix(1);
      continue;
    }
    append_escaped_rune(out, r, '"', ascii_only);
    s.remove_prefix(width);
  }
  out += '"';
  return out;
}

std::string quote_rune(char32_t r, bool ascii_only) {
  if (!valid_rune(r)) {
    r = k_rune_error;
  }
  std::string out = "'";
  append_escaped_rune(out, r, '\'', ascii_only);
  out += '\'';
  return out;
}

bool can_backquote(std::string_view s) {
  while (!s.empty()) {
    std::size_t width = 1;
    char32_t r = static_cast<unsigned char>(s[0]);
    if (r >= 0x80) {
      r = decode_rune(s, width);
      if (width == 1 && r == k_rune_error) {
        return false;
      }
      if (r == 0xFEFF) {
        return false;
      }
      s.remove_prefix(width);
      continue;
    }
    if (r == '`' || r == 0x7F || (r < ' ' && r != '\t')) {
      return false;
    }
    s.remove_prefix(1);
  }
  return true;
}

std::optional<char32_t> unquote_char(std::string_view& s, char quote, bool* multibyte) {
  if (multibyte != nullptr) {
    *multibyte = false;
  }
  if (s.empty()) {
    return std::nullopt;
  }
  char c = s[0];
  if (c == quote && (quote == '\'' || quote == '"')) {
    return std::nullopt;
  }
  if (static_cast<unsigned char>(c) >= 0x80) {
    std::size_t size = 1;
    char32_t r = decode_rune(s, size);
    s.remove_prefix(size);
    if (multibyte != nullptr) {
      *multibyte = true;
    }
    return r;
  }
  if (c != '\\') {
    s.remove_prefix(1);
    return static_cast<char32_t>(static_cast<unsigned char>(c));
  }
  if (s.size() <= 1) {
    return std::nullopt;
  }
  c = s[1];
  s.remove_prefix(2);
  switch (c) {
  case 'a':
    return U'\a';
  case 'b':
    return U'\b';
  case 'f':
    return U'\f';
  case 'n':
    return U'\n';
  case 'r':
    return U'\r';
  case 't':
    return U'\t';
  case 'v':
    return U'\v';
  case 'x':
  case 'u':
  case 'U': {
    std::size_t n = c == 'x' ? 2 : (c == 'u' ? 4 : 8);
    if (s.size() < n) {
      return std::nullopt;
    }
    char32_t v = 0;
    for (std::size_t j = 0; j < n; ++j) {
      char32_t x = 0;
      if (!unhex(s[j], x)) {
        return std::nullopt;
      }
      v = (v << 4) | x;
    }
    s.remove_prefix(n);
    if (c == 'x') {
      return v;
    }
    if (!valid_rune(v)) {
      return std::nullopt;
    }
    if (multibyte != nullptr) {
      *multibyte = true;
    }
    return v;
  }
  case '0':
  case '1':
  case '2':
  case '3':
  case '4':
  case '5':
  case '6':
  case '7': {
    char32_t v = static_cast<char32_t>(c - '0');
    if (s.size() < 2) {
      return std::nullopt;
    }
    for (std::size_t j = 0; j < 2; ++j) {
      if (s[j] < '0' || s[j] > '7') {
        return std::nullopt;
      }
      v = (v << 3) | static_cast<char32_t>(s[j] - '0');
    }
    s.remove_prefix(2);
    if (v > 255) {
      return std::nullopt;
    }
    return v;
  }
  case '\\':
    return U'\\';
  case '\'':
  case '"':
    if (c != quote) {
      return std::nullopt;
    }
    return static_cast<char32_t>(c);
  default:
    return std::nullopt;
  }
}

std::optional<std::string> unquote(std::string_view s) {
  std::size_t n = s.size();
  if (n < 2) {
    return std::nullopt;
  }
  char q = s[0];
  if (q != s[n - 1]) {
    return std::nullopt;
  }
  s = s.substr(1, n - 2);
  if (q == '`') {
    if (s.find('`') != std::string_view::npos) {
      return std::nullopt;
    }
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
      if (c != '\r') {
        out += c;
      }
    }
    return out;
  }
  if (q != '"' && q != '\'') {
    return std::nullopt;
  }
  if (s.find('\n') != std::string_view::npos) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    bool multibyte = false;
    auto c = unquote_char(s, q, &multibyte);
    if (!c) {
      return std::nullopt;
    }
    if (*c < 0x80 || !multibyte) {
      out += static_cast<char>(*c);
    } else {
      append_rune(out, *c);
    }
    if (q == '\'' && !s.empty()) {
      return std::nullopt;
    }
  }
  return out;
}

std::uint64_t parse_uint(std::string_view s, int base, NumError& err) {
  err = NumError::none;
  if (s.empty()) {
    err = NumError::syntax;
    return 0;
  }
  bool base0 = base == 0;
  std::string_view s0 = s;
  if (base == 0) {
    base = 10;
    if (s[0] == '0') {
      if (s.size() >= 3 && lower(s[1]) == 'b') {
        base = 2;
        s.remove_prefix(2);
      } else if (s.size() >= 3 && lower(s[1]) == 'o') {
        base = 8;
        s.remove_prefix(2);
      } else if (s.size() >= 3 && lower(s[1]) == 'x') {
        base = 16;
        s.remove_prefix(2);
      } else {
        base = 8;
        s.remove_prefix(1);
      }
    }
  }
  const std::uint64_t max_val = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t cutoff = max_val / static_cast<std::uint64_t>(base) + 1;
  bool underscores = false;
  std::uint64_t n = 0;
  for (char c : s) {
    unsigned d = 0;
    if (c == '_' && base0) {
      underscores = true;
      continue;
    }
    if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (lower(c) >= 'a' && lower(c) <= 'z') {
      d = static_cast<unsigned>(lower(c) - 'a' + 10);
    } else {
      err = NumError::syntax;
      return 0;
    }
    if (d >= static_cast<unsigned>(base)) {
      err = NumError::syntax;
      return 0;
    }
    if (n >= cutoff) {
      err = NumError::range;
      return max_val;
    }
    n *= static_cast<std::uint64_t>(base);
    std::uint64_t n1 = n + d;
    if (n1 < n) {
      err = NumError::range;
      return max_val;
    }
    n = n1;
  }
  if (underscores && !underscore_ok(s0)) {
    err = NumError::syntax;
    return 0;
  }
  return n;
}

std::int64_t parse_int(std::string_view s, int base, NumError& err) {
  err = NumError::none;
  if (s.empty()) {
    err = NumError::syntax;
    return 0;
  }
  bool neg = false;
  if (s[0] == '+') {
    s.remove_prefix(1);
  } else if (s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  NumError uerr = NumError::none;
  std::uint64_t un = parse_uint(s, base, uerr);
  if (uerr == NumError::syntax) {
    err = uerr;
    return 0;
  }
  const std::uint64_t cutoff = std::uint64_t{1} << 63;
  if (!neg && un >= cutoff) {
    err = NumError::range;
    return std::numeric_limits<std::int64_t>::max();
  }
  if (neg && un > cutoff) {
    err = NumError::range;
    return std::numeric_limits<std::int64_t>::min();
  }
  if (uerr == NumError::range) {
    err = uerr;
  }
  if (neg) {
    return static_cast<std::int64_t>(0 - un);
  }
  return static_cast<std::int64_t>(un);
}

double parse_float(std::string_view s, NumError& err) {
  err = NumError::none;
  std::string_view body = s;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  std::string low;
  for (char c : body) {
    low += lower(c);
  }
  if (low == "inf" || low == "infinity") {
    return neg ? -HUGE_VAL : HUGE_VAL;
  }
  if (low == "nan" && s.size() == 3) {
    return std::nan("");
  }
  // Validate Go's float literal syntax before handing the digits to strtod.
  std::size_t i = 0;
  bool hex = false;
  bool underscores = false;
  if (body.size() >= 2 && body[0] == '0' && lower(body[1]) == 'x') {
    hex = true;
    i = 2;
  }
  bool saw_digits = false;
  bool saw_dot = false;
  for (; i < body.size(); ++i) {
    char c = body[i];
    if (c == '_') {
      underscores = true;
      continue;
    }
    if (c == '.') {
      if (saw_dot) {
        break;
      }
      saw_dot = true;
      continue;
    }
    if ((c >= '0' && c <= '9') || (hex && lower(c) >= 'a' && lower(c) <= 'f')) {
      saw_digits = true;
      continue;
    }
    break;
  }
  if (!saw_digits) {
    err = NumError::syntax;
    return 0;
  }
  if (i < body.size()) {
    char e = lower(body[i]);
    if ((!hex && e == 'e') || (hex && e == 'p')) {
      ++i;
      if (i < body.size() && (body[i] == '+' || body[i] == '-')) {
        ++i;
      }
      bool exp_digits = false;
      for (; i < body.size() && ((body[i] >= '0' && body[i] <= '9') || body[i] == '_'); ++i) {
        if (body[i] == '_') {
          underscores = true;
        } else {
          exp_digits = true;
        }
      }
      if (!exp_digits) {
        err = NumError::syntax;
        return 0;
      }
    } else if (hex) {
      err = NumError::syntax;
      return 0;
    }
  } else if (hex) {
    err = NumError::syntax; // a hex float needs its p exponent
    return 0;
  }
  if (i != body.size()) {
    err = NumError::syntax;
    return 0;
  }
  if (underscores && !underscore_ok(s)) {
    err = NumError::syntax;
    return 0;
  }
  std::string clean;
  for (char c : s) {
    if (c != '_') {
      clean += c;
    }
  }
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(clean.c_str(), &end);
  if (errno == ERANGE && std::isinf(v)) {
    err = NumError::range;
  }
  return v;
}

std::string format_float(double v, char fmt, int prec) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v < 0 ? "-Inf" : "+Inf";
  }
  std::string out;
  bool shortest = prec < 0;
  switch (fmt) {
  case 'e':
  case 'E': {
    Digits d = scientific_digits(v, shortest ? -1 : prec);
    if (shortest) {
      prec = std::max(static_cast<int>(d.d.size()) - 1, 0);
    }
    fmt_e(out, d, prec, fmt);
    return out;
  }
  case 'f':
  case 'F': {
    if (shortest) {
      Digits d = scientific_digits(v, -1);
      fmt_f(out, d, std::max(static_cast<int>(d.d.size()) - d.dp, 0));
      return out;
    }
    char buf[1100];
    auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, prec);
    return std::string(buf, res.ptr);
  }
  case 'g':
  case 'G': {
    int eprec = prec;
    Digits d;
    if (shortest) {
      d = scientific_digits(v, -1);
      prec = static_cast<int>(d.d.size());
      eprec = 6;
    } else {
      if (prec == 0) {
        prec = 1;
      }
      d = scientific_digits(v, prec - 1);
      eprec = prec;
    }
    int nd = static_cast<int>(d.d.size());
    if (!shortest && eprec > nd && nd >= d.dp) {
      eprec = nd;
    }
    int exp = d.dp - 1;
    if (exp < -4 || exp >= eprec) {
      if (prec > nd) {
        prec = nd;
      }
      fmt_e(out, d, prec - 1, static_cast<char>(fmt + 'e' - 'g'));
      return out;
    }
    if (prec > d.dp) {
      prec = nd;
    }
    fmt_f(out, d, std::max(prec - d.dp, 0));
    return out;
  }
  case 'x':
  case 'X': {
    char buf[64];
    auto res = shortest ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::hex)
                        : std::to_chars(buf, buf + sizeof buf, v, std::chars_format::hex, prec);
    std::string_view s(buf, static_cast<std::size_t>(res.ptr - buf));
    if (!s.empty() && s[0] == '-') {
      out += '-';
      s.remove_prefix(1);
    }
    out += "0x";
    auto p = s.find('p');
    out += s.substr(0, p + 1);
    std::string_view e = s.substr(p + 1);
    out += e[0];
    e.remove_prefix(1);
    if (e.size() < 2) {
      out += '0';
    }
    out += e;
    if (fmt == 'X') {
      std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return c == 'x' ? 'X' : (c == 'p' ? 'P' : (char)std::toupper(c));
      });
    }
    return out;
  }
  default:
    return "%" + std::string(1, fmt);
  }
}

} // namespace herald::tmpl::go
