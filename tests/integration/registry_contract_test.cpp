#include "herald/core/base64.hpp"
#include "herald/core/error.hpp"
#include "herald/registry/backends.hpp"
#include "herald/registry/layout.hpp"
#include "herald/registry/registry.hpp"
#include "support/consul_double.hpp"
#include "support/etcd_server.hpp"
#include "support/process.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <doctest/doctest.h>
#include <functional>
#include <httplib.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

using namespace herald;
using namespace herald::registry;
using namespace herald::test;
using namespace std::chrono_literals;

// One registry contract (DESIGN.md, "The registry contract"), the same checks run against every
// backend: memory, etcd v3 and etcd v2 against a real etcd. Backend-specific behaviour follows at
// the end (etcd3: compaction, auth, failover, gateway prefix).

namespace {

/// The memory backend. It has no other client, so "someone else" uses the same object.
struct MemoryBackend {
  std::unique_ptr<Registry> registry = make_memory_registry();

  std::optional<std::string> value(const std::string& key) {
    auto kv = registry->get(key);
    return kv ? std::optional(kv->value) : std::nullopt;
  }
  std::optional<long> ttl(const std::string& key) {
    auto kv = registry->get(key);
    return kv && kv->ttl ? std::optional<long>(kv->ttl->count()) : std::nullopt;
  }
  void delete_elsewhere(const std::string& key) { registry->remove(key); }
  void put_elsewhere(const std::string& key, const std::string& value) {
    registry->put(key, value); // MemoryRegistry is thread-safe
  }
};

/// etcd v3 through herald's etcd3 backend; checked and disturbed through etcdctl / raw HTTP.
struct Etcd3Backend {
  EtcdServer server;
  std::unique_ptr<Registry> registry = open(server.v3_url(), Options{});

  std::optional<std::string> value(const std::string& key) { return server.get3(key); }
  std::optional<long> ttl(const std::string& key) { return server.ttl3(key); }
  void delete_elsewhere(const std::string& key) { server.etcdctl({"del", key}); }
  void put_elsewhere(const std::string& key, const std::string& value) {
    server.etcdctl({"put", key, value});
  }
};

/// etcd v2 through herald's etcd2 backend.
struct Etcd2Backend {
  EtcdServer server;
  std::unique_ptr<Registry> registry = open(server.v2_url(), Options{});

  std::optional<std::string> value(const std::string& key) { return server.get2(key); }
  std::optional<long> ttl(const std::string& key) { return server.ttl2(key); }
  void delete_elsewhere(const std::string& key) { server.etcdctl2({"rm", key}); }
  void put_elsewhere(const std::string& key, const std::string& value) {
    server.etcdctl2({"set", key, value});
  }
};

/// Consul through herald's consul backend, against the Consul test double; keys only (an
/// instance is a service there, tested in consul_registry_test.cpp). Checked and disturbed with
/// plain HTTP requests on the KV API, keys without the leading '/'.
struct ConsulBackend {
  ConsulDouble server;
  std::unique_ptr<Registry> registry = open(server.url(), Options{});

