// confd's functions (resource/template/template_funcs.go) and memkv's (store.go, v0.1.1).

#include "herald/tmpl/funcs_confd.hpp"

#include "herald/core/base64.hpp"
#include "herald/tmpl/format.hpp"
#include "herald/tmpl/go_json.hpp"
#include "herald/tmpl/go_path.hpp"
#include "herald/tmpl/go_sort.hpp"
#include "herald/tmpl/go_strconv.hpp"
#include "herald/tmpl/go_time.hpp"
#include "herald/tmpl/limits.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <cstdlib>
#include <limits>
#include <locale.h>
#include <netdb.h>
#include <resolv.h>
#include <set>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <utility>
#include <wctype.h>

namespace herald::tmpl {
namespace {

using Args = std::span<const Value>;

[[noreturn]] void fail(const std::string& message) {
  throw std::runtime_error(message);
}

Signature sig(std::vector<GoType> params, std::optional<GoType> variadic = std::nullopt) {
  return Signature{std::move(params), std::move(variadic)};
}

const GoType k_string = GoType::string();
const GoType k_int = GoType::integer();

// strconv's NumError text: strconv.Atoi: parsing "x": invalid syntax
std::string num_error(std::string_view fn, std::string_view num, go::NumError err) {
  return "strconv." + std::string(fn) + ": parsing " + go::quote(num) + ": " +
         (err == go::NumError::range ? "value out of range" : "invalid syntax");
}

// strings.Split: sep "" splits into UTF-8 sequences.
Value split(std::string_view s, std::string_view sep) {
  std::vector<Value> parts;
  auto add = [&](auto&&... part) {
    if (parts.size() == k_max_list_length) {
      fail("more than " + std::to_string(k_max_list_length) + " parts");
    }
    parts.emplace_back(std::forward<decltype(part)>(part)...);
  };
  if (sep.empty()) {
    while (!s.empty()) {
      std::size_t size = 1;
      char32_t r = go::decode_rune(s, size);
      if (r == go::k_rune_error && size == 1) {
        add(std::string("\xEF\xBF\xBD"));
      } else {
        add(s.substr(0, size));
      }
      s.remove_prefix(size);
    }
    return Value::list(std::move(parts), "[]string");
  }
  for (;;) {
    auto i = s.find(sep);
    if (i == std::string_view::npos) {
      add(s);
      break;
    }
    add(s.substr(0, i));
    s.remove_prefix(i + sep.size());
  }
  return Value::list(std::move(parts), "[]string");
}

// strings.Replace(s, old, new, n).
std::string replace(std::string_view s, std::string_view old_s, std::string_view new_s,
                    std::int64_t n) {
  if (old_s == new_s || n == 0) {
    return std::string(s);
  }
  std::size_t count = 0;
  if (old_s.empty()) {
    count = go::rune_count(s) + 1;
  } else {
    for (std::size_t i = s.find(old_s); i != std::string_view::npos;
         i = s.find(old_s, i + old_s.size())) {
      ++count;
    }
  }
  if (count == 0) {
    return std::string(s);
  }
  if (n < 0 || static_cast<std::size_t>(n) > count) {
    n = static_cast<std::int64_t>(count);
  }
  if (new_s.size() > old_s.size() &&
      (new_s.size() - old_s.size()) > (k_max_string_size - std::min(s.size(), k_max_string_size)) /
                                          static_cast<std::size_t>(n)) {
    fail("the result would be longer than " + std::to_string(k_max_string_size >> 20) + " MiB");
  }
  std::string out;
  std::size_t start = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    std::size_t j = start;
    if (old_s.empty()) {
      if (i > 0) {
        std::size_t size = 1;
        go::decode_rune(s.substr(start), size);
        j += size;
      }
    } else {
      j = s.find(old_s, start);
    }
    out.append(s.substr(start, j - start));
    out.append(new_s);
    start = j + old_s.size();
  }
  out.append(s.substr(start));
  return out;
}

// strings.ToUpper/ToLower: Unicode case mapping, invalid UTF-8 replaced by U+FFFD.
std::string change_case(std::string_view s, bool upper) {
  bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
  std::string out;
  out.reserve(s.size());
  if (ascii) {
    for (char c : s) {
      if (upper && c >= 'a' && c <= 'z') {
        c = static_cast<char>(c - 32);
      } else if (!upper && c >= 'A' && c <= 'Z') {
        c = static_cast<char>(c + 32);
      }
      out += c;
    }
    return out;
  }
  static locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  while (!s.empty()) {
    std::size_t size = 1;
    char32_t r = go::decode_rune(s, size);
    if (utf8 != static_cast<locale_t>(nullptr)) {
      auto w = static_cast<wint_t>(r);
      r = static_cast<char32_t>(upper ? towupper_l(w, utf8) : towlower_l(w, utf8));
    }
    go::append_rune(out, r);
    s.remove_prefix(size);
  }
  return out;
}

// base64.StdEncoding.DecodeString, with Go's error ("illegal base64 data at input byte N").
std::string go_base64_decode(std::string_view src) {
  Base64Decoded decoded = base64_decode(src, Base64Decoding::go_std);
  if (!decoded) {
    fail("illegal base64 data at input byte " + std::to_string(*decoded.bad_byte));
  }
  return std::move(decoded.bytes);
}

Value parse_bool(const std::string& s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") {
    return Value(true);
  }
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") {
    return Value(false);
  }
  fail("strconv.ParseBool: parsing " + go::quote(s) + ": invalid syntax");
}

