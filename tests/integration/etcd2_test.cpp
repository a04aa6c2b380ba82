#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/registry/layout.hpp"
#include "herald/registry/registry.hpp"
#include "support/etcd_server.hpp"
#include "support/process.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <future>
#include <thread>

using namespace herald;
using namespace herald::registry;
using namespace herald::test;
using namespace std::chrono_literals;

// etcd v2 specifics against a real etcd (the cross-backend behaviour is in the registry contract
// suite): TTL refresh without a watch event, index cleared, key encoding, errors.

namespace {

Registration registration(const std::string& app, const std::string& instance,
                          const std::string& value, std::chrono::seconds ttl) {
  Registration reg;
  reg.name = InstanceName{app, instance};
  reg.key = instance_key(k_default_prefix, reg.name);
  reg.value = value;
  reg.address = parse_host_port(value, "test");
  reg.ttl = ttl;
  return reg;
}

/// A raw v2 long-poll on `prefix` from `wait_index`, independent of herald's client; returns the
/// body (empty when the wait ran out without an event).
std::future<std::string> raw_watch(const EtcdServer& server, const std::string& prefix,
                                   std::int64_t wait_index, int timeout_ms) {
  int port = server.client_port();
  std::string path =
      "/v2/keys" + prefix + "?wait=true&recursive=true&waitIndex=" + std::to_string(wait_index);
  return std::async(std::launch::async, [port, path, timeout_ms] {
    return http_request(port, "GET", path, "", timeout_ms).body;
  });
}

} // namespace

TEST_SUITE_BEGIN("integration");

TEST_CASE("etcd2 register_instance writes the value with its TTL") {
  EtcdServer server;
  auto registry = open(server.v2_url(), Options{});
  CHECK(registry->backend() == "etcd2");
  CHECK(registry->describe() == "etcd2://127.0.0.1:" + std::to_string(server.client_port()));

  auto reg = registration("web", "1", "10.0.0.1:3000", 30s);
  registry->register_instance(reg);
  CHECK(server.get2("/services/web/web/web@1") == std::optional<std::string>("10.0.0.1:3000"));
  auto ttl = server.ttl2("/services/web/web/web@1");
  REQUIRE(ttl);
  CHECK(*ttl > 25);
  CHECK(*ttl <= 30);

  auto kv = registry->get(reg.key);
  REQUIRE(kv);
  CHECK(kv->value == "10.0.0.1:3000");
  REQUIRE(kv->ttl);
  CHECK(kv->ttl->count() > 25);
}

TEST_CASE("etcd2 refresh extends the TTL without waking a watcher") {
  EtcdServer server;
  auto registry = open(server.v2_url(), Options{});
  auto reg = registration("web", "1", "10.0.0.1:3000", 5s);
  registry->register_instance(reg);
  Snapshot before = registry->list("/services/web");
  REQUIRE(before.entries.size() == 1);
  REQUIRE(before.index > 0);

  auto watcher = raw_watch(server, "/services/web", before.index + 1, 1500);
  std::this_thread::sleep_for(200ms); // let the wait start, so a live notification would show
  reg.ttl = 60s;
  CHECK(registry->refresh_instance(reg) == KeepAlive::alive);
  auto ttl = server.ttl2(reg.key);
  REQUIRE(ttl);
  CHECK(*ttl > 50);
  CHECK(server.get2(reg.key) == std::optional<std::string>("10.0.0.1:3000"));
  CHECK(watcher.get().find("\"action\"") == std::string::npos);

  // herald's own watch sees nothing either, not even from history.
  auto quiet = registry->watch("/services/web", before.index, 300ms);
  CHECK(quiet.events.empty());
  CHECK_FALSE(quiet.resync);

  // A real change after the refresh does reach the same watch: it was listening all along.
  auto woken = raw_watch(server, "/services/web", before.index + 1, 5000);
  registry->put("/services/web/web/web@2", "10.0.0.2:3000");
  std::string body = woken.get();
  CHECK(body.find("\"action\":\"set\"") != std::string::npos);
  CHECK(body.find("web@2") != std::string::npos);
}

TEST_CASE("etcd2 refresh reports lost for a key deleted or overwritten by someone else") {
  EtcdServer server;
  auto registry = open(server.v2_url(), Options{});
  auto reg = registration("web", "1", "10.0.0.1:3000", 30s);

  CHECK(registry->refresh_instance(reg) == KeepAlive::lost); // never registered
  CHECK_FALSE(server.get2(reg.key).has_value());

  registry->register_instance(reg);
  server.etcdctl2({"set", reg.key, "10.9.9.9:1"});
  CHECK(registry->refresh_instance(reg) == KeepAlive::lost);
  CHECK(server.get2(reg.key) == std::optional<std::string>("10.9.9.9:1"));

  registry->register_instance(reg); // what announce does after `lost`
  CHECK(registry->refresh_instance(reg) == KeepAlive::alive);
  server.etcdctl2({"rm", reg.key});
  CHECK(registry->refresh_instance(reg) == KeepAlive::lost);
}