  std::optional<std::string> value(const std::string& key) {
    auto reply = http_request(server.port(), "GET", "/v1/kv" + key + "?raw");
    return reply.status == 200 ? std::optional(reply.body) : std::nullopt;
  }
  void delete_elsewhere(const std::string& key) {
    http_request(server.port(), "DELETE", "/v1/kv" + key);
  }
  void put_elsewhere(const std::string& key, const std::string& value) {
    http_request(server.port(), "PUT", "/v1/kv" + key, value);
  }
};

Registration registration(const std::string& app, const std::string& instance,
                          const std::string& value, std::chrono::seconds ttl,
                          const std::string& prefix = "/contract/services") {
  Registration reg;
  reg.name = InstanceName{app, instance};
  reg.key = instance_key(prefix, reg.name);
  reg.value = value;
  reg.address = parse_host_port(value, "test");
  reg.ttl = ttl;
  return reg;
}

/// Watches until `want` events arrived (bounded: 10 waits of 2 s).
std::vector<Event> collect_events(Registry& registry, const std::string& prefix, std::int64_t index,
                                  std::size_t want) {
  std::vector<Event> out;
  for (int i = 0; i < 10 && out.size() < want; ++i) {
    auto batch = registry.watch(prefix, index, 2s);
    REQUIRE_FALSE(batch.resync);
    out.insert(out.end(), batch.events.begin(), batch.events.end());
    CHECK(batch.index >= index);
    index = batch.index;
  }
  return out;
}

template <typename Body> Error catch_error(Body body) {
  try {
    body();
  } catch (const Error& e) {
    return e;
  }
  FAIL("expected a herald::Error");
  return Error(ErrorKind::internal, "none");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TYPE_TO_STRING(MemoryBackend);
TYPE_TO_STRING(Etcd3Backend);
TYPE_TO_STRING(Etcd2Backend);
TYPE_TO_STRING(ConsulBackend);

#define HERALD_BACKENDS MemoryBackend, Etcd3Backend, Etcd2Backend
// Consul keeps no history: a key put and deleted between two watches is no event there, so the
// "put and a delete after an index" case stays with the backends that replay history.
#define HERALD_KV_BACKENDS MemoryBackend, Etcd3Backend, Etcd2Backend, ConsulBackend

TEST_SUITE_BEGIN("integration");

// --- keys ----------------------------------------------------------------------------------------

TEST_CASE_TEMPLATE("registry contract: put get and remove a key", B, HERALD_KV_BACKENDS) {
  B b;
  Registry& r = *b.registry;
  CHECK_FALSE(r.get("/contract/k").has_value());
  const std::string value = "10.0.0.1:80 line\nsecond \xc3\xa9 & = + %";
  r.put("/contract/k", value);
  auto first = r.get("/contract/k");
  REQUIRE(first.has_value());
  CHECK(first->key == "/contract/k");
  CHECK(first->value == value);
  CHECK(first->modify_index > 0);
  CHECK(b.value("/contract/k") == std::optional<std::string>(value));

  r.put("/contract/k", "v2");
  auto second = r.get("/contract/k");
  REQUIRE(second.has_value());
  CHECK(second->value == "v2");
  CHECK(second->modify_index > first->modify_index);
  CHECK(second->create_index > 0); // etcd2 gives a replaced key a new createdIndex

  CHECK(r.remove("/contract/k"));
  CHECK_FALSE(r.get("/contract/k").has_value());
  CHECK_FALSE(r.remove("/contract/k"));
}

TEST_CASE_TEMPLATE("registry contract: list returns a sorted directory at a consistent index", B,
                   HERALD_KV_BACKENDS) {
  B b;
  Registry& r = *b.registry;
  r.put("/contract/dir/b", "2");
  r.put("/contract/dir/a", "1");
  r.put("/contract/dir/sub/c", "3");
  r.put("/contract/dir2/x", "sibling, not under /contract/dir");
  auto snapshot = r.list("/contract/dir");
  std::vector<std::string> keys;
  std::int64_t newest = 0;
  for (const auto& kv : snapshot.entries) {
    keys.push_back(kv.key);
    newest = std::max(newest, kv.modify_index);
  }
  CHECK(keys ==
        std::vector<std::string>{"/contract/dir/a", "/contract/dir/b", "/contract/dir/sub/c"});
  REQUIRE(snapshot.entries.size() == 3);
  CHECK(snapshot.entries[0].value == "1");
  CHECK(snapshot.index >= newest);

  // The index is the snapshot's moment: a watch from it sees the next change and nothing older.
  r.put("/contract/dir/d", "4");
  auto events = collect_events(r, "/contract/dir", snapshot.index, 1);
  REQUIRE(events.size() == 1);
  CHECK(events[0].kv.key == "/contract/dir/d");
  CHECK(r.list("/contract/nothing").entries.empty());
}

// --- watch ---------------------------------------------------------------------------------------

TEST_CASE_TEMPLATE("registry contract: watch sees a put and a delete after an index", B,
                   HERALD_BACKENDS) {
  B b;
  Registry& r = *b.registry;
  r.put("/contract/w/old", "before the index");
  auto index = r.list("/contract/w").index;
  r.put("/contract/w/a", "10.0.0.1:80");
  r.remove("/contract/w/a");
  auto events = collect_events(r, "/contract/w", index, 2);
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == Event::Type::put);
  CHECK(events[0].kv.key == "/contract/w/a");
  CHECK(events[0].kv.value == "10.0.0.1:80");
  CHECK(events[0].kv.modify_index > index);
  CHECK(events[1].type == Event::Type::remove);
  CHECK(events[1].kv.key == "/contract/w/a");
  CHECK(events[1].kv.modify_index > events[0].kv.modify_index);
}

TEST_CASE_TEMPLATE("registry contract: watch wakes for a change made while it waits", B,
                   HERALD_KV_BACKENDS) {
  B b;
  Registry& r = *b.registry;
  auto index = r.list("/contract/live").index;
  std::thread writer([&] {
    std::this_thread::sleep_for(300ms);
    b.put_elsewhere("/contract/live/k", "late");
  });
  auto started = std::chrono::steady_clock::now();
  auto events = collect_events(r, "/contract/live", index, 1);
  auto waited = std::chrono::steady_clock::now() - started;
  writer.join();
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == Event::Type::put);
  CHECK(events[0].kv.value == "late");
  CHECK(waited >= 250ms);
  CHECK(waited < 3s);
}

