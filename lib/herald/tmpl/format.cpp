#include "herald/tmpl/format.hpp"

#include "herald/tmpl/go_strconv.hpp"
#include "herald/tmpl/go_time.hpp"
#include "herald/tmpl/limits.hpp"

#include <cstdint>

namespace herald::tmpl {
namespace {

constexpr char k_ldigits[] = "0123456789abcdefx";
constexpr char k_udigits[] = "0123456789ABCDEFX";

// The flags of one verb, as Go's fmt.fmtFlags plus width and precision.
struct Flags {
  bool wid_present = false;
  bool prec_present = false;
  bool minus = false;
  bool plus = false;
  bool sharp = false;
  bool space = false;
  bool zero = false;
  bool plus_v = false;
  bool sharp_v = false;
  int wid = 0;
  int prec = 0;
};

// Go's pp: formats operands into a buffer.
class Printer {
public:
  explicit Printer(std::string& buf) : m_buf(buf) {}

  void print_arg(const Value& arg, char32_t verb);
  void do_print(std::span<const Value> args);
  void do_println(std::span<const Value> args);
  void do_printf(std::string_view format, std::span<const Value> args);

private:
  void print_value(const Value& v, char32_t verb, int depth);
  bool handle_methods(const Value& v, char32_t verb);
  void bad_verb(char32_t verb);
  void write_rune(char32_t r) { go::append_rune(m_buf, r); }

  // fmt.fmt primitives
  void write_padding(int n);
  void pad(std::string_view s);
  void pad_string(std::string_view s) { pad(s); }
  std::string_view truncate(std::string_view s) const;
  void fmt_boolean(bool v) { pad_string(v ? "true" : "false"); }
  void fmt_integer(std::uint64_t u, int base, bool is_signed, char32_t verb, const char* digits);
  void fmt_unicode(std::uint64_t u);
  void fmt_c(std::uint64_t c);
  void fmt_qc(std::uint64_t c);
  void fmt_float_raw(double v, char verb, int prec);
  void fmt_s(std::string_view s) { pad_string(truncate(s)); }
  void fmt_sx(std::string_view s, const char* digits);
  void fmt_q(std::string_view s);

  // pp type dispatch
  void fmt_bool(bool v, char32_t verb);
  void fmt_int(std::uint64_t v, bool is_signed, char32_t verb);
  void fmt_float(double v, char32_t verb);
  void fmt_string(std::string_view v, char32_t verb);

