#include "herald/registry/memory/memory_registry.hpp"
#include "herald/route/listing.hpp"

#include <algorithm>
#include <chrono>
#include <doctest/doctest.h>

using namespace herald;
using namespace herald::route;
using namespace std::chrono_literals;
using registry::Instance;
using registry::InstanceQuery;
using registry::memory::MemoryRegistry;

namespace {

/// The memory registry with health: instances named in `critical` report critical, as a Consul
/// catalog would, so list_routes' filtering can be seen without a network backend.
class RegistryWithHealth final : public registry::Registry {
public:
  std::vector<std::string> critical;
  MemoryRegistry store;

  std::string_view backend() const override { return "memory"; }
  std::string describe() const override { return "memory://"; }
  std::optional<registry::KeyValue> get(std::string_view key) override { return store.get(key); }
  registry::Snapshot list(std::string_view prefix) override { return store.list(prefix); }
  void put(std::string_view key, std::string_view value) override { store.put(key, value); }
  bool remove(std::string_view key) override { return store.remove(key); }
  registry::WatchBatch watch(std::string_view prefix, std::int64_t after,
                             std::chrono::milliseconds wait) override {
    return store.watch(prefix, after, wait);
  }
  void register_instance(const registry::Registration& reg) override {
    store.register_instance(reg);
  }
  registry::KeepAlive refresh_instance(const registry::Registration& reg) override {
    return store.refresh_instance(reg);
  }
  void withdraw_instance(const registry::Registration& reg, std::string_view why) override {
    store.withdraw_instance(reg, why);
  }
  bool deregister_instance(const registry::Registration& reg) override {
    return store.deregister_instance(reg);
  }
  std::vector<Instance> instances(const InstanceQuery& query) override {
    auto all = store.instances(query);
    for (auto& instance : all) {
      if (std::find(critical.begin(), critical.end(), instance.key) != critical.end()) {
        instance.health = Instance::Health::critical;
      }
    }
    return all;
  }
};

std::vector<std::string> names(const Listing& listing) {
  std::vector<std::string> out;
  for (const auto& i : listing.instances) {
    out.push_back(i.app + "@" + i.instance);
  }
  return out;
}

} // namespace

TEST_SUITE_BEGIN("route");

TEST_CASE("list_routes returns every instance under the prefix sorted naturally") {
  MemoryRegistry reg;
  reg.put("/services/web/web/web@10", "10.0.0.10:80");
  reg.put("/services/web/web/web@2", "10.0.0.2:80");
  reg.put("/services/web/api/api@1", R"({"host":"10.0.0.7","port":8080,"tags":["blue"]})");
  reg.put("/services/other/x/x@1", "10.0.0.99:80");
  Listing listing = list_routes(reg, InstanceQuery{});
  CHECK(listing.backend == "memory");
  CHECK(names(listing) == std::vector<std::string>{"api@1", "web@2", "web@10"});
  CHECK(listing.instances[0].tags == std::vector<std::string>{"blue"});
  CHECK(listing.malformed == 0);
  CHECK(listing.missing_apps.empty());
}

TEST_CASE("list_routes keeps and counts a malformed value and names apps without instances") {
  MemoryRegistry reg;
  reg.put("/services/web/web/web@1", "10.0.0.1:80");
  reg.put("/services/web/web/web@2", "no-port-here");
  InstanceQuery query;
  query.apps = {"web", "nope", "nope"};
  Listing listing = list_routes(reg, query);
  CHECK(names(listing) == std::vector<std::string>{"web@1", "web@2"});
  CHECK(listing.malformed == 1);
  CHECK_FALSE(listing.instances[1].address.has_value());
  CHECK(listing.missing_apps == std::vector<std::string>{"nope"});
}

TEST_CASE("list_routes leaves out critical instances unless unhealthy ones are asked for") {
  RegistryWithHealth reg;
  reg.put("/services/web/web/web@1", "10.0.0.1:80");
  reg.put("/services/web/web/web@2", "10.0.0.2:80");
  reg.critical = {"/services/web/web/web@2"};
  CHECK(names(list_routes(reg, InstanceQuery{})) == std::vector<std::string>{"web@1"});
  InstanceQuery all;
  all.include_unhealthy = true;
  Listing listing = list_routes(reg, all);
  REQUIRE(names(listing) == std::vector<std::string>{"web@1", "web@2"});
  CHECK(listing.instances[1].health == Instance::Health::critical);
}

TEST_CASE("same_routes ignores the TTL left but not an address change") {
  MemoryRegistry reg;
  reg.put("/services/web/web/web@1", "10.0.0.1:80");
  Listing a = list_routes(reg, InstanceQuery{});
  Listing b = a;
  b.instances[0].ttl_left = 17s;
  CHECK(same_routes(a, b));
  reg.put("/services/web/web/web@1", "10.0.0.1:81");
  CHECK_FALSE(same_routes(a, list_routes(reg, InstanceQuery{})));
  reg.put("/services/web/web/web@2", "10.0.0.2:80");
  CHECK_FALSE(same_routes(a, list_routes(reg, InstanceQuery{})));
}

TEST_SUITE_END();