TEST_CASE_TEMPLATE("registry contract: watch returns an empty batch when max_wait passes", B,
                   HERALD_KV_BACKENDS) {
  B b;
  Registry& r = *b.registry;
  r.put("/contract/quiet/k", "1");
  r.put("/contract/elsewhere", "1");
  auto index = r.list("/contract/quiet").index;
  auto started = std::chrono::steady_clock::now();
  auto batch = r.watch("/contract/quiet", index, 700ms);
  auto waited = std::chrono::steady_clock::now() - started;
  CHECK(batch.events.empty());
  CHECK_FALSE(batch.resync);
  CHECK(batch.index == index);
  CHECK(waited >= 600ms);
  CHECK(waited < 2500ms);
}

// --- instances -----------------------------------------------------------------------------------

TEST_CASE_TEMPLATE("registry contract: register_instance sets the TTL", B, HERALD_BACKENDS) {
  B b;
  auto reg = registration("web", "1", "10.0.0.5:3000", 30s);
  b.registry->register_instance(reg);
  CHECK(b.value(reg.key) == std::optional<std::string>("10.0.0.5:3000"));
  auto ttl = b.ttl(reg.key);
  REQUIRE(ttl.has_value());
  CHECK(*ttl <= 30);
  CHECK(*ttl >= 25);
}

TEST_CASE_TEMPLATE("registry contract: refresh_instance keeps a registration past its TTL", B,
                   HERALD_BACKENDS) {
  B b;
  auto reg = registration("web", "1", "10.0.0.5:3000", 2s);
  b.registry->register_instance(reg);
  for (int i = 0; i < 7; ++i) { // 3.5 s: well past the 2 s TTL
    std::this_thread::sleep_for(500ms);
    CHECK(b.registry->refresh_instance(reg) == KeepAlive::alive);
  }
  CHECK(b.value(reg.key) == std::optional<std::string>("10.0.0.5:3000"));
  auto ttl = b.ttl(reg.key);
  REQUIRE(ttl.has_value());
  CHECK(*ttl >= 1);
}

