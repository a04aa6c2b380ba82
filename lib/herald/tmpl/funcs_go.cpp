// Go's text/template builtins (funcs.go, Go 1.19) with their exact semantics and error wording.

#include "herald/core/strings.hpp"
#include "herald/tmpl/exec.hpp"
#include "herald/tmpl/format.hpp"
#include "herald/tmpl/go_strconv.hpp"

#include <array>
#include <stdexcept>

namespace herald::tmpl {
namespace {

using Args = std::span<const Value>;

[[noreturn]] void fail(const std::string& message) {
  throw std::runtime_error(message);
}

std::string sprint1(const Value& v) {
  std::array<Value, 1> a{v};
  return sprint(a);
}

// Go's indirectInterface: the value inside an interface, or no value for a nil interface.
Value indirect_interface(const Value& v) {
  if (v.kind() == Kind::nil) {
    return Value();
  }
  return v.unbox();
}

enum class BasicKind { invalid, boolean, complex, integer, floating, string, unsigned_integer };

BasicKind basic_kind(const Value& v) {
  switch (v.kind()) {
  case Kind::boolean:
    return BasicKind::boolean;
  case Kind::integer:
    return v.is_unsigned() ? BasicKind::unsigned_integer : BasicKind::integer;
  case Kind::floating:
    return BasicKind::floating;
  case Kind::string:
    return BasicKind::string;
  default:
    return BasicKind::invalid;
  }
}

bool comparable(const Value& v) {
  switch (v.kind()) {
  case Kind::list:
  case Kind::map:
    return false;
  case Kind::record:
    if (v.is_pointer()) {
      return true;
    }
    for (const auto& [name, field] : v.entries()) {
      if (!comparable(field)) {
        return false;
      }
    }
    return true;
  default:
    return true;
  }
}

bool identical(const Value& a, const Value& b) {
  if (a.kind() != b.kind() || a.type_name() != b.type_name()) {
    return false;
  }
  switch (a.kind()) {
  case Kind::invalid:
  case Kind::nil:
    return true;
  case Kind::boolean:
    return a.as_bool() == b.as_bool();
  case Kind::integer:
    return a.as_int() == b.as_int();
  case Kind::floating:
    return a.as_float() == b.as_float();
  case Kind::string:
    return a.as_string() == b.as_string();
  case Kind::record: {
    if (a.is_pointer()) {
      return &a.entries() == &b.entries();
    }
    const auto& fa = a.entries();
    const auto& fb = b.entries();
    if (fa.size() != fb.size()) {
      return false;
    }
    for (std::size_t i = 0; i < fa.size(); ++i) {
      if (!identical(fa[i].second.unbox(), fb[i].second.unbox())) {
        return false;
      }
    }
    return true;
  }
  case Kind::time: {
    const auto& ta = a.as_time();
    const auto& tb = b.as_time();
    return ta.unix_seconds == tb.unix_seconds && ta.nanoseconds == tb.nanoseconds &&
           ta.utc_offset == tb.utc_offset && ta.zone == tb.zone && ta.monotonic == tb.monotonic &&
           ta.monotonic_ns == tb.monotonic_ns;
  }
  default:
    return false;
  }
}

constexpr const char* k_bad_comparison = "incompatible types for comparison";
constexpr const char* k_bad_comparison_type = "invalid type for comparison";

bool eq(Args a) {
  Value arg1 = indirect_interface(a[0]);
  if (arg1.valid() && !comparable(arg1)) {
    fail("uncomparable type " + arg1.type_name() + ": " + sprint1(arg1));
  }
  if (a.size() == 1) {
    fail("missing argument for comparison");
  }
  BasicKind k1 = basic_kind(arg1);
  for (std::size_t i = 1; i < a.size(); ++i) {
    Value arg = indirect_interface(a[i]);
    BasicKind k2 = basic_kind(arg);
    bool truth = false;
    if (k1 != k2) {
      if (k1 == BasicKind::integer && k2 == BasicKind::unsigned_integer) {
        truth = arg1.as_int() >= 0 && arg1.as_int() == arg.as_int();
      } else if (k1 == BasicKind::unsigned_integer && k2 == BasicKind::integer) {
        truth = arg.as_int() >= 0 && arg1.as_int() == arg.as_int();
      } else if (arg1.valid() && arg.valid()) {
        fail(k_bad_comparison);
      }
    } else {
      switch (k1) {
      case BasicKind::boolean:
        truth = arg1.as_bool() == arg.as_bool();
        break;
      case BasicKind::floating:
        truth = arg1.as_float() == arg.as_float();
        break;
      case BasicKind::integer:
      case BasicKind::unsigned_integer:
        truth = arg1.as_int() == arg.as_int();
        break;
      case BasicKind::string:
        truth = arg1.as_string() == arg.as_string();
        break;
      default:
        if (!arg.valid() || !arg1.valid()) {
          truth = !arg.valid() && !arg1.valid();
        } else {
          if (!comparable(arg)) {
            fail("uncomparable type " + arg.type_name() + ": " + sprint1(arg));
          }
          truth = identical(arg1, arg);
        }
        break;
      }
    }
    if (truth) {
      return true;
    }
  }
  return false;
}

bool lt(const Value& a1, const Value& a2) {
  Value arg1 = indirect_interface(a1);
  BasicKind k1 = basic_kind(arg1);
  if (k1 == BasicKind::invalid) {
    fail(k_bad_comparison_type);
  }
  Value arg2 = indirect_interface(a2);
  BasicKind k2 = basic_kind(arg2);
  if (k2 == BasicKind::invalid) {
    fail(k_bad_comparison_type);
  }
  if (k1 != k2) {
    if (k1 == BasicKind::integer && k2 == BasicKind::unsigned_integer) {
      return arg1.as_int() < 0 || arg1.as_int() < arg2.as_int();
    }
    if (k1 == BasicKind::unsigned_integer && k2 == BasicKind::integer) {
      return arg2.as_int() >= 0 && arg1.as_int() < arg2.as_int();
    }
    fail(k_bad_comparison);
  }
  switch (k1) {
  case BasicKind::boolean:
  case BasicKind::complex:
    fail(k_bad_comparison_type);
  case BasicKind::floating:
    return arg1.as_float() < arg2.as_float();
  case BasicKind::integer:
  case BasicKind::unsigned_integer:
    return arg1.as_int() < arg2.as_int();
  case BasicKind::string:
    return arg1.as_string() < arg2.as_string();
  default:
    fail("invalid kind");
  }
}

bool le(const Value& a, const Value& b) {
  return lt(a, b) || eq(std::array<Value, 2>{a, b});
}

// Go's indexArg: an index value checked against `cap`.
std::int64_t index_arg(const Value& index, std::size_t cap) {
  if (index.kind() == Kind::invalid) {
    fail("cannot index slice/array with nil");
  }
  if (index.kind() != Kind::integer || index.boxed()) {
    fail("cannot index slice/array with type " +
         (index.boxed() ? std::string("interface {}") : index.type_name()));
  }
  std::int64_t x = index.as_int();
  if (x < 0 || static_cast<std::uint64_t>(x) > cap) {
    fail("index out of range: " + std::to_string(x));
  }
  return x;
}

Value index_fn(Args a) {
  Value item = indirect_interface(a[0]);
  if (!item.valid()) {
    fail("index of untyped nil");
  }
  for (std::size_t i = 1; i < a.size(); ++i) {
    Value index = indirect_interface(a[i]);
    if (item.kind() == Kind::nil) {
      fail("index of nil pointer");
    }
    item = item.unbox();
    switch (item.kind()) {
    case Kind::list: {
      std::int64_t x = index_arg(index, item.size());
      if (static_cast<std::size_t>(x) == item.size()) {
        fail("reflect: slice index out of range");
      }
      item = item.items()[static_cast<std::size_t>(x)];
      break;
    }
    case Kind::string: {
      std::int64_t x = index_arg(index, item.size());
      if (static_cast<std::size_t>(x) == item.size()) {
        fail("reflect: string index out of range");
      }
      item =
          Value::integer(static_cast<unsigned char>(item.as_string()[static_cast<std::size_t>(x)]),
                         IntType::go_uint8);
      break;
    }
    case Kind::map: {
      if (!index.valid()) {
        fail("value is nil; should be of type string");
      }
      if (index.kind() != Kind::string) {
        fail("value has type " + index.type_name() + "; should be string");
      }
      if (const Value* v = item.find(index.as_string())) {
        item = *v;
      } else if (item.type_name().ends_with("interface {}")) {
        item = Value::nil().box();
      } else {
        item = Value(std::string());
      }
      break;
    }
    default:
      fail("can't index item of type " + item.type_name());
    }
  }
  return item;
}

Value slice_fn(Args a) {
  Value item = indirect_interface(a[0]);
  if (!item.valid()) {
    fail("slice of untyped nil");
  }
  std::size_t n = a.size() - 1;
  if (n > 3) {
    fail("too many slice indexes: " + std::to_string(n));
  }
  if (item.kind() == Kind::string) {
    if (n == 3) {
      fail("cannot 3-index slice a string");
    }
  } else if (item.kind() != Kind::list) {
    fail("can't slice item of type " + item.type_name());
  }
  std::size_t cap = item.size();
  std::array<std::int64_t, 3> idx{0, static_cast<std::int64_t>(item.size()), 0};
  for (std::size_t i = 0; i < n; ++i) {
    idx[i] = index_arg(a[i + 1], cap);
  }
  if (idx[0] > idx[1]) {
    fail("invalid slice index: " + std::to_string(idx[0]) + " > " + std::to_string(idx[1]));
  }
  if (n == 3 && idx[1] > idx[2]) {
    fail("invalid slice index: " + std::to_string(idx[1]) + " > " + std::to_string(idx[2]));
  }
  auto from = static_cast<std::size_t>(idx[0]);
  auto to = static_cast<std::size_t>(idx[1]);
  if (item.kind() == Kind::string) {
    return Value(item.as_string().substr(from, to - from));
  }
  auto items = item.items();
  std::string type = item.type_name();
  std::string underlying = item.underlying_type_name();
  return Value::list(std::vector<Value>(items.begin() + static_cast<std::ptrdiff_t>(from),
                                        items.begin() + static_cast<std::ptrdiff_t>(to)),
                     type, underlying == type ? std::string() : underlying);
}

Value len_fn(Args a) {
  const Value& item = a[0];
  if (item.kind() == Kind::nil) {
    fail("len of nil pointer");
  }
  if (!item.valid()) {
    fail("reflect: call of reflect.Value.Type on zero Value");
  }
  switch (item.kind()) {
  case Kind::string:
  case Kind::list:
  case Kind::map:
    return Value(static_cast<std::int64_t>(item.size()));
  default:
    fail("len of type " + (item.boxed() ? std::string("interface {}") : item.type_name()));
  }
}

// Go's evalArgs: Sprint of the arguments, a lone string passing through, missing values printed
// as templates print them.
std::string eval_args(Args a) {
  if (a.size() == 1 && a[0].kind() == Kind::string) {
    return a[0].as_string();
  }
  std::vector<Value> printable;
  printable.reserve(a.size());
  for (const auto& v : a) {
    if (v.kind() == Kind::nil || v.kind() == Kind::invalid) {
      printable.emplace_back("<no value>");
    } else if (v.is_pointer()) {
      std::string type = v.type_name();
      printable.push_back(Value::record(type.substr(1), v.entries()));
    } else {
      printable.push_back(v);
    }
  }
  return sprint(printable);
}

std::string js_escape(std::string_view s) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
      case '\\':
        out += "\\\\";
        continue;
      case '\'':
        out += "\\'";
        continue;
      case '"':
        out += "\\\"";
        continue;
      case '<':
        out += "\\u003C";
        continue;
      case '>':
        out += "\\u003E";
        continue;
      case '&':
        out += "\\u0026";
        continue;
      case '=':
        out += "\\u003D";
        continue;
      default:
        break;
      }
      if (c < ' ') {
        out += "\\u00";
        out += k_hex[c >> 4];
        out += k_hex[c & 0xF];
      } else {
        out += static_cast<char>(c);
      }
      continue;
    }
    std::size_t size = 1;
    char32_t r = go::decode_rune(s.substr(i), size);
    if (go::is_print(r)) {
      out.append(s.substr(i, size));
    } else {
      std::array<Value, 1> args{Value(static_cast<std::int64_t>(r))};
      out += sprintf("\\u%04X", args);
    }
    i += size - 1;
  }
  return out;
}