  std::string& m_buf;
  Flags m_f;
  const Value* m_arg = nullptr;   // top-level operand, nullptr for a nil interface
  const Value* m_value = nullptr; // nested value being printed
  bool m_erroring = false;
};

void Printer::write_padding(int n) {
  if (n <= 0) {
    return;
  }
  m_buf.append(static_cast<std::size_t>(n), m_f.zero ? '0' : ' ');
}

void Printer::pad(std::string_view s) {
  if (!m_f.wid_present || m_f.wid == 0) {
    m_buf += s;
    return;
  }
  int width = m_f.wid - static_cast<int>(go::rune_count(s));
  if (!m_f.minus) {
    write_padding(width);
    m_buf += s;
  } else {
    m_buf += s;
    write_padding(width);
  }
}

std::string_view Printer::truncate(std::string_view s) const {
  if (m_f.prec_present) {
    int n = m_f.prec;
    std::size_t i = 0;
    while (i < s.size()) {
      --n;
      if (n < 0) {
        return s.substr(0, i);
      }
      std::size_t size = 1;
      if (static_cast<unsigned char>(s[i]) >= 0x80) {
        go::decode_rune(s.substr(i), size);
      }
      i += size;
    }
  }
  return s;
}

void Printer::fmt_integer(std::uint64_t u, int base, bool is_signed, char32_t verb,
                          const char* digits) {
  bool negative = is_signed && static_cast<std::int64_t>(u) < 0;
  if (negative) {
    u = 0 - u;
  }
  int prec = 0;
  if (m_f.prec_present) {
    prec = m_f.prec;
    if (prec == 0 && u == 0) {
      bool old_zero = m_f.zero;
      m_f.zero = false;
      write_padding(m_f.wid);
      m_f.zero = old_zero;
      return;
    }
  } else if (m_f.zero && m_f.wid_present) {
    prec = m_f.wid;
    if (negative || m_f.plus || m_f.space) {
      --prec;
    }
  }
  std::string rev; // digits right to left
  switch (base) {
  case 10:
    while (u >= 10) {
      rev += static_cast<char>('0' + u % 10);
      u /= 10;
    }
    break;
  case 16:
    while (u >= 16) {
      rev += digits[u & 0xF];
      u >>= 4;
    }
    break;
  case 8:
    while (u >= 8) {
      rev += static_cast<char>('0' + (u & 7));
      u >>= 3;
    }
    break;
  case 2:
    while (u >= 2) {
      rev += static_cast<char>('0' + (u & 1));
      u >>= 1;
    }
    break;
  default:
    break;
  }
  rev += digits[u];
  while (static_cast<int>(rev.size()) < prec) {
    rev += '0';
  }
  if (m_f.sharp) {
    switch (base) {
    case 2:
      rev += 'b';
      rev += '0';
      break;
    case 8:
      if (rev.back() != '0') {
        rev += '0';
      }
      break;
    case 16:
      rev += digits[16];
      rev += '0';
      break;
    default:
      break;
    }
  }
  if (verb == 'O') {
    rev += 'o';
    rev += '0';
  }
  if (negative) {
    rev += '-';
  } else if (m_f.plus) {
    rev += '+';
  } else if (m_f.space) {
    rev += ' ';
  }
  std::string s(rev.rbegin(), rev.rend());
  bool old_zero = m_f.zero;
  m_f.zero = false;
  pad(s);
  m_f.zero = old_zero;
}

void Printer::fmt_unicode(std::uint64_t u) {
  int prec = 4;
  if (m_f.prec_present && m_f.prec > 4) {
    prec = m_f.prec;
  }
  std::string tail;
  if (m_f.sharp && u <= 0x10FFFF && go::is_print(static_cast<char32_t>(u))) {
    tail = " '";
    go::append_rune(tail, static_cast<char32_t>(u));
    tail += '\'';
  }
  std::string rev;
  while (u >= 16) {
    rev += k_udigits[u & 0xF];
    --prec;
    u >>= 4;
  }
  rev += k_udigits[u];
  --prec;
  while (prec > 0) {
    rev += '0';
    --prec;
  }
  std::string s = "U+" + std::string(rev.rbegin(), rev.rend()) + tail;
  bool old_zero = m_f.zero;
  m_f.zero = false;
  pad(s);
  m_f.zero = old_zero;
}

void Printer::fmt_c(std::uint64_t c) {
  char32_t r = c > 0x10FFFF ? go::k_rune_error : static_cast<char32_t>(c);
  std::string s;
  go::append_rune(s, r);
  pad(s);
}

void Printer::fmt_qc(std::uint64_t c) {
  char32_t r = c > 0x10FFFF ? go::k_rune_error : static_cast<char32_t>(c);
  std::string s;
  if (m_f.sharp && go::is_print(r)) {
    s += '\'';
    go::append_rune(s, r);
    s += '\'';
  } else {
    s = go::quote_rune(r, m_f.plus);
  }
  pad(s);
}

void Printer::fmt_float_raw(double v, char verb, int prec) {
  if (m_f.prec_present) {
    prec = m_f.prec;
  }
  std::string num = go::format_float(v, verb, prec);
  if (num[0] == '-' || num[0] == '+') {
    // already signed
  } else {
    num.insert(num.begin(), '+');
  }
  if (m_f.space && num[0] == '+' && !m_f.plus) {
    num[0] = ' ';
  }
  if (num[1] == 'I' || num[1] == 'N') {
    bool old_zero = m_f.zero;
    m_f.zero = false;
    std::string_view s = num;
    if (num[1] == 'N' && !m_f.space && !m_f.plus) {
      s.remove_prefix(1);
    }
    pad(s);
    m_f.zero = old_zero;
    return;
  }
  if (m_f.sharp && verb != 'b') {
    int digits = 0;
    switch (verb) {
    case 'v':
    case 'g':
    case 'G':
    case 'x':
      digits = prec;
      if (digits == -1) {
        digits = 6;
      }
      break;
    default:
      break;
    }
    std::string tail;
    auto epos = num.find_first_of(verb == 'x' || verb == 'X' ? "pP" : "eE");
    if (epos != std::string::npos) {
      tail = num.substr(epos);
      num.resize(epos);
    }
    bool saw_nonzero = false;
    bool has_dot = false;
    for (std::size_t i = 1; i < num.size(); ++i) {
      switch (num[i]) {
      case '.':
        has_dot = true;
        break;
      case 'p':
      case 'P':
        break;
      case '0':
        if (saw_nonzero) {
          --digits;
        }
        break;
      default:
        saw_nonzero = true;
        --digits;
        break;
      }
    }
    if (!has_dot) {
      if (num.size() == 2 && num[1] == '0') {
        --digits;
      }
      num += '.';
    }
    while (digits > 0) {
      num += '0';
      --digits;
    }
    num += tail;
  }
  if (m_f.plus || num[0] != '+') {
    if (m_f.zero && m_f.wid_present && m_f.wid > static_cast<int>(num.size())) {
      m_buf += num[0];
      write_padding(m_f.wid - static_cast<int>(num.size()));
      m_buf.append(num, 1);
      return;
    }
    pad(num);
    return;
  }
  pad(std::string_view(num).substr(1));
}

void Printer::fmt_sx(std::string_view s, const char* digits) {
  int length = static_cast<int>(s.size());
  if (m_f.prec_present && m_f.prec < length) {
    length = m_f.prec;
  }
  int width = 2 * length;
  if (width > 0) {
    if (m_f.space) {
      if (m_f.sharp) {
        width *= 2;
      }
      width += length - 1;
    } else if (m_f.sharp) {
      width += 2;
    }
  } else {
    if (m_f.wid_present) {
      write_padding(m_f.wid);
    }
    return;
  }
  if (m_f.wid_present && m_f.wid > width && !m_f.minus) {
    write_padding(m_f.wid - width);
  }
  if (m_f.sharp) {
    m_buf += '0';
    m_buf += digits[16];
  }
  for (int i = 0; i < length; ++i) {
    if (m_f.space && i > 0) {
      m_buf += ' ';
      if (m_f.sharp) {
        m_buf += '0';
        m_buf += digits[16];
      }
    }
    auto c = static_cast<unsigned char>(s[static_cast<std::size_t>(i)]);
    m_buf += digits[c >> 4];
    m_buf += digits[c & 0xF];
  }
  if (m_f.wid_present && m_f.wid > width && m_f.minus) {
    write_padding(m_f.wid - width);
  }
}

void Printer::fmt_q(std::string_view s) {
  s = truncate(s);
  if (m_f.sharp && go::can_backquote(s)) {
    pad_string("`" + std::string(s) + "`");
    return;
  }
  pad(go::quote(s, m_f.plus));
}

void Printer::fmt_bool(bool v, char32_t verb) {
  switch (verb) {
  case 't':
  case 'v':
    fmt_boolean(v);
    break;
  default:
    bad_verb(verb);
  }
}

void Printer::fmt_int(std::uint64_t v, bool is_signed, char32_t verb) {
  switch (verb) {
  case 'v':
    if (m_f.sharp_v && !is_signed) {
      bool sharp = m_f.sharp;
      m_f.sharp = true;
      fmt_integer(v, 16, false, verb, k_ldigits);
      m_f.sharp = sharp;
    } else {
      fmt_integer(v, 10, is_signed, verb, k_ldigits);
    }
    break;
  case 'd':
    fmt_integer(v, 10, is_signed, verb, k_ldigits);
    break;
  case 'b':
    fmt_integer(v, 2, is_signed, verb, k_ldigits);
    break;
  case 'o':
  case 'O':
    fmt_integer(v, 8, is_signed, verb, k_ldigits);
    break;
  case 'x':
    fmt_integer(v, 16, is_signed, verb, k_ldigits);
    break;
  case 'X':
    fmt_integer(v, 16, is_signed, verb, k_udigits);
    break;
  case 'c':
    fmt_c(v);
    break;
  case 'q':
    fmt_qc(v);
    break;
  case 'U':
    fmt_unicode(v);
    break;
  default:
    bad_verb(verb);
  }
}

void Printer::fmt_float(double v, char32_t verb) {
  switch (verb) {
  case 'v':
    fmt_float_raw(v, 'g', -1);
    break;
  case 'b':
  case 'g':
  case 'G':
  case 'x':
  case 'X':
    fmt_float_raw(v, static_cast<char>(verb), -1);
    break;
  case 'f':
  case 'e':
  case 'E':
  case 'F':
    fmt_float_raw(v, static_cast<char>(verb), 6);
    break;
  default:
    bad_verb(verb);
  }
}

void Printer::fmt_string(std::string_view v, char32_t verb) {
  switch (verb) {
  case 'v':
    if (m_f.sharp_v) {
      fmt_q(v);
    } else {
      fmt_s(v);
    }
    break;
  case 's':
    fmt_s(v);
    break;
  case 'x':
    fmt_sx(v, k_ldigits);
    break;
  case 'X':
    fmt_sx(v, k_udigits);
    break;
  case 'q':
    fmt_q(v);
    break;
  default:
    bad_verb(verb);
  }
}

void Printer::bad_verb(char32_t verb) {
  m_erroring = true;
  m_buf += "%!";
  write_rune(verb);
  m_buf += '(';
  if (m_arg != nullptr) {
    const Value* arg = m_arg;
    m_buf += arg->type_name();
    m_buf += '=';
    print_arg(*arg, 'v');
  } else if (m_value != nullptr) {
    const Value* value = m_value;
    m_buf += value->type_name();
    m_buf += '=';
    print_value(*value, 'v', 0);
  } else {
    m_buf += "<nil>";
  }
  m_buf += ')';
  m_erroring = false;
}

bool Printer::handle_methods(const Value& v, char32_t verb) {
  if (m_erroring || v.kind() != Kind::time) {
    return false;
  }
  // time.Time is a fmt.Stringer.
  if (m_f.sharp_v) {
    return false;
  }
  switch (verb) {
  case 'v':
  case 's':
  case 'x':
  case 'X':
  case 'q':
    fmt_string(go::time_string(v.as_time()), verb);
    return true;
  default:
    return false;
  }
}

void Printer::print_arg(const Value& arg, char32_t verb) {
  m_arg = (arg.kind() == Kind::invalid || arg.kind() == Kind::nil) ? nullptr : &arg;
  m_value = nullptr;
  if (m_arg == nullptr) {
    switch (verb) {
    case 'T':
    case 'v':
      pad_string("<nil>");
      break;
    default:
      bad_verb(verb);
    }
    return;
  }
  switch (verb) {
  case 'T':
    fmt_s(arg.type_name());
    return;
  case 'p':
    bad_verb(verb);
    return;
  default:
    break;
  }
  switch (arg.kind()) {
  case Kind::boolean:
    fmt_bool(arg.as_bool(), verb);
    return;
  case Kind::integer:
    fmt_int(static_cast<std::uint64_t>(arg.as_int()), !arg.is_unsigned(), verb);
    return;
  case Kind::floating:
    fmt_float(arg.as_float(), verb);
    return;
  case Kind::string:
    fmt_string(arg.as_string(), verb);
    return;
  default:
    break;
  }
  if (!handle_methods(arg, verb)) {
    print_value(arg, verb, 0);
  }
}

void Printer::print_value(const Value& v, char32_t verb, int depth) {
  if (depth > 0 && v.valid() && v.kind() != Kind::nil) {
    m_arg = &v;
    if (handle_methods(v, verb)) {
      return;
    }
  }
  m_arg = nullptr;
  m_value = &v;
  switch (v.kind()) {
  case Kind::invalid:
    if (depth == 0) {
      m_buf += "<invalid reflect.Value>";
    } else if (verb == 'v') {
      m_buf += "<nil>";
    } else {
      bad_verb(verb);
    }
    return;
  case Kind::nil:
    if (m_f.sharp_v) {
      m_buf += "interface {}(nil)";
    } else {
      m_buf += "<nil>";
    }
    return;
  case Kind::boolean:
    fmt_bool(v.as_bool(), verb);
    return;
  case Kind::integer:
    fmt_int(static_cast<std::uint64_t>(v.as_int()), !v.is_unsigned(), verb);
    return;
  case Kind::floating:
    fmt_float(v.as_float(), verb);
    return;
  case Kind::string:
    fmt_string(v.as_string(), verb);
    return;
  case Kind::map: {
    if (m_f.sharp_v) {
      m_buf += v.type_name();
      m_buf += '{';
    } else {
      m_buf += "map[";
    }
    bool first = true;
    for (const auto& [key, value] : v.entries()) {
      if (!first) {
        if (m_f.sharp_v) {
          m_buf += ", ";
        } else {
          m_buf += ' ';
        }
      }
      first = false;
      Value k(key);
      print_value(k, verb, depth + 1);
      m_buf += ':';
      print_value(value, verb, depth + 1);
    }
    m_buf += m_f.sharp_v ? '}' : ']';
    return;
  }
  case Kind::record: {
    if (v.is_pointer()) {
      m_buf += '&';
    }
    if (m_f.sharp_v) {
      std::string type = v.type_name();
      m_buf += v.is_pointer() ? type.substr(1) : type;
    }
    m_buf += '{';
    bool first = true;
    for (const auto& [name, field] : v.entries()) {
      if (!first) {
        if (m_f.sharp_v) {
          m_buf += ", ";
        } else {
          m_buf += ' ';
        }
      }
      first = false;
      if (m_f.plus_v || m_f.sharp_v) {
        m_buf += name;
        m_buf += ':';
      }
      print_value(field, verb, depth + 1);
    }
    m_buf += '}';
    return;
  }
  case Kind::list: {
    if (m_f.sharp_v) {
      m_buf += v.type_name();
      m_buf += '{';
      bool first = true;
      for (const auto& item : v.items()) {
        if (!first) {
          m_buf += ", ";
        }
        first = false;
        print_value(item, verb, depth + 1);
      }
      m_buf += '}';
    } else {
      m_buf += '[';
      bool first = true;
      for (const auto& item : v.items()) {
        if (!first) {
          m_buf += ' ';
        }
        first = false;
        print_value(item, verb, depth + 1);
      }
      m_buf += ']';
    }
    return;
  }
  case Kind::time:
    // Reached only with %#v or a verb time.Time's String() does not serve.
    m_buf += '{';
    m_buf += go::time_string(v.as_time());
    m_buf += '}';
    return;
  }
}

void Printer::do_print(std::span<const Value> args) {
  bool prev_string = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    bool is_string = args[i].kind() == Kind::string;
    if (i > 0 && !is_string && !prev_string) {
      m_buf += ' ';
    }
    m_f = Flags{};
    print_arg(args[i], 'v');
    prev_string = is_string;
  }
}

void Printer::do_println(std::span<const Value> args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i > 0) {
      m_buf += ' ';
    }
    m_f = Flags{};
    print_arg(args[i], 'v');
  }
  m_buf += '\n';
}

