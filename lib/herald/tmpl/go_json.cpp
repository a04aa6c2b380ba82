#include "herald/tmpl/go_json.hpp"

#include "herald/tmpl/go_strconv.hpp"

#include <stdexcept>

namespace herald::tmpl::go {
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw std::runtime_error(message);
}

// Go's quoteChar for syntax errors.
std::string quote_char(unsigned char c) {
  if (c == '\'') {
    return "'\\''";
  }
  if (c == '"') {
    return "'\"'";
  }
  std::string s;
  append_rune(s, c);
  std::string q = quote(s);
  return "'" + q.substr(1, q.size() - 2) + "'";
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// A recursive-descent reader whose errors read as Go's scanner state machine reports them.
class Reader {
public:
  explicit Reader(std::string_view s) : m_s(s) {}

  // checkValid: the whole input must be one value followed by white space only.
  void check() {
    skip_space();
    check_value(0);
    skip_space();
    if (m_i < m_s.size()) {
      syntax("after top-level value");
    }
  }

  Value read_top() {
    m_i = 0;
    skip_space();
    return read_value();
  }

  char first_non_space() const {
    std::size_t i = 0;
    while (i < m_s.size() && is_space(m_s[i])) {
      ++i;
    }
    return i < m_s.size() ? m_s[i] : '\0';
  }

private:
  [[noreturn]] void syntax(const std::string& context) const {
    if (m_i >= m_s.size()) {
      fail("unexpected end of JSON input");
    }
    fail("invalid character " + quote_char(static_cast<unsigned char>(m_s[m_i])) + " " + context);
  }

  void skip_space() {
    while (m_i < m_s.size() && is_space(m_s[m_i])) {
      ++m_i;
    }
  }

  bool at(char c) const { return m_i < m_s.size() && m_s[m_i] == c; }

  // `depth` counts the arrays and objects around the value. Only check() recurses without a
  // bound: read_value() runs on input check() accepted, so the limit here bounds both (and the
  // Value tree every later walk of it recurses over).
  void check_value(std::size_t depth) {
    if (m_i >= m_s.size()) {
      syntax("looking for beginning of value");
    }
    char c = m_s[m_i];
    if ((c == '{' || c == '[') && depth == k_max_json_depth) {
      // Go's scanner stops at 10000 levels with the same words; a C++ stack needs a lower bound.
      fail("exceeded max depth: JSON nested more than " + std::to_string(k_max_json_depth) +
           " levels deep");
    }
    switch (c) {
    case '{':
      ++m_i;
      skip_space();
      if (at('}')) {
        ++m_i;
        return;
      }
      for (;;) {
        if (!at('"')) {
          syntax("looking for beginning of object key string");
        }
        check_string();
        skip_space();
        if (!at(':')) {
          syntax("after object key");
        }
        ++m_i;
        skip_space();
        check_value(depth + 1);
        skip_space();
        if (at(',')) {
          ++m_i;
          skip_space();
          continue;
        }
        if (at('}')) {
          ++m_i;
          return;
        }
        syntax("after object key:value pair");
      }
    case '[':
      ++m_i;
      skip_space();
      if (at(']')) {
        ++m_i;
        return;
      }
      for (;;) {
        check_value(depth + 1);
        skip_space();
        if (at(',')) {
          ++m_i;
          skip_space();
          continue;
        }
        if (at(']')) {
          ++m_i;
          return;
        }
        syntax("after array element");
      }
    case '"':
      check_string();
      return;
    case 't':
      check_literal("true");
      return;
    case 'f':
      check_literal("false");
      return;
    case 'n':
      check_literal("null");
      return;
    default:
      if (c == '-' || (c >= '0' && c <= '9')) {
        check_number();
        return;
      }
      syntax("looking for beginning of value");
    }
  }

  void check_literal(std::string_view lit) {
    ++m_i;
    for (std::size_t k = 1; k < lit.size(); ++k) {
      if (!at(lit[k])) {
        syntax("in literal " + std::string(lit) + " (expecting " +
               quote_char(static_cast<unsigned char>(lit[k])) + ")");
      }
      ++m_i;
    }
  }

  void check_number() {
    if (at('-')) {
      ++m_i;
      if (!(m_i < m_s.size() && m_s[m_i] >= '0' && m_s[m_i] <= '9')) {
        syntax("in numeric literal");
      }
    }
    if (at('0')) {
      ++m_i;
    } else {
      while (m_i < m_s.size() && m_s[m_i] >= '0' && m_s[m_i] <= '9') {
        ++m_i;
      }
    }
    if (at('.')) {
      ++m_i;
      if (!(m_i < m_s.size() && m_s[m_i] >= '0' && m_s[m_i] <= '9')) {
        syntax("after decimal point in numeric literal");
      }
      while (m_i < m_s.size() && m_s[m_i] >= '0' && m_s[m_i] <= '9') {
        ++m_i;
      }
    }
    if (at('e') || at('E')) {
      ++m_i;
      if (at('+') || at('-')) {
        ++m_i;
      }
      if (!(m_i < m_s.size() && m_s[m_i] >= '0' && m_s[m_i] <= '9')) {
        syntax("in exponent of numeric literal");
      }
      while (m_i < m_s.size() && m_s[m_i] >= '0' && m_s[m_i] <= '9') {
        ++m_i;
      }
    }
  }

  void check_string() {
    ++m_i; // opening quote
    for (;;) {
      if (m_i >= m_s.size()) {
        syntax("in string literal");
      }
      auto c = static_cast<unsigned char>(m_s[m_i]);
      if (c == '"') {
        ++m_i;
        return;
      }
      if (c == '\\') {
        ++m_i;
        if (m_i >= m_s.size()) {
          syntax("in string escape code");
        }
        char e = m_s[m_i];
        if (e == 'u') {
          ++m_i;
          for (int k = 0; k < 4; ++k) {
            char h = m_i < m_s.size() ? m_s[m_i] : '\0';
            bool hex = (h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F');
            if (!hex) {
              syntax("in \\u hexadecimal character escape");
            }
            ++m_i;
          }
          continue;
        }
        if (e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't' && e != '\\' && e != '/' &&
            e != '"') {
          syntax("in string escape code");
        }
        ++m_i;
        continue;
      }
      if (c < 0x20) {
        syntax("in string literal");
      }
      ++m_i;
    }
  }

  Value read_value() {
    skip_space();
    char c = m_s[m_i];
    switch (c) {
    case '{': {
      ++m_i;
      Entries entries;
      skip_space();
      if (at('}')) {
        ++m_i;
        return Value::map(std::move(entries));
      }
      for (;;) {
        skip_space();
        std::string key = read_string();
        skip_space();
        ++m_i; // ':'
        Value v = read_value();
        entries.emplace_back(std::move(key), std::move(v));
        skip_space();
        if (at(',')) {
          ++m_i;
          continue;
        }
        ++m_i; // '}'
        return Value::map(std::move(entries));
      }
    }
    case '[': {
      ++m_i;
      std::vector<Value> items;
      skip_space();
      if (at(']')) {
        ++m_i;
        return Value::list(std::move(items));
      }
      for (;;) {
        items.push_back(read_value());
        skip_space();
        if (at(',')) {
          ++m_i;
          continue;
        }
        ++m_i; // ']'
        return Value::list(std::move(items));
      }
    }
    case '"':
      return Value(read_string());
    case 't':
      m_i += 4;
      return Value(true);
    case 'f':
      m_i += 5;
      return Value(false);
    case 'n':
      m_i += 4;
      return Value::nil();
    default: {
      std::size_t start = m_i;
      check_number();
      std::string_view text = m_s.substr(start, m_i - start);
      NumError err = NumError::none;
      double f = parse_float(text, err);
      if (err != NumError::none) {
        fail("json: cannot unmarshal number " + std::string(text) +
             " into Go value of type float64");
      }
      return Value(f);
    }
    }
  }

  static int hex4(std::string_view s) {
    int v = 0;
    for (char h : s) {
      v <<= 4;
      if (h >= '0' && h <= '9') {
        v |= h - '0';
      } else if (h >= 'a' && h <= 'f') {
        v |= h - 'a' + 10;
      } else {
        v |= h - 'A' + 10;
      }
    }
    return v;
  }

  std::string read_string() {
    ++m_i; // opening quote
    std::string out;
    while (m_s[m_i] != '"') {
      auto c = static_cast<unsigned char>(m_s[m_i]);
      if (c == '\\') {
        char e = m_s[m_i + 1];
        m_i += 2;
        switch (e) {
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          auto r = static_cast<char32_t>(hex4(m_s.substr(m_i, 4)));
          m_i += 4;
          if (r >= 0xD800 && r < 0xDC00) {
            // A surrogate pair, if the low half follows; a lone half becomes U+FFFD.
            if (m_s.substr(m_i, 2) == "\\u") {
              auto r2 = static_cast<char32_t>(hex4(m_s.substr(m_i + 2, 4)));
              if (r2 >= 0xDC00 && r2 < 0xE000) {
                m_i += 6;
                append_rune(out, 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00));
                break;
              }
            }
            append_rune(out, k_rune_error);
          } else if (r >= 0xDC00 && r < 0xE000) {
            append_rune(out, k_rune_error);
          } else {
            append_rune(out, r);
          }
          break;
        }
        default:
          out += e;
        }
        continue;
      }
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++m_i;
        continue;
      }
      std::size_t size = 1;
      char32_t r = decode_rune(m_s.substr(m_i), size);
      append_rune(out, r); // invalid UTF-8 becomes U+FFFD
      m_i += size;
    }
    ++m_i;
    return out;
  }

  std::string_view m_s;
  std::size_t m_i = 0;
};

std::string json_kind(char c) {
  switch (c) {
  case '{':
    return "object";
  case '[':
    return "array";
  case '"':
    return "string";
  case 't':
  case 'f':
    return "bool";
  default:
    return "number";
  }
}

} // namespace

Value json_object(std::string_view data) {
  Reader r(data);
  r.check();
  char c = r.first_non_space();
  if (c == 'n') {
    return Value::map({});
  }
  if (c != '{') {
    fail("json: cannot unmarshal " + json_kind(c) +
         " into Go value of type map[string]interface {}");
  }
  return r.read_top();
}

Value json_array(std::string_view data) {
  Reader r(data);
  r.check();
  char c = r.first_non_space();
  if (c == 'n') {
    return Value::list({});
  }
  if (c != '[') {
    fail("json: cannot unmarshal " + json_kind(c) + " into Go value of type []interface {}");
  }
  return r.read_top();
}

} // namespace herald::tmpl::go
