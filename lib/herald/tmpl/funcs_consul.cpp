// consul-template's Consul functions (template/funcs.go; dependency/health_service.go,
// catalog_services.go, kv_list.go) over a KvStore and a ServiceSource.

#include "herald/tmpl/funcs_consul.hpp"

#include "herald/tmpl/go_path.hpp"
#include "herald/tmpl/go_strconv.hpp"
#include "herald/tmpl/lexer.hpp"

#include <algorithm>
#include <array>
#include <regex>
#include <set>
#include <stdexcept>

namespace herald::tmpl {
namespace {

using Args = std::span<const Value>;

constexpr std::array<std::string_view, 6> k_consul_only = {"service",      "services",  "key",
                                                           "keyOrDefault", "keyExists", "tree"};
constexpr std::array<std::string_view, 2> k_service_functions = {"service", "services"};

[[noreturn]] void fail(const std::string& message) {
  throw std::runtime_error(message);
}

template <std::size_t N>
bool calls_any(std::string_view text, const std::array<std::string_view, N>& names) {
  Lexer lexer(text, true, true);
  for (;;) {
    Item item = lexer.next_item();
    if (item.type == ItemType::eof || item.type == ItemType::error) {
      return false;
    }
    if (item.type == ItemType::identifier &&
        std::find(names.begin(), names.end(), item.val) != names.end()) {
      return true;
    }
  }
}

/// A consul-template key ("service/redis", "/service/redis/") as confd stores it
/// ("/service/redis").
std::string store_key(std::string_view key) {
  return go::path_clean("/" + std::string(key));
}

/// One KV pair as consul-template's *dependency.KeyPair: .Key relative to the queried prefix,
/// .Path the full Consul key (no leading slash), .Value.
Value key_pair(const std::string& full, std::string_view prefix, const std::string& value) {
  std::string_view rel = full;
  if (rel.starts_with(prefix)) {
    rel.remove_prefix(prefix.size());
  }
  while (rel.starts_with('/')) {
    rel.remove_prefix(1);
  }
  return Value::record(
      "dependency.KeyPair",
      {{"Path", Value(full.substr(1))}, {"Key", Value(rel)}, {"Value", Value(value)}}, true);
}

/// Every key at or below `path` (recursively), in no particular order.
void collect_keys(const KvStore& store, const std::string& path, std::set<std::string>& out) {
  Value names = store.list(path);
  for (const auto& name : names.items()) {
    std::string child = go::path_join(path, name.as_string());
    if (child.size() <= path.size()) {
      continue; // memkv lists a key's own base name; that is not a child
    }
    if (store.exists(child)) {
      out.insert(child);
    }
    collect_keys(store, child, out);
  }
}

Value key_pairs(const KvStore& store, std::string_view query, bool recursive) {
  std::string prefix = store_key(query);
  std::set<std::string> keys;
  collect_keys(store, prefix, keys);
  std::vector<Value> pairs;
  for (const auto& key : keys) {
    std::string_view rel = std::string_view(key).substr(prefix == "/" ? 1 : prefix.size() + 1);
    // ls: only top-level keys; tree: every key that is not a folder ("a/").
    if (rel.empty() || (!recursive && rel.find('/') != std::string_view::npos)) {
      continue;
    }
    pairs.push_back(key_pair(key, prefix, store.value(key).value_or("")));
  }
  return Value::list(std::move(pairs), "[]*dependency.KeyPair");
}

Value sorted_tags(std::vector<std::string> tags) {
  std::sort(tags.begin(), tags.end());
  return Value::strings(tags).retyped("dependency.ServiceTags", "[]string");
}

Value meta_map(const std::map<std::string, std::string>& meta) {
  Entries entries;
  for (const auto& [k, v] : meta) {
    entries.emplace_back(k, Value(v));
  }
  return Value::map(std::move(entries), "map[string]string");
}

Value health_service(const ServiceInstance& s) {
  Value meta = meta_map(s.meta);
  return Value::record("dependency.HealthService",
                       {{"Node", Value(s.node)},
                        {"Address", Value(s.address)},
                        {"ID", Value(s.id)},
                        {"Name", Value(s.name)},
                        {"Tags", sorted_tags(s.tags)},
                        {"Meta", meta},
                        {"ServiceMeta", meta},
                        {"Status", Value(s.status)},
                        {"Port", Value(s.port)}},
                       true);
}

/// A parsed `service` query: "[TAG.]NAME[@DC][:PORT]" plus its status filter.
struct ServiceQuery {
  std::string tag;
  std::string name;
  std::vector<std::string> statuses; ///< empty: passing only; {"any"}: everything
};

/// dependency.NewServiceStatusFilter.
std::vector<std::string> parse_status_filter(std::string_view text) {
  std::vector<std::string> out;
  bool has_any = false;
  std::string errors;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string_view part = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!part.empty() && std::isspace(static_cast<unsigned char>(part.front()))) {
      part.remove_prefix(1);
    }
    while (!part.empty() && std::isspace(static_cast<unsigned char>(part.back()))) {
      part.remove_suffix(1);
    }
    if (!part.empty()) {
      if (part == "any") {
        has_any = true;
      }
      if (part == "any" || part == "unknown" || part == "passing" || part == "warning" ||
          part == "critical") {
        out.emplace_back(part);
      } else {
        errors += (errors.empty() ? "" : "; ") + std::string("service filter: invalid filter ") +
                  go::quote(part);
      }
    }
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  if (has_any && out.size() != 1) {
    errors += (errors.empty() ? "" : "; ") +
              std::string("service filter: cannot specify extra keys when using \"any\"");
  }
  if (!errors.empty()) {
    fail(errors);
  }
  return out;
}

ServiceQuery parse_service_query(std::string_view query, std::string_view filter) {
  // consul-template's pattern: the tag is everything up to the last dot (it may hold dots, the
  // name may not).
  static const std::regex k_pattern(
      R"(^(?:([\w\-.]+)\.)?([\w\-/]+)(?:@([\w.\-]+))?(?::([0-9]+))?$)");
  std::smatch m;
  std::string text(query);
  if (!std::regex_match(text, m, k_pattern)) {
    fail("invalid health service dependency format: " + go::quote(query));
  }
  if (m[3].matched) {
    fail("service " + go::quote(query) + ": herald reads the local datacenter only; remove @" +
         m[3].str());
  }
  ServiceQuery out;
  out.tag = m[1].str();
  out.name = m[2].str();
  out.statuses = parse_status_filter(filter);
  return out;
}

bool accepts(const ServiceQuery& q, const ServiceInstance& s) {
  if (s.name != q.name) {
    return false;
  }
  if (!q.tag.empty() && std::find(s.tags.begin(), s.tags.end(), q.tag) == s.tags.end()) {
    return false;
  }
  if (q.statuses.empty()) {
    return s.status == "passing"; // Consul's ?passing: every check passes
  }
  if (q.statuses.size() == 1 && q.statuses[0] == "any") {
    return true;
  }
  return std::find(q.statuses.begin(), q.statuses.end(), s.status) != q.statuses.end();
}

Value service(const ServiceSource* source, Args args) {
  std::vector<Value> result;
  if (args.empty() || args[0].as_string().empty()) {
    return Value::list(std::move(result), "[]*dependency.HealthService");
  }
  if (args.size() > 2) {
    fail("expected 1 or 2 arguments, got " + std::to_string(args.size()));
  }
  ServiceQuery q = parse_service_query(args[0].as_string(),
                                       args.size() == 2 ? args[1].as_string() : std::string());
  std::vector<const ServiceInstance*> matches;
  if (source != nullptr) {
    for (const auto& s : source->service_instances()) {
      if (accepts(q, s)) {
        matches.push_back(&s);
      }
    }
  }
  // HealthServiceList: by node, then by ID (a stable sort).
  std::stable_sort(matches.begin(), matches.end(), [](const auto* a, const auto* b) {
    return a->node != b->node ? a->node < b->node : a->id < b->id;
  });
  for (const auto* s : matches) {
    result.push_back(health_service(*s));
  }
  return Value::list(std::move(result), "[]*dependency.HealthService");
}

Value services(const ServiceSource* source, Args args) {
  if (args.size() > 1) {
    fail("expected 0 or 1 arguments, got " + std::to_string(args.size()));
  }
  if (args.size() == 1 && !args[0].as_string().empty()) {
    fail("services " + go::quote(args[0].as_string()) +
         ": herald reads the local datacenter only; call services without an argument");
  }
  std::map<std::string, std::set<std::string>> catalog;
  if (source != nullptr) {
    for (const auto& s : source->service_instances()) {
      catalog[s.name].insert(s.tags.begin(), s.tags.end());
    }
  }
  std::vector<Value> result;
  for (const auto& [name, tags] : catalog) {
    result.push_back(Value::record(
        "dependency.CatalogSnippet",
        {{"Name", Value(name)}, {"Tags", sorted_tags({tags.begin(), tags.end()})}}, true));
  }
  return Value::list(std::move(result), "[]*dependency.CatalogSnippet");
}

/// consul-template's contains: whether the list (or map keys) `l` holds `v`.
bool list_contains(const Value& v, const Value& l) {
  auto same = [&](const Value& item) {
    Value a = item.unbox();
    Value b = v.unbox();
    if (a.kind() != b.kind()) {
      return false;
    }
    switch (a.kind()) {
    case Kind::string:
      return a.as_string() == b.as_string();
    case Kind::integer:
      return a.as_int() == b.as_int();
    case Kind::boolean:
      return a.as_bool() == b.as_bool();
    case Kind::floating:
      return a.as_float() == b.as_float();
    default:
      return false;
    }
  };
  switch (l.kind()) {
  case Kind::list:
    return std::any_of(l.items().begin(), l.items().end(), same);
  case Kind::map:
    return std::any_of(l.entries().begin(), l.entries().end(),
                       [&](const auto& e) { return same(Value(e.first)); });
  case Kind::string:
    return v.kind() == Kind::string && l.as_string().find(v.as_string()) != std::string::npos;
  default:
    fail("cannot use contains on " + l.type_name());
  }
}

Signature sig(std::vector<GoType> params, std::optional<GoType> variadic = std::nullopt) {
  return Signature{std::move(params), std::move(variadic)};
}

} // namespace