Value atoi(const std::string& s) {
  go::NumError err = go::NumError::none;
  // Atoi's fast path rejects a lone sign and any non-digit; ParseInt(s, 10) covers the rest.
  std::int64_t v = go::parse_int(s, 10, err);
  if (err != go::NumError::none) {
    fail(num_error("Atoi", s, err));
  }
  return Value(v);
}

std::vector<std::string> lookup_ip(const std::string& host) {
  std::vector<std::string> ips;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) {
    return ips;
  }
  std::set<std::string> unique;
  for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {0};
    if (p->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr, buf, sizeof buf);
    } else if (p->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr, buf, sizeof buf);
    } else {
      continue;
    }
    unique.insert(buf);
  }
  freeaddrinfo(res);
  ips.assign(unique.begin(), unique.end());
  return ips;
}

Value lookup_ip_filtered(const std::string& host, char must_contain) {
  std::vector<Value> out;
  for (const auto& ip : lookup_ip(host)) {
    if (ip.find(must_contain) != std::string::npos) {
      out.emplace_back(ip);
    }
  }
  return Value::list(std::move(out), "[]string");
}

struct Srv {
  std::string target;
  int port = 0;
  int priority = 0;
  int weight = 0;
};

std::vector<Srv> query_srv(const std::string& qname) {
  std::vector<Srv> out;
  std::vector<unsigned char> answer(65536);
  struct __res_state state {};
  if (res_ninit(&state) != 0) {
    return out;
  }
  int len = res_nquery(&state, qname.c_str(), ns_c_in, ns_t_srv, answer.data(),
                       static_cast<int>(answer.size()));
  res_nclose(&state);
  if (len < 0) {
    return out;
  }
  ns_msg msg{};
  if (ns_initparse(answer.data(), len, &msg) != 0) {
    return out;
  }
  int count = ns_msg_count(msg, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr{};
    if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_srv ||
        ns_rr_rdlen(rr) < 7) {
      continue;
    }
    const unsigned char* rd = ns_rr_rdata(rr);
    Srv srv;
    srv.priority = (rd[0] << 8) | rd[1];
    srv.weight = (rd[2] << 8) | rd[3];
    srv.port = (rd[4] << 8) | rd[5];
    char name[NS_MAXDNAME];
    if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 6, name, sizeof name) < 0) {
      continue;
    }
    srv.target = std::string(name) + ".";
    out.push_back(std::move(srv));
  }
  return out;
}

// confd's LookupSRV: net.LookupSRV sorted by the string Target+Port+Priority+Weight.
Value lookup_srv(const std::string& service, const std::string& proto, const std::string& name) {
  std::string qname =
      (service.empty() && proto.empty()) ? name : "_" + service + "._" + proto + "." + name;
  std::vector<Srv> records = query_srv(qname);
  auto key = [](const Srv& s) {
    return s.target + std::to_string(s.port) + std::to_string(s.priority) +
           std::to_string(s.weight);
  };
  go::sort(
      records.size(),
      [&](std::size_t i, std::size_t j) { return key(records[i]) < key(records[j]); },
      [&](std::size_t i, std::size_t j) { std::swap(records[i], records[j]); });
  std::vector<Value> out;
  for (const auto& r : records) {
    Entries fields;
    fields.emplace_back("Target", Value(r.target));
    fields.emplace_back("Port", Value::integer(r.port, IntType::go_uint16));
    fields.emplace_back("Priority", Value::integer(r.priority, IntType::go_uint16));
    fields.emplace_back("Weight", Value::integer(r.weight, IntType::go_uint16));
    out.push_back(Value::record("net.SRV", std::move(fields), true));
  }
  return Value::list(std::move(out), "[]*net.SRV");
}