std::string query_escape(std::string_view s) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += ch;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 0xF];
    }
  }
  return out;
}

Signature sig(std::vector<GoType> params, std::optional<GoType> variadic = std::nullopt) {
  return Signature{std::move(params), std::move(variadic)};
}

FuncMap make_builtins() {
  const GoType rv = GoType::reflect_value();
  const GoType any = GoType::any();
  FuncMap m;
  // and/or are evaluated lazily by the executor; these bodies only serve direct calls.
  m.emplace("and", Function(sig({rv}, rv), [](Args a) {
              for (const auto& v : a) {
                if (!v.truthy()) {
                  return v;
                }
              }
              return a.back();
            }));
  m.emplace("or", Function(sig({rv}, rv), [](Args a) {
              for (const auto& v : a) {
                if (v.truthy()) {
                  return v;
                }
              }
              return a.back();
            }));
  m.emplace("not", Function(sig({rv}), [](Args a) { return Value(!a[0].truthy()); }));
  m.emplace("len", Function(sig({rv}), len_fn));
  m.emplace("index", Function(sig({rv}, rv), index_fn));
  m.emplace("slice", Function(sig({rv}, rv), slice_fn));
  m.emplace("call", Function(sig({rv}, rv), [](Args a) -> Value {
              Value fn = indirect_interface(a[0]);
              if (!fn.valid()) {
                fail("call of nil");
              }
              fail("non-function of type " + fn.type_name());
            }));
  m.emplace("print", Function(sig({}, any), [](Args a) { return Value(sprint(a)); }));
  m.emplace("println", Function(sig({}, any), [](Args a) { return Value(sprintln(a)); }));
  m.emplace("printf", Function(sig({GoType::string()}, any), [](Args a) {
              return Value(sprintf(a[0].as_string(), a.subspan(1)));
            }));
  m.emplace("html",
            Function(sig({}, any), [](Args a) { return Value(html_escape(eval_args(a))); }));
  m.emplace("js", Function(sig({}, any), [](Args a) { return Value(js_escape(eval_args(a))); }));
  m.emplace("urlquery",
            Function(sig({}, any), [](Args a) { return Value(query_escape(eval_args(a))); }));
  m.emplace("eq", Function(sig({rv}, rv), [](Args a) { return Value(eq(a)); }));
  m.emplace("ne", Function(sig({rv, rv}), [](Args a) { return Value(!eq(a)); }));
  m.emplace("lt", Function(sig({rv, rv}), [](Args a) { return Value(lt(a[0], a[1])); }));
  m.emplace("le", Function(sig({rv, rv}), [](Args a) { return Value(le(a[0], a[1])); }));
  m.emplace("gt", Function(sig({rv, rv}), [](Args a) { return Value(!le(a[0], a[1])); }));
  m.emplace("ge", Function(sig({rv, rv}), [](Args a) { return Value(!lt(a[0], a[1])); }));
  return m;
}

} // namespace

const FuncMap& builtin_funcs() {
  static const FuncMap k_builtins = make_builtins();
  return k_builtins;
}

} // namespace herald::tmpl