bool uses_consul_template(std::string_view text) {
  return calls_any(text, k_consul_only);
}

bool uses_service_functions(std::string_view text) {
  return calls_any(text, k_service_functions);
}

FuncMap consul_funcs(std::shared_ptr<const KvStore> store, std::shared_ptr<ServiceSource> source,
                     bool consul_template_flavor) {
  const GoType str = GoType::string();
  FuncMap funcs;
  funcs.insert_or_assign(
      "service", Function(sig({}, str), [source](Args a) { return service(source.get(), a); }));
  funcs.insert_or_assign(
      "services", Function(sig({}, str), [source](Args a) { return services(source.get(), a); }));
  funcs.insert_or_assign("key", Function(sig({str}), [store](Args a) {
                           const std::string& k = a[0].as_string();
                           if (k.empty()) {
                             return Value(std::string());
                           }
                           auto v = store->value(store_key(k));
                           if (!v) {
                             fail("key " + go::quote(k) +
                                  " does not exist (consul-template waits for it; herald renders "
                                  "once it exists; keyOrDefault gives a default)");
                           }
                           return Value(*v);
                         }));
  funcs.insert_or_assign("keyOrDefault", Function(sig({str, str}), [store](Args a) {
                           const std::string& k = a[0].as_string();
                           auto v = k.empty() ? std::nullopt : store->value(store_key(k));
                           // consul-template also falls back for an empty value.
                           return (!v || v->empty()) ? a[1] : Value(*v);
                         }));
  funcs.insert_or_assign("keyExists", Function(sig({str}), [store](Args a) {
                           const std::string& k = a[0].as_string();
                           return Value(!k.empty() && store->exists(store_key(k)));
                         }));
  funcs.insert_or_assign("tree", Function(sig({str}), [store](Args a) {
                           if (a[0].as_string().empty()) {
                             return Value::list({}, "[]*dependency.KeyPair");
                           }
                           return key_pairs(*store, a[0].as_string(), true);
                         }));
  if (consul_template_flavor) {
    funcs.insert_or_assign("ls", Function(sig({str}), [store](Args a) {
                             if (a[0].as_string().empty()) {
                               return Value::list({}, "[]*dependency.KeyPair");
                             }
                             return key_pairs(*store, a[0].as_string(), false);
                           }));
    funcs.insert_or_assign("contains", Function(sig({GoType::any(), GoType::any()}), [](Args a) {
                             return Value(list_contains(a[0], a[1]));
                           }));
  }
  return funcs;
}

void add_consul_funcs(FuncMap& funcs, std::string_view text, std::shared_ptr<const KvStore> store,
                      std::shared_ptr<ServiceSource> services) {
  if (services && uses_service_functions(text)) {
    services->subscribe();
  }
  bool flavor = uses_consul_template(text);
  FuncMap consul = consul_funcs(store, std::move(services), flavor);
  auto confd_ls = funcs.find("ls");
  if (!flavor && confd_ls != funcs.end()) {
    // confd's keys all start with '/', so confd's ls of a relative path is always empty: such a
    // call can only mean consul-template's ls ("service/haproxy"), whatever else the text calls.
    Function confd = confd_ls->second;
    consul.insert_or_assign("ls", Function(sig({GoType::string()}), [confd, store](Args a) {
                              const std::string& path = a[0].as_string();
                              if (path.empty() || path.front() == '/') {
                                return confd(a);
                              }
                              return key_pairs(*store, path, false);
                            }));
  }
  for (auto& [name, fn] : consul) {
    funcs.insert_or_assign(name, std::move(fn));
  }
}

} // namespace herald::tmpl