// Reverse works on []string and []memkv.KVPair only; anything else (memkv.KVPairs from gets,
// []interface {}) comes back untouched, as confd's type switch leaves it.
Value reverse(const Value& v) {
  if (v.kind() == Kind::list &&
      (v.type_name() == "[]string" || v.type_name() == "[]memkv.KVPair")) {
    auto& items = v.mutable_items();
    std::reverse(items.begin(), items.end());
  }
  return v;
}

std::int64_t wrap_add(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

std::int64_t wrap_sub(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}

std::int64_t wrap_mul(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
}

} // namespace

void add_confd_funcs(FuncMap& m, std::shared_ptr<const KvStore> store) {
  const GoType any = GoType::any();
  auto put = [&m](const char* name, Function f) { m.insert_or_assign(name, std::move(f)); };

  // confd's own functions
  put("base",
      Function(sig({k_string}), [](Args a) { return Value(go::path_base(a[0].as_string())); }));
  put("dir",
      Function(sig({k_string}), [](Args a) { return Value(go::path_dir(a[0].as_string())); }));
  put("split", Function(sig({k_string, k_string}),
                        [](Args a) { return split(a[0].as_string(), a[1].as_string()); }));
  put("join", Function(sig({GoType::named("[]string"), k_string}), [](Args a) {
        std::size_t size = 0;
        for (const auto& s : a[0].items()) {
          size += s.as_string().size() + a[1].as_string().size();
          if (size > k_max_string_size) {
            fail("the result would be longer than " + std::to_string(k_max_string_size >> 20) +
                 " MiB");
          }
        }
        std::string out;
        bool first = true;
        for (const auto& s : a[0].items()) {
          if (!first) {
            out += a[1].as_string();
          }
          first = false;
          out += s.as_string();
        }
        return Value(std::move(out));
      }));
  put("json", Function(sig({k_string}), [](Args a) { return go::json_object(a[0].as_string()); }));
  put("jsonArray",
      Function(sig({k_string}), [](Args a) { return go::json_array(a[0].as_string()); }));
  put("map", Function(sig({}, any), [](Args a) {
        if (a.size() % 2 != 0) {
          fail("invalid map call");
        }
        Entries entries;
        for (std::size_t i = 0; i < a.size(); i += 2) {
          if (a[i].kind() != Kind::string) {
            fail("map keys must be strings");
          }
          entries.emplace_back(a[i].as_string(), a[i + 1]);
        }
        return Value::map(std::move(entries));
      }));
  put("getenv", Function(sig({k_string}, k_string), [](Args a) {
        const char* v = std::getenv(a[0].as_string().c_str());
        if (v == nullptr || *v == '\0') {
          return a.size() > 1 ? a[1] : Value(std::string());
        }
        return Value(v);
      }));
  put("datetime", Function(sig({}), [](Args) { return Value::time(go::time_now()); }));
  put("toUpper",
      Function(sig({k_string}), [](Args a) { return Value(change_case(a[0].as_string(), true)); }));
  put("toLower", Function(sig({k_string}),
                          [](Args a) { return Value(change_case(a[0].as_string(), false)); }));
  put("contains", Function(sig({k_string, k_string}), [](Args a) {
        return Value(a[0].as_string().find(a[1].as_string()) != std::string::npos);
      }));
  put("replace", Function(sig({k_string, k_string, k_string, k_int}), [](Args a) {
        return Value(replace(a[0].as_string(), a[1].as_string(), a[2].as_string(), a[3].as_int()));
      }));
  put("trimSuffix", Function(sig({k_string, k_string}), [](Args a) {
        std::string_view s = a[0].as_string();
        const std::string& suffix = a[1].as_string();
        if (s.ends_with(suffix)) {
          s.remove_suffix(suffix.size());
        }
        return Value(s);
      }));
  put("lookupIP", Function(sig({k_string}),
                           [](Args a) { return Value::strings(lookup_ip(a[0].as_string())); }));
  put("lookupIPV4",
      Function(sig({k_string}), [](Args a) { return lookup_ip_filtered(a[0].as_string(), '.'); }));
  put("lookupIPV6",
      Function(sig({k_string}), [](Args a) { return lookup_ip_filtered(a[0].as_string(), ':'); }));
  put("lookupSRV", Function(sig({k_string, k_string, k_string}), [](Args a) {
        return lookup_srv(a[0].as_string(), a[1].as_string(), a[2].as_string());
      }));
  put("fileExists", Function(sig({k_string}), [](Args a) {
        struct stat st {};
        // Like os.IsNotExist: only "no such file" means absent.
        return Value(!(stat(a[0].as_string().c_str(), &st) != 0 && errno == ENOENT));
      }));
  put("base64Encode",
      Function(sig({k_string}), [](Args a) { return Value(base64_encode(a[0].as_string())); }));
  put("base64Decode",
      Function(sig({k_string}), [](Args a) { return Value(go_base64_decode(a[0].as_string())); }));
  put("parseBool", Function(sig({k_string}), [](Args a) { return parse_bool(a[0].as_string()); }));
  put("reverse", Function(sig({any}), [](Args a) { return reverse(a[0]); }));
  put("sortByLength", Function(sig({GoType::named("[]string")}), [](Args a) {
        auto& items = a[0].mutable_items();
        go::sort(
            items.size(),
            [&](std::size_t i, std::size_t j) {
              return items[i].as_string().size() < items[j].as_string().size();
            },
            [&](std::size_t i, std::size_t j) { std::swap(items[i], items[j]); });
        return a[0];
      }));
  put("sortKVByLength", Function(sig({GoType::named("[]memkv.KVPair")}), [](Args a) {
        auto& items = a[0].mutable_items();
        go::sort(
            items.size(),
            [&](std::size_t i, std::size_t j) {
              return items[i].entries()[0].second.as_string().size() <
                     items[j].entries()[0].second.as_string().size();
            },
            [&](std::size_t i, std::size_t j) { std::swap(items[i], items[j]); });
        return a[0].retyped("[]memkv.KVPair");
      }));
  put("add", Function(sig({k_int, k_int}),
                      [](Args a) { return Value(wrap_add(a[0].as_int(), a[1].as_int())); }));
  put("sub", Function(sig({k_int, k_int}),
                      [](Args a) { return Value(wrap_sub(a[0].as_int(), a[1].as_int())); }));
  put("mul", Function(sig({k_int, k_int}),
                      [](Args a) { return Value(wrap_mul(a[0].as_int(), a[1].as_int())); }));
  put("div", Function(sig({k_int, k_int}), [](Args a) {
        if (a[1].as_int() == 0) {
          fail("runtime error: integer divide by zero");
        }
        if (a[1].as_int() == -1) {
          return Value(wrap_sub(0, a[0].as_int()));
        }
        return Value(a[0].as_int() / a[1].as_int());
      }));
  put("mod", Function(sig({k_int, k_int}), [](Args a) {
        if (a[1].as_int() == 0) {
          fail("runtime error: integer divide by zero");
        }
        if (a[1].as_int() == -1) {
          return Value(std::int64_t{0});
        }
        return Value(a[0].as_int() % a[1].as_int());
      }));
  put("seq", Function(sig({k_int, k_int}), [](Args a) {
        std::int64_t first = a[0].as_int();
        std::int64_t last = a[1].as_int();
        // confd builds the whole slice; 100 million numbers would take 3 GB here before the
        // range over them even starts (the output cap would only stop it after that).
        if (last >= first && static_cast<std::uint64_t>(last) - static_cast<std::uint64_t>(first) >=
                                 k_max_seq_length) {
          fail("seq " + std::to_string(first) + " " + std::to_string(last) + ": more than the " +
               std::to_string(k_max_seq_length) + " numbers a template may ask for");
        }
        std::vector<Value> out;
        for (std::int64_t i = a[0].as_int(); i <= a[1].as_int(); ++i) {
          out.emplace_back(i);
          if (i == std::numeric_limits<std::int64_t>::max()) {
            break;
          }
        }
        return Value::list(std::move(out), "[]int");
      }));
  put("atoi", Function(sig({k_string}), [](Args a) { return atoi(a[0].as_string()); }));

  // memkv's functions over the store
  put("exists", Function(sig({k_string}),
                         [store](Args a) { return Value(store->exists(a[0].as_string())); }));
  put("ls", Function(sig({k_string}), [store](Args a) { return store->list(a[0].as_string()); }));
  put("lsdir",
      Function(sig({k_string}), [store](Args a) { return store->list_dir(a[0].as_string()); }));
  put("get", Function(sig({k_string}), [store](Args a) {
        auto pair = store->get(a[0].as_string());
        if (!pair) {
          fail("key does not exist: " + a[0].as_string());
        }
        return *pair;
      }));
  put("gets",
      Function(sig({k_string}), [store](Args a) { return store->get_all(a[0].as_string()); }));
  put("getv", Function(sig({k_string}, k_string), [store](Args a) {
        auto v = store->value(a[0].as_string());
        if (!v) {
          if (a.size() > 1) {
            return a[1]; // the default, even an empty one
          }
          fail("key does not exist: " + a[0].as_string());
        }
        return Value(std::move(*v));
      }));
  put("getvs", Function(sig({k_string}),
                        [store](Args a) { return store->get_all_values(a[0].as_string()); }));
}

FuncMap confd_funcs(std::shared_ptr<const KvStore> store) {
  FuncMap m;
  add_confd_funcs(m, std::move(store));
  return m;
}

} // namespace herald::tmpl