TEST_CASE("etcd2 list flattens the prefix and its index starts a watch at the next change") {
  EtcdServer server;
  auto registry = open(server.v2_url(), Options{});
  registry->put("/t/b/deep/x", "1");
  registry->put("/t/a", "2");
  registry->put("/t/b-c", "3");
  registry->put("/u/other", "4");
  Snapshot snapshot = registry->list("/t");
  REQUIRE(snapshot.entries.size() == 3);
  CHECK(snapshot.entries[0].key == "/t/a");
  CHECK(snapshot.entries[1].key == "/t/b-c");
  CHECK(snapshot.entries[2].key == "/t/b/deep/x");
  CHECK(snapshot.entries[2].value == "1");

  registry->put("/u/other", "5"); // outside the prefix: not an event for /t
  registry->put("/t/b/deep/y", "6");
  auto batch = registry->watch("/t", snapshot.index, 5000ms);
  REQUIRE(batch.events.size() == 1);
  CHECK(batch.events[0].type == Event::Type::put);
  CHECK(batch.events[0].kv.key == "/t/b/deep/y");
  CHECK(batch.events[0].kv.value == "6");
  CHECK(batch.index == batch.events[0].kv.modify_index);

  CHECK(registry->remove("/t/a"));
  auto removal = registry->watch("/t", batch.index, 5000ms);
  REQUIRE(removal.events.size() == 1);
  CHECK(removal.events[0].type == Event::Type::remove);
  CHECK(removal.events[0].kv.key == "/t/a");
}

TEST_CASE("etcd2 list of a missing prefix is empty with a usable index") {
  EtcdServer server;
  auto registry = open(server.v2_url(), Options{});
  Snapshot snapshot = registry->list("/nothing/here");
  CHECK(snapshot.entries.empty());
  CHECK(snapshot.index > 0);
  registry->put("/nothing/here/now", "x");
  auto batch = registry->watch("/nothing/here", snapshot.index, 5000ms);
  REQUIRE(batch.events.size() == 1);
  CHECK(batch.events[0].kv.key == "/nothing/here/now");
}

TEST_CASE("etcd2 remove and deregister say whether the key existed") {
  EtcdServer server;
  auto registry = open(server.v2_url(), Options{});
  auto reg = registration("web", "1", "10.0.0.1:3000", 30s);
  CHECK_FALSE(registry->remove(reg.key));
  CHECK_FALSE(registry->deregister_instance(reg));
  registry->register_instance(reg);
  CHECK(registry->deregister_instance(reg));
  CHECK_FALSE(server.get2(reg.key).has_value());
  CHECK_FALSE(registry->get(reg.key).has_value());

  registry->register_instance(reg);
  registry->withdraw_instance(reg, "probe failed");
  CHECK_FALSE(server.get2(reg.key).has_value());
  CHECK_NOTHROW(registry->withdraw_instance(reg, "probe failed"));
}

TEST_CASE("etcd2 watch with nothing to report returns an empty batch after max_wait") {
  EtcdServer server;
  auto registry = open(server.v2_url(), Options{});
  Snapshot snapshot = registry->list("/quiet");
  auto start = std::chrono::steady_clock::now();
  auto batch = registry->watch("/quiet", snapshot.index, 400ms);
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(batch.events.empty());
  CHECK_FALSE(batch.resync);
  CHECK(batch.index == snapshot.index);
  CHECK(elapsed >= 350ms);
  CHECK(elapsed < 3s);
  // The connection is still good for the next request.
  registry->put("/quiet/k", "v");
  CHECK(registry->get("/quiet/k").has_value());
}

TEST_CASE("etcd2 watch from a cleared index asks for a re-list") {
  EtcdServer server;
  auto registry = open(server.v2_url(), Options{});
  registry->put("/t/k", "old");
  Snapshot old = registry->list("/t");
  // etcd v2 keeps the last 1000 events; push the watched index out of that window.
  for (int i = 0; i < 1010; ++i) {
    registry->put("/busy/k", std::to_string(i));
  }
  auto batch = registry->watch("/t", old.index, 5000ms);
  CHECK(batch.resync);
  CHECK(batch.events.empty());

  Snapshot fresh = registry->list("/t");
  CHECK(fresh.index > old.index + 1000);
  registry->put("/t/k", "new");
  auto after = registry->watch("/t", fresh.index, 5000ms);
  CHECK_FALSE(after.resync);
  REQUIRE(after.events.size() == 1);
  CHECK(after.events[0].kv.value == "new");
}

