#include "herald/render/route_funcs.hpp"

#include "herald/core/address.hpp"
#include "herald/registry/layout.hpp"
#include "herald/tmpl/go_path.hpp"

#include <map>
#include <string>
#include <vector>

namespace herald::render {

namespace {

using tmpl::Value;
using Args = std::span<const Value>;

tmpl::Signature sig(std::vector<tmpl::GoType> params) {
  return tmpl::Signature{std::move(params), std::nullopt};
}

Value instance_value(const registry::Instance& instance) {
  std::string id =
      instance.instance.empty() ? instance.app : instance.app + "@" + instance.instance;
  tmpl::Entries meta;
  for (const auto& [name, value] : instance.meta) {
    meta.emplace_back(name, Value(value));
  }
  return Value::map(
      {
          {"Key", Value(instance.key)},
          {"ID", Value(std::move(id))},
          {"App", Value(instance.app)},
          {"Instance", Value(instance.instance)},
          {"Host", Value(instance.address->host)},
          {"Port", Value(static_cast<int>(instance.address->port))},
          {"Address", Value(instance.address->str())},
          {"Tags", Value::strings(instance.tags)},
          {"Meta", Value::map(std::move(meta), "map[string]string")},
      },
      "map[string]interface {}");
}

Value routes(const tmpl::KvStore& store, std::string_view path) {
  std::string root = tmpl::go::path_clean("/" + std::string(path));
  std::string base = root == "/" ? "" : root;
  // Both layouts: PATH/APP/LEAF and the single key PATH/APP. Keys are read back as the route
  // model reads registry keys, so the template sees exactly what route ls calls valid.
  std::map<std::string, std::vector<Value>> apps;
  for (const char* pattern : {"/*/*", "/*"}) {
    Value pairs = store.get_all(base + pattern);
    for (const auto& pair : pairs.items()) {
      const Value* key = pair.find("Key");
      const Value* value = pair.find("Value");
      if (key == nullptr || value == nullptr) {
        continue;
      }
      registry::KeyValue kv;
      kv.key = key->as_string();
      kv.value = value->as_string();
      auto instance = registry::instance_at(root, kv);
      if (instance && instance->address) {
        apps[instance->app].push_back(instance_value(*instance));
      }
    }
  }
  std::vector<Value> out;
  for (auto& [name, instances] : apps) {
    out.push_back(Value::map({{"Name", Value(name)}, {"Instances", Value::list(instances)}},
                             "map[string]interface {}"));
  }
  return Value::list(std::move(out));
}

} // namespace

void add_route_funcs(tmpl::FuncMap& funcs, std::shared_ptr<const tmpl::KvStore> store,
                     std::shared_ptr<RouteReads> reads) {
  const tmpl::GoType str = tmpl::GoType::string();
  funcs.insert_or_assign("routes", tmpl::Function(sig({str}), [store, reads](Args a) {
                           if (reads) {
                             reads->called = true;
                           }
                           return routes(*store, a[0].as_string());
                         }));
  funcs.insert_or_assign("safeGetv", tmpl::Function(sig({str, str}), [store](Args a) {
                           auto v = store->value(tmpl::go::path_clean("/" + a[0].as_string()));
                           if (!v || v->empty() || tag_problem(*v)) {
                             return a[1];
                           }
                           return Value(std::move(*v));
                         }));
}

} // namespace herald::render