TEST_CASE_TEMPLATE("registry contract: a key deleted by someone else is back after the refresh", B,
                   HERALD_BACKENDS) {
  B b;
  auto reg = registration("web", "1", "10.0.0.5:3000", 30s);
  b.registry->register_instance(reg);
  b.delete_elsewhere(reg.key);
  REQUIRE_FALSE(b.value(reg.key).has_value());
  // etcd3 and memory rewrite the key inside the refresh and say so; etcd2 cannot tell a deleted
  // key from an expired one and answers lost, and its caller registers again, as announce does.
  KeepAlive kept = b.registry->refresh_instance(reg);
  CHECK(kept != KeepAlive::alive);
  if (kept == KeepAlive::lost) {
    CHECK(b.registry->backend() == "etcd2");
    b.registry->register_instance(reg);
  }
  CHECK(b.value(reg.key) == std::optional<std::string>("10.0.0.5:3000"));
  CHECK(b.ttl(reg.key).has_value());
  CHECK(b.registry->refresh_instance(reg) == KeepAlive::alive);
}

TEST_CASE_TEMPLATE("registry contract: refresh after the TTL lapsed reports lost", B,
                   HERALD_BACKENDS) {
  B b;
  auto reg = registration("web", "1", "10.0.0.5:3000", 1s);
  b.registry->register_instance(reg);
  REQUIRE(b.value(reg.key).has_value());
  CHECK(eventually([&] { return !b.value(reg.key).has_value(); }, 8s));
  CHECK(b.registry->refresh_instance(reg) == KeepAlive::lost);
  // And registering again makes it present.
  reg.ttl = 30s;
  b.registry->register_instance(reg);
  CHECK(b.value(reg.key).has_value());
}

TEST_CASE_TEMPLATE("registry contract: deregister returns true and then false", B,
                   HERALD_BACKENDS) {
  B b;
  auto reg = registration("web", "1", "10.0.0.5:3000", 30s);
  b.registry->register_instance(reg);
  CHECK(b.registry->deregister_instance(reg));
  CHECK_FALSE(b.value(reg.key).has_value());
  CHECK_FALSE(b.registry->deregister_instance(reg));
}

TEST_CASE_TEMPLATE("registry contract: withdraw removes the key and register restores it", B,
                   HERALD_BACKENDS) {
  B b;
  auto reg = registration("web", "1", "10.0.0.5:3000", 30s);
  b.registry->register_instance(reg);
  b.registry->withdraw_instance(reg, "health check failed");
  CHECK_FALSE(b.value(reg.key).has_value());
  b.registry->register_instance(reg);
  CHECK(b.value(reg.key) == std::optional<std::string>("10.0.0.5:3000"));
  CHECK(b.registry->refresh_instance(reg) == KeepAlive::alive);
}

TEST_CASE_TEMPLATE("registry contract: instances lists registrations sorted with their TTL", B,
                   HERALD_BACKENDS) {
  B b;
  b.registry->register_instance(registration("web", "2", "10.0.0.6:3000", 30s));
  b.registry->register_instance(registration("web", "1", "10.0.0.5:3000", 30s));
  b.registry->register_instance(registration("api", "1", "10.0.0.7:8080", 30s));
  b.registry->put("/contract/elsewhere/web/web@9", "10.9.9.9:1");
  InstanceQuery query;
  query.prefix = "/contract/services";
  query.with_ttl = true;
  auto all = b.registry->instances(query);
  REQUIRE(all.size() == 3);
  CHECK(all[0].app == "api");
  CHECK(all[1].app == "web");
  CHECK(all[1].instance == "1");
  CHECK(all[2].instance == "2");
  CHECK(all[1].key == "/contract/services/web/web@1");
  REQUIRE(all[1].address.has_value());
  CHECK(*all[1].address == HostPort{"10.0.0.5", 3000});
  CHECK(all[1].health == Instance::Health::passing);
  for (const auto& instance : all) {
    REQUIRE(instance.ttl_left.has_value());
    CHECK(*instance.ttl_left <= 30s);
    CHECK(*instance.ttl_left >= 25s);
  }
  query.apps = {"web"};
  CHECK(b.registry->instances(query).size() == 2);
}