TEST_CASE("etcd2 keys and values with reserved characters round-trip") {
  EtcdServer server;
  auto registry = open(server.v2_url(), Options{});
  const std::string key = "/enc/a b?c=d&e%f#g+h";
  const std::string value = "x=1&y=2+3 %41 {\"j\":\"\\u00e9\"}\n";
  registry->put(key, value);
  auto kv = registry->get(key);
  REQUIRE(kv);
  CHECK(kv->key == key);
  CHECK(kv->value == value);
  CHECK(server.etcdctl2({"get", key}) == value + "\n");
  Snapshot snapshot = registry->list("/enc");
  REQUIRE(snapshot.entries.size() == 1);
  CHECK(snapshot.entries[0].key == key);
  CHECK(registry->remove(key));
}

TEST_CASE("etcd2 instances reads both layouts with their TTL") {
  EtcdServer server;
  auto registry = open(server.v2_url(), Options{});
  registry->register_instance(registration("web", "10", "10.0.0.10:3000", 30s));
  registry->register_instance(registration("web", "2", "[::1]:3002", 30s));
  registry->put("/services/web/web/web@bad", "not-an-address");
  registry->put("/services/clusters/db", "10.0.0.9:5432");

  auto web = registry->instances(InstanceQuery{});
  REQUIRE(web.size() == 3);
  CHECK(web[0].instance == "2");
  REQUIRE(web[0].address);
  CHECK(web[0].address->host == "::1");
  REQUIRE(web[0].ttl_left);
  CHECK(web[0].ttl_left->count() > 25);
  CHECK(web[1].instance == "10");
  CHECK(web[2].instance == "bad");
  CHECK_FALSE(web[2].address.has_value());
  CHECK_FALSE(web[2].ttl_left.has_value());

  InstanceQuery clusters;
  clusters.prefix = "/services/clusters";
  auto db = registry->instances(clusters);
  REQUIRE(db.size() == 1);
  CHECK(db[0].app == "db");
  CHECK(db[0].instance.empty());
  CHECK(db[0].health == Instance::Health::passing);
}

TEST_CASE("etcd2 writing over a directory is a data error naming the key") {
  EtcdServer server;
  auto registry = open(server.v2_url(), Options{});
  registry->put("/dir/child", "x");
  try {
    registry->put("/dir", "y");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::data);
    std::string text = e.what();
    CHECK(text.find("/dir") != std::string::npos);
    CHECK(text.find("errorCode 102") != std::string::npos);
  }
  CHECK_FALSE(registry->get("/dir").has_value()); // a directory has no value
}

TEST_CASE("etcd2 on a stopped server fails at once with Error(unavailable)") {
  EtcdServer server;
  auto registry = open(server.v2_url(), Options{});
  registry->put("/k", "v");
  server.stop();
  auto start = std::chrono::steady_clock::now();
  try {
    registry->get("/k");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::unavailable);
    CHECK(std::string(e.what()).find(std::to_string(server.client_port())) != std::string::npos);
  }
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  server.start();
  auto back = registry->get("/k"); // the same Registry reconnects on the next call
  REQUIRE(back);
  CHECK(back->value == "v");
}

TEST_CASE("etcd2 watch ends with Error(cancelled) when a stop is requested") {
  EtcdServer server;
  StopToken stop;
  Options options;
  options.stop = &stop;
  auto registry = open(server.v2_url(), options);
  Snapshot snapshot = registry->list("/w");
  std::thread stopper([&stop] {
    std::this_thread::sleep_for(200ms);
    stop.request();
  });
  auto start = std::chrono::steady_clock::now();
  try {
    registry->watch("/w", snapshot.index, 10000ms);
    FAIL("expected Error(cancelled)");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::cancelled);
  }
  stopper.join();
  CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("etcd2 sends the user's credentials as basic auth and names a rejected login") {
  EtcdServer server;
  int port = server.client_port();
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  REQUIRE(http_request(port, "PUT", "/v2/auth/users/root", R"({"user":"root","password":"pw"})")
              .status == 201);
  REQUIRE(http_request(port, "PUT", "/v2/auth/enable").status == 200);
  // With auth on, the guest role still may do anything until its rights are revoked.
  std::string curl = find_program("curl");
  REQUIRE_MESSAGE(!curl.empty(), "curl is needed (Debian package curl)");
  auto revoke = run({curl, "-sf", "-u", "root:pw", "-X", "PUT", "-d",
                     R"({"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}})",
                     base + "/v2/auth/roles/guest"});
  REQUIRE_MESSAGE(revoke.status == 0, revoke.err);

  Options good;
  good.username = "root";
  good.password = "pw";
  auto registry = open(server.v2_url(), good);
  registry->put("/auth/k", "v");
  auto kv = registry->get("/auth/k");
  REQUIRE(kv);
  CHECK(kv->value == "v");

  Options bad = good;
  bad.password = "not-the-password";
  std::string message;
  ErrorKind kind = ErrorKind::internal;
  try {
    open(server.v2_url(), bad)->get("/auth/k");
  } catch (const Error& e) {
    message = e.what();
    kind = e.kind();
  }
  CHECK(kind == ErrorKind::config);
  CHECK(message.find("not-the-password") == std::string::npos);
  CHECK(message.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
}

TEST_SUITE_END();