namespace {

bool too_large(int x) {
  return x > 1000000 || x < -1000000;
}

// Go's parsenum: the decimal number at s[start:end), whether there was one, and where it ends.
int parse_num(std::string_view s, std::size_t start, std::size_t end, bool& isnum,
              std::size_t& newi) {
  isnum = false;
  int num = 0;
  if (start >= end) {
    newi = end;
    return 0;
  }
  for (newi = start; newi < end && s[newi] >= '0' && s[newi] <= '9'; ++newi) {
    if (too_large(num)) {
      isnum = false;
      newi = end;
      return 0;
    }
    num = num * 10 + (s[newi] - '0');
    isnum = true;
  }
  return num;
}

// Go's parseArgNumber: "[n]" at the front of s.
bool parse_arg_number(std::string_view s, int& index, std::size_t& wid) {
  if (s.size() < 3) {
    index = 0;
    wid = 1;
    return false;
  }
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == ']') {
      bool ok = false;
      std::size_t newi = 0;
      int width = parse_num(s, 1, i, ok, newi);
      if (!ok || newi != i) {
        index = 0;
        wid = i + 1;
        return false;
      }
      index = width - 1;
      wid = i + 1;
      return true;
    }
  }
  index = 0;
  wid = 1;
  return false;
}

bool int_from_arg(std::span<const Value> a, std::size_t& arg_num, int& num) {
  bool is_int = false;
  num = 0;
  if (arg_num < a.size()) {
    const Value& v = a[arg_num];
    if (v.kind() == Kind::integer) {
      std::int64_t n = v.as_int();
      if (n >= INT32_MIN && n <= INT32_MAX) {
        num = static_cast<int>(n);
        is_int = true;
      }
    }
    ++arg_num;
    if (too_large(num)) {
      num = 0;
      is_int = false;
    }
  }
  return is_int;
}

} // namespace