// --- etcd3 only ----------------------------------------------------------------------------------

namespace {

/// Retries `body` while etcd answers "temporary" (a leader election after a member died), as
/// announce and render do; an unavailable endpoint is not retried, so failover itself is tested.
template <typename Body> auto retry_temporary(Body body) {
  for (int attempt = 0;; ++attempt) {
    try {
      return body();
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::temporary || attempt >= 20) {
        throw;
      }
      std::this_thread::sleep_for(250ms);
    }
  }
}

/// An HTTP front for a real etcd that can pretend to be etcd 3.3 (no /v3 gateway, /v3beta only,
/// /version saying 3.3), since no etcd that old can be installed here. Counts what it is asked.
class GatewayFront {
public:
  GatewayFront(int etcd_port, bool pretend_3_3) : m_etcd_port(etcd_port), m_old(pretend_3_3) {
    m_server.Post(R"(/(v3|v3beta|v3alpha)/.*)",
                  [this](const httplib::Request& req, httplib::Response& res) {
                    if (req.path.starts_with("/v3/")) {
                      ++m_v3_requests;
                    } else if (req.path.starts_with("/v3beta/")) {
                      ++m_v3beta_requests;
                    }
                    if (m_old && !req.path.starts_with("/v3beta/")) {
                      res.status = 404;
                      res.set_content("404 page not found\n", "text/plain");
                      return;
                    }
                    forward(req, res);
                  });
    m_server.Get("/version", [this](const httplib::Request& req, httplib::Response& res) {
      ++m_version_requests;
      if (m_old) {
        res.set_content(R"({"etcdserver":"3.3.27","etcdcluster":"3.3.0"})", "application/json");
        return;
      }
      forward(req, res);
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    REQUIRE(m_port > 0);
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    REQUIRE(eventually([this] { return m_server.is_running(); }, 5s));
  }
  ~GatewayFront() {
    m_server.stop();
    m_thread.join();
  }
  GatewayFront(const GatewayFront&) = delete;
  GatewayFront& operator=(const GatewayFront&) = delete;

  std::string url() const { return "etcd://127.0.0.1:" + std::to_string(m_port); }
  int version_requests() const { return m_version_requests; }
  int v3_requests() const { return m_v3_requests; }
  int v3beta_requests() const { return m_v3beta_requests; }

private:
  void forward(const httplib::Request& req, httplib::Response& res) {
    httplib::Client etcd("127.0.0.1", m_etcd_port);
    auto answer = req.method == "GET" ? etcd.Get(req.path)
                                      : etcd.Post(req.path, req.body, "application/json");
    if (!answer) {
      res.status = 502;
      return;
    }
    res.status = answer->status;
    res.set_content(answer->body, answer->get_header_value("Content-Type"));
  }

  int m_etcd_port;
  bool m_old;
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
  std::atomic<int> m_version_requests{0};
  std::atomic<int> m_v3_requests{0};
  std::atomic<int> m_v3beta_requests{0};
};

} // namespace

TEST_CASE("etcd3 list reads every page of a prefix larger than one range page") {
  // list() pages by 5000 keys; 12001 keys need three pages, each starting after the last key.
  EtcdServer server;
  constexpr int k_keys = 12001;
  for (int first = 0; first < k_keys; first += 100) {
    nlohmann::json success = nlohmann::json::array();
    for (int i = first; i < std::min(first + 100, k_keys); ++i) {
      char key[32];
      std::snprintf(key, sizeof key, "/big/k%05d", i);
      success.push_back(
          {{"request_put",
            {{"key", base64_encode(key)}, {"value", base64_encode(std::to_string(i))}}}});
    }
    nlohmann::json txn{{"success", success}};
    REQUIRE(http_request(server.client_port(), "POST", "/v3/kv/txn", txn.dump()).status == 200);
  }
  auto registry = open(server.v3_url(), Options{});
  auto snapshot = registry->list("/big");
  REQUIRE(snapshot.entries.size() == static_cast<std::size_t>(k_keys));
  CHECK(snapshot.entries.front().key == "/big/k00000");
  CHECK(snapshot.entries[5000].key == "/big/k05000");
  CHECK(snapshot.entries.back().key == "/big/k12000");
  CHECK(snapshot.entries.back().value == "12000");
}

TEST_CASE("etcd3 watch from a compacted revision reports resync") {
  EtcdServer server;
  auto registry = open(server.v3_url(), Options{});
  auto first = registry->list("/cmp").index;
  for (int i = 0; i < 5; ++i) {
    registry->put("/cmp/k", std::to_string(i));
  }
  auto index = registry->list("/cmp").index;
  server.etcdctl({"compact", std::to_string(index)});

  auto batch = registry->watch("/cmp", first, 5s);
  CHECK(batch.resync);
  CHECK(batch.events.empty());

  // After a re-list the watch works again from the new index.
  auto relisted = registry->list("/cmp");
  REQUIRE(relisted.entries.size() == 1);
  CHECK(relisted.entries[0].value == "4");
  registry->put("/cmp/k", "5");
  auto again = registry->watch("/cmp", relisted.index, 5s);
  CHECK_FALSE(again.resync);
  REQUIRE(again.events.size() == 1);
  CHECK(again.events[0].kv.value == "5");
}

TEST_CASE("etcd3 refresh rewrites an overwritten key with its lease in the same call") {
  EtcdServer server;
  auto registry = open(server.v3_url(), Options{});
  auto reg = registration("web", "1", "10.0.0.5:3000", 30s);
  registry->register_instance(reg);
  server.etcdctl({"put", reg.key, "10.9.9.9:1"}); // someone else's value, without a lease
  REQUIRE_FALSE(server.ttl3(reg.key).has_value());
  CHECK(registry->refresh_instance(reg) == KeepAlive::rewritten);
  CHECK(server.get3(reg.key) == std::optional<std::string>("10.0.0.5:3000"));
  CHECK(server.ttl3(reg.key).has_value());

  // An intact key is not rewritten: the refresh leaves the revision alone (no watch event).
  auto index = registry->list("/contract").index;
  CHECK(registry->refresh_instance(reg) == KeepAlive::alive);
  CHECK(registry->list("/contract").index == index);
}

TEST_CASE("etcd3 authenticates with a good password and rejects a bad one by name") {
  EtcdServer server;
  server.etcdctl({"user", "add", "root:s3cret-pw"});
  server.etcdctl({"auth", "enable"});

  Options good;
  good.username = "root";
  good.password = "s3cret-pw";
  auto registry = open(server.v3_url(), good);
  registry->put("/auth/k", "v");
  auto kv = registry->get("/auth/k");
  REQUIRE(kv.has_value());
  CHECK(kv->value == "v");
  auto reg = registration("web", "1", "10.0.0.5:3000", 30s);
  registry->register_instance(reg);
  CHECK(registry->refresh_instance(reg) == KeepAlive::alive);
  registry->put("/auth/w", "1");
  auto index = registry->list("/auth").index;
  registry->put("/auth/w", "2");
  auto batch = registry->watch("/auth", index, 5s);
  REQUIRE(batch.events.size() == 1);
  CHECK(batch.events[0].kv.value == "2");

  Options bad = good;
  bad.password = "wrong-pw-value";
  auto error = catch_error([&] { open(server.v3_url(), bad)->get("/auth/k"); });
  CHECK(error.kind() == ErrorKind::config);
  CHECK(std::string(error.what()) ==
        "etcd rejected user 'root': check --user and the password file");
  CHECK_FALSE(contains(error.what(), "wrong-pw-value"));

  auto anonymous = catch_error([&] { open(server.v3_url(), Options{})->get("/auth/k"); });
  CHECK(anonymous.kind() == ErrorKind::config);
  CHECK(contains(anonymous.what(), "--user"));
}

TEST_CASE("etcd3 authenticates again when etcd forgot the token") {
  EtcdServer server;
  server.etcdctl({"user", "add", "root:s3cret-pw"});
  server.etcdctl({"auth", "enable"});
  Options options;
  options.username = "root";
  options.password = "s3cret-pw";
  auto registry = open(server.v3_url(), options);
  registry->put("/auth/k", "before");
  // Simple tokens live in etcd's memory: after a restart the old one is an "invalid auth token".
  server.stop();
  server.start();
  auto kv = retry_temporary([&] { return registry->get("/auth/k"); });
  REQUIRE(kv.has_value());
  CHECK(kv->value == "before");
  retry_temporary([&] {
    registry->put("/auth/k", "after");
    return 0;
  });
  CHECK(registry->get("/auth/k")->value == "after");
}

TEST_CASE("etcd3 keeps working through the other members when the first one dies") {
  EtcdCluster cluster;
  auto registry = open(cluster.v3_url(), Options{});
  registry->put("/failover/a", "1");
  auto reg = registration("web", "1", "10.0.0.5:3000", 30s);
  registry->register_instance(reg);

  cluster.member(0).kill();
  // The survivors elect a leader first: on a loaded machine that takes longer than the client's
  // 5 s budget, and a request meanwhile waits on a live member instead of failing over.
  cluster.member(1).wait_ready();
  retry_temporary([&] {
    registry->put("/failover/b", "2");
    return 0;
  });
  auto a = retry_temporary([&] { return registry->get("/failover/a"); });
  REQUIRE(a.has_value());
  CHECK(a->value == "1");
  CHECK(registry->get("/failover/b")->value == "2");
  CHECK(retry_temporary([&] { return registry->refresh_instance(reg); }) == KeepAlive::alive);
  CHECK(cluster.member(1).get3(reg.key) == std::optional<std::string>("10.0.0.5:3000"));
}

TEST_CASE("etcd3 counts the keys a v2 writer left in the other keyspace") {
  EtcdServer server;
  auto registry = open(server.v3_url(), Options{});
  CHECK(registry->count_in_other_keyspace("/services/web") == std::optional<std::size_t>(0));
  server.etcdctl2({"set", "/services/web/web/web@1", "10.0.0.1:80"});
  server.etcdctl2({"set", "/services/web/web/web@2", "10.0.0.2:80"});
  server.etcdctl2({"set", "/services/web/api/api@1", "10.0.0.3:80"});
  CHECK(registry->count_in_other_keyspace("/services/web") == std::optional<std::size_t>(3));
  CHECK(registry->count_in_other_keyspace("/services/web/api") == std::optional<std::size_t>(1));
  CHECK(registry->list("/services/web").entries.empty()); // the v3 keyspace is apart
}

TEST_CASE("etcd3 spends no request on /version when the /v3 gateway answers") {
  EtcdServer server;
  GatewayFront front(server.client_port(), false);
  auto registry = open(front.url(), Options{});
  registry->put("/gw/k", "v");
  CHECK(registry->get("/gw/k")->value == "v");
  CHECK(registry->list("/gw").entries.size() == 1);
  CHECK(front.version_requests() == 0);
  CHECK(front.v3_requests() == 3);
}

TEST_CASE("etcd3 watch continuing from its last index gets every change made between calls") {
  // watch() keeps its stream open between calls: changes made while the caller was busy are
  // queued, and a caller going back to an older index gets a stream from there.
  EtcdServer server;
  auto registry = open(server.v3_url(), Options{});
  auto start = registry->list("/between").index;
  registry->put("/between/a", "1");
  auto first = registry->watch("/between", start, 5s);
  REQUIRE(first.events.size() == 1);
  CHECK(first.events[0].kv.value == "1");
  registry->put("/between/b", "2");
  registry->remove("/between/a");
  registry->put("/elsewhere/x", "not watched");
  registry->put("/between/c", "3");
  std::vector<Event> later;
  for (int i = 0; i < 10 && later.size() < 3; ++i) {
    auto batch =
        registry->watch("/between", i == 0 ? first.index : later.back().kv.modify_index, 2s);
    later.insert(later.end(), batch.events.begin(), batch.events.end());
  }
  REQUIRE(later.size() == 3);
  CHECK(later[0].kv.key == "/between/b");
  CHECK(later[1].type == Event::Type::remove);
  CHECK(later[1].kv.key == "/between/a");
  CHECK(later[2].kv.value == "3");
  CHECK(later[0].kv.modify_index > first.index);

  // Back to the start: the history is served again from that index.
  auto again = registry->watch("/between", start, 5s);
  REQUIRE_FALSE(again.events.empty());
  CHECK(again.events[0].kv.key == "/between/a");
  CHECK(again.events[0].kv.value == "1");
}

TEST_CASE("etcd3 list reads through the JSON gateway where gRPC is not served") {
  // list() asks etcd's gRPC API first; this front speaks HTTP/1.1 only, like a JSON-only proxy.
  EtcdServer server;
  GatewayFront front(server.client_port(), false);
  auto registry = open(front.url(), Options{});
  registry->put("/gw/a", "1");
  registry->put("/gw/b", "2");
  auto first = registry->list("/gw");
  REQUIRE(first.entries.size() == 2);
  CHECK(first.entries[1].value == "2");
  CHECK(first.index > 0);
  registry->put("/gw/c", "3");
  CHECK(registry->list("/gw").entries.size() == 3);
  CHECK(front.v3_requests() == 5); // three puts, two ranges
}

TEST_CASE("etcd3 list carries binary values, leases and revisions exactly") {
  EtcdServer server;
  auto registry = open(server.v3_url(), Options{});
  const std::string binary("\x00\xff\n{\"a\"}", 7);
  registry->put("/bin/raw", binary);
  auto reg = registration("web", "1", "10.0.0.5:3000", 30s);
  reg.key = "/bin/leased";
  registry->register_instance(reg);
  auto snapshot = registry->list("/bin");
  REQUIRE(snapshot.entries.size() == 2);
  CHECK(snapshot.entries[0].key == "/bin/leased");
  CHECK(snapshot.entries[0].value == "10.0.0.5:3000");
  CHECK(snapshot.entries[0].lease != 0);
  CHECK(snapshot.entries[1].key == "/bin/raw");
  CHECK(snapshot.entries[1].value == binary);
  CHECK(snapshot.entries[1].lease == 0);
  CHECK(snapshot.entries[1].create_index > 0);
  CHECK(snapshot.entries[1].modify_index < snapshot.entries[0].modify_index);
  CHECK(snapshot.index == snapshot.entries[0].modify_index);
}

TEST_CASE("etcd3 falls back to the /v3beta gateway of etcd 3.3 after one /version request") {
  EtcdServer server;
  GatewayFront front(server.client_port(), true);
  auto registry = open(front.url(), Options{});
  registry->put("/gw/k", "v");
  CHECK(registry->get("/gw/k")->value == "v");
  auto reg = registration("web", "1", "10.0.0.5:3000", 30s);
  registry->register_instance(reg);
  CHECK(registry->refresh_instance(reg) == KeepAlive::alive);
  CHECK(registry->deregister_instance(reg));
  CHECK(front.version_requests() == 1);
  CHECK(front.v3_requests() == 1); // the first request only
  CHECK(front.v3beta_requests() >= 7);
}

TEST_SUITE_END();