void Printer::do_printf(std::string_view format, std::span<const Value> a) {
  std::size_t end = format.size();
  std::size_t arg_num = 0;
  bool after_index = false;
  bool reordered = false;
  bool good_arg_num = true;

  auto arg_number = [&](std::size_t i, bool& found) -> std::size_t {
    found = false;
    if (format.size() <= i || format[i] != '[') {
      return i;
    }
    reordered = true;
    int index = 0;
    std::size_t wid = 0;
    bool ok = parse_arg_number(format.substr(i), index, wid);
    if (ok && index >= 0 && static_cast<std::size_t>(index) < a.size()) {
      arg_num = static_cast<std::size_t>(index);
      found = true;
      return i + wid;
    }
    good_arg_num = false;
    found = ok;
    return i + wid;
  };

  for (std::size_t i = 0; i < end;) {
    if (m_buf.size() > k_max_string_size) {
      // Each verb may pad to a million columns: a long format would otherwise take gigabytes.
      throw std::runtime_error("the formatted text is longer than " +
                               std::to_string(k_max_string_size >> 20) + " MiB");
    }
    good_arg_num = true;
    std::size_t lasti = i;
    while (i < end && format[i] != '%') {
      ++i;
    }
    if (i > lasti) {
      m_buf.append(format.substr(lasti, i - lasti));
    }
    if (i >= end) {
      break;
    }
    ++i; // skip %
    m_f = Flags{};
    bool simple_done = false;
    for (; i < end; ++i) {
      char c = format[i];
      bool flag = true;
      switch (c) {
      case '#':
        m_f.sharp = true;
        break;
      case '0':
        m_f.zero = !m_f.minus;
        break;
      case '+':
        m_f.plus = true;
        break;
      case '-':
        m_f.minus = true;
        m_f.zero = false;
        break;
      case ' ':
        m_f.space = true;
        break;
      default:
        flag = false;
        break;
      }
      if (flag) {
        continue;
      }
      if (c >= 'a' && c <= 'z' && arg_num < a.size()) {
        if (c == 'v') {
          m_f.sharp_v = m_f.sharp;
          m_f.sharp = false;
          m_f.plus_v = m_f.plus;
          m_f.plus = false;
        }
        print_arg(a[arg_num], static_cast<char32_t>(c));
        ++arg_num;
        ++i;
        simple_done = true;
      }
      break;
    }
    if (simple_done) {
      continue;
    }

    i = arg_number(i, after_index);

    if (i < end && format[i] == '*') {
      ++i;
      m_f.wid_present = int_from_arg(a, arg_num, m_f.wid);
      if (!m_f.wid_present) {
        m_buf += "%!(BADWIDTH)";
      }
      if (m_f.wid < 0) {
        m_f.wid = -m_f.wid;
        m_f.minus = true;
        m_f.zero = false;
      }
      after_index = false;
    } else {
      m_f.wid = parse_num(format, i, end, m_f.wid_present, i);
      if (after_index && m_f.wid_present) {
        good_arg_num = false;
      }
    }

    if (i + 1 < end && format[i] == '.') {
      ++i;
      if (after_index) {
        good_arg_num = false;
      }
      i = arg_number(i, after_index);
      if (i < end && format[i] == '*') {
        ++i;
        m_f.prec_present = int_from_arg(a, arg_num, m_f.prec);
        if (m_f.prec < 0) {
          m_f.prec = 0;
          m_f.prec_present = false;
        }
        if (!m_f.prec_present) {
          m_buf += "%!(BADPREC)";
        }
        after_index = false;
      } else {
        m_f.prec = parse_num(format, i, end, m_f.prec_present, i);
        if (!m_f.prec_present) {
          m_f.prec = 0;
          m_f.prec_present = true;
        }
      }
    }

    if (!after_index) {
      i = arg_number(i, after_index);
    }

    if (i >= end) {
      m_buf += "%!(NOVERB)";
      break;
    }

    std::size_t size = 1;
    char32_t verb = static_cast<unsigned char>(format[i]);
    if (verb >= 0x80) {
      verb = go::decode_rune(format.substr(i), size);
    }
    i += size;

    if (verb == '%') {
      m_buf += '%';
    } else if (!good_arg_num) {
      m_buf += "%!";
      write_rune(verb);
      m_buf += "(BADINDEX)";
    } else if (arg_num >= a.size()) {
      m_buf += "%!";
      write_rune(verb);
      m_buf += "(MISSING)";
    } else {
      if (verb == 'v') {
        m_f.sharp_v = m_f.sharp;
        m_f.sharp = false;
        m_f.plus_v = m_f.plus;
        m_f.plus = false;
      }
      print_arg(a[arg_num], verb);
      ++arg_num;
    }
  }

  if (!reordered && arg_num < a.size()) {
    m_f = Flags{};
    m_buf += "%!(EXTRA ";
    for (std::size_t k = arg_num; k < a.size(); ++k) {
      if (k > arg_num) {
        m_buf += ", ";
      }
      if (a[k].kind() == Kind::nil || a[k].kind() == Kind::invalid) {
        m_buf += "<nil>";
      } else {
        m_buf += a[k].type_name();
        m_buf += '=';
        print_arg(a[k], 'v');
      }
    }
    m_buf += ')';
  }
}

} // namespace

void append_sprint(std::string& out, std::span<const Value> args) {
  Printer p(out);
  p.do_print(args);
}

std::string sprint(std::span<const Value> args) {
  std::string out;
  append_sprint(out, args);
  return out;
}

std::string sprintln(std::span<const Value> args) {
  std::string out;
  Printer p(out);
  p.do_println(args);
  return out;
}

std::string sprintf(std::string_view format, std::span<const Value> args) {
  std::string out;
  Printer p(out);
  p.do_printf(format, args);
  return out;
}

void append_print(std::string& out, const Value& v) {
  switch (v.kind()) {
  case Kind::string:
    out += v.as_string();
    return;
  case Kind::integer:
    if (!v.is_unsigned()) {
      out += std::to_string(v.as_int());
      return;
    }
    break;
  default:
    break;
  }
  Printer p(out);
  p.print_arg(v, 'v');
}

} // namespace herald::tmpl
