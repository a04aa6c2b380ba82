#include "herald/core/error.hpp"
#include "herald/registry/registry.hpp"
#include "support/consul_double.hpp"
#include "support/process.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

using namespace herald;
using namespace herald::registry;
using namespace herald::test;
using namespace std::chrono_literals;
using nlohmann::json;

// herald's Consul backend against the Consul test double (tests/doubles/consul_double.py): what
// lands in Consul is checked with plain HTTP requests, not through herald's own client.

namespace {

std::unique_ptr<Registry> open_consul(const ConsulDouble& consul, const std::string& token = {}) {
  Options options;
  options.token = token;
  return open(consul.url(), options);
}

/// GET `path` from the double; the body parsed as JSON (null for an empty body).
json get_json(const ConsulDouble& consul, const std::string& path, int* status = nullptr) {
  auto reply = http_request(consul.port(), "GET", path);
  if (status != nullptr) {
    *status = reply.status;
  }
  if (reply.body.empty()) {
    return nullptr;
  }
  return json::parse(reply.body, nullptr, false);
}

Registration registration(const std::string& app, const std::string& instance,
                          const std::string& address, std::chrono::seconds ttl) {
  Registration reg;
  reg.name = InstanceName{app, instance};
  reg.key = "/services/web/" + app + "/" + reg.name.str();
  reg.address = parse_host_port(address, "test");
  reg.value = address;
  reg.ttl = ttl;
  return reg;
}

/// The status of the TTL check of service `id` as the health view shows it ("" when absent).
std::string check_status(const ConsulDouble& consul, const std::string& app,
                         const std::string& id) {
  json entries = get_json(consul, "/v1/health/service/" + app);
  if (!entries.is_array()) {
    return {};
  }
  for (const auto& entry : entries) {
    for (const auto& check : entry["Checks"]) {
      if (check["CheckID"] == "service:" + id) {
        return check["Status"].get<std::string>();
      }
    }
  }
  return {};
}

std::string check_output(const ConsulDouble& consul, const std::string& id) {
  json checks = get_json(consul, "/v1/agent/checks");
  if (!checks.is_object() || !checks.contains("service:" + id)) {
    return {};
  }
  return checks["service:" + id]["Output"].get<std::string>();
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

TEST_SUITE_BEGIN("integration");

TEST_CASE("consul keys live in KV without the leading slash and read back with it") {
  ConsulDouble consul;
  auto r = open_consul(consul);
  r->put("/services/web/web@1", "10.0.0.5:3000");
  auto raw = http_request(consul.port(), "GET", "/v1/kv/services/web/web@1?raw");
  CHECK(raw.status == 200);
  CHECK(raw.body == "10.0.0.5:3000");

  // A key someone wrote the Consul way is seen the etcd way.
  REQUIRE(http_request(consul.port(), "PUT", "/v1/kv/services/web/web@2", "10.0.0.6:3000").status ==
          200);
  auto snapshot = r->list("/services/web");
  REQUIRE(snapshot.entries.size() == 2);
  CHECK(snapshot.entries[0].key == "/services/web/web@1");
  CHECK(snapshot.entries[1].key == "/services/web/web@2");
  CHECK(snapshot.entries[1].value == "10.0.0.6:3000");
  CHECK(r->remove("/services/web/web@2"));
  CHECK(http_request(consul.port(), "GET", "/v1/kv/services/web/web@2").status == 404);
  CHECK_FALSE(r->remove("/services/web/web@2"));
}

TEST_CASE("consul register_instance makes a service with tags, meta and a passing TTL check") {
  ConsulDouble consul;
  auto r = open_consul(consul);
  auto reg = registration("web", "1", "127.0.0.1:3000", 30s);
  reg.tags = {"a", "b"};
  reg.meta = {{"k", "v"}};
  r->register_instance(reg);

  json entries = get_json(consul, "/v1/health/service/web?passing");
  REQUIRE(entries.is_array());
  REQUIRE(entries.size() == 1);
  const json& service = entries[0]["Service"];
  CHECK(service["ID"] == "web@1");
  CHECK(service["Service"] == "web");
  CHECK(service["Address"] == "127.0.0.1");
  CHECK(service["Port"] == 3000);
  CHECK(service["Tags"] == json::array({"a", "b"}));
  CHECK(service["Meta"] == json{{"k", "v"}});
  CHECK(check_status(consul, "web", "web@1") == "passing");
  json checks = get_json(consul, "/v1/agent/checks");
  CHECK(checks["service:web@1"]["Type"] == "ttl");
}

TEST_CASE("consul refresh keeps the TTL check passing past its TTL") {
  ConsulDouble consul;
  auto r = open_consul(consul);
  auto reg = registration("web", "1", "127.0.0.1:3000", 1s);
  r->register_instance(reg);
  for (int i = 0; i < 8; ++i) { // 2.4 s: well past the 1 s TTL
    std::this_thread::sleep_for(300ms);
    CHECK(r->refresh_instance(reg) == KeepAlive::alive);
  }
  CHECK(check_status(consul, "web", "web@1") == "passing");
  // Without refreshes the check lapses to critical but the service stays.
  CHECK(eventually([&] { return check_status(consul, "web", "web@1") == "critical"; }, 5s));
  CHECK(contains(check_output(consul, "web@1"), "TTL expired"));
}

TEST_CASE("consul refresh reports lost once a restarted agent forgot the service") {
  ConsulDouble consul;
  auto r = open_consul(consul);
  auto reg = registration("web", "1", "127.0.0.1:3000", 30s);
  r->register_instance(reg);
  consul.restart();
  CHECK(check_status(consul, "web", "web@1").empty());
  CHECK(r->refresh_instance(reg) == KeepAlive::lost);
  r->register_instance(reg);
  CHECK(check_status(consul, "web", "web@1") == "passing");
  CHECK(r->refresh_instance(reg) == KeepAlive::alive);
}

TEST_CASE("consul refresh reports lost on an old agent's 500 for an unknown check") {
  ConsulDoubleOptions options;
  options.legacy_agent = true;
  ConsulDouble consul(options);
  auto r = open_consul(consul);
  auto reg = registration("web", "1", "127.0.0.1:3000", 30s);
  CHECK(r->refresh_instance(reg) == KeepAlive::lost);
  r->register_instance(reg);
  CHECK(r->refresh_instance(reg) == KeepAlive::alive);
}

TEST_CASE("consul withdraw turns the check critical with the reason and keeps the service") {
  ConsulDouble consul;
  auto r = open_consul(consul);
  auto reg = registration("web", "1", "127.0.0.1:3000", 30s);
  r->register_instance(reg);
  r->withdraw_instance(reg, "health check failed: connection refused");
  CHECK(check_status(consul, "web", "web@1") == "critical");
  CHECK(check_output(consul, "web@1") == "health check failed: connection refused");
  json passing = get_json(consul, "/v1/health/service/web?passing");
  CHECK(passing.is_array());
  CHECK(passing.empty());

  r->register_instance(reg); // re-registering keeps a critical check critical: the pass restores it
  CHECK(check_status(consul, "web", "web@1") == "passing");
}

TEST_CASE("consul deregister removes the service and answers false the second time") {
  ConsulDouble consul;
  auto r = open_consul(consul);
  auto reg = registration("web", "1", "127.0.0.1:3000", 30s);
  r->register_instance(reg);
  CHECK(r->deregister_instance(reg));
  json services = get_json(consul, "/v1/agent/services");
  CHECK_FALSE(services.contains("web@1"));
  CHECK_FALSE(r->deregister_instance(reg));
}

TEST_CASE("consul instances shows passing instances, and every one with include_unhealthy") {
  ConsulDouble consul;
  auto r = open_consul(consul);
  auto web1 = registration("web", "1", "127.0.0.1:3001", 30s);
  auto web2 = registration("web", "2", "127.0.0.1:3002", 30s);
  auto api = registration("api", "1", "127.0.0.1:4000", 30s);
  web2.tags = {"v2"};
  r->register_instance(web2);
  r->register_instance(web1);
  r->register_instance(api);
  r->withdraw_instance(web2, "down");

  InstanceQuery query;
  auto routable = r->instances(query);
  REQUIRE(routable.size() == 2);
  CHECK(routable[0].app == "api");
  CHECK(routable[1].app == "web");
  CHECK(routable[1].instance == "1");
  CHECK(routable[1].key == "web@1");
  CHECK(routable[1].health == Instance::Health::passing);
  CHECK(routable[1].node == "node1");
  REQUIRE(routable[1].address.has_value());
  CHECK(*routable[1].address == HostPort{"127.0.0.1", 3001});

  query.include_unhealthy = true;
  query.apps = {"web"};
  auto all = r->instances(query);
  REQUIRE(all.size() == 2);
  CHECK(all[1].instance == "2");
  CHECK(all[1].health == Instance::Health::critical);
  CHECK(all[1].tags == std::vector<std::string>{"v2"});
}

TEST_CASE("consul wait_instances wakes for a health change and not for a heartbeat") {
  ConsulDouble consul;
  auto r = open_consul(consul);
  auto reg = registration("web", "1", "127.0.0.1:3000", 30s);
  r->register_instance(reg);
  for (InstanceQuery query : {InstanceQuery{}, InstanceQuery{"", {"web"}, true, false}}) {
    CAPTURE(query.apps.size());
    auto index = r->wait_instances(query, 0, 1s);
    REQUIRE(index > 0);

    // A pass that changes nothing is no change: the wait runs out with the same index.
    r->refresh_instance(reg);
    auto started = std::chrono::steady_clock::now();
    CHECK(r->wait_instances(query, index, 600ms) == index);
    CHECK(std::chrono::steady_clock::now() - started >= 550ms);

    std::thread withdraw([&] {
      std::this_thread::sleep_for(300ms);
      auto other = open_consul(consul);
      other->withdraw_instance(reg, "down");
    });
    started = std::chrono::steady_clock::now();
    auto next = r->wait_instances(query, index, 5s);
    auto waited = std::chrono::steady_clock::now() - started;
    withdraw.join();
    CHECK(next > index);
    CHECK(waited >= 250ms);
    CHECK(waited < 3s);
    r->register_instance(reg);
  }
}

TEST_CASE("consul watch survives a double restart: the index goes back and the caller resyncs") {
  ConsulDouble consul;
  auto r = open_consul(consul);
  for (int i = 0; i < 20; ++i) { // push the index well above where a fresh double starts
    r->put("/restart/k", std::to_string(i));
  }
  auto before = r->list("/restart");
  REQUIRE(before.entries.size() == 1);
  consul.restart();

  // The double blocks while its (lower) index is not above ours, then answers with it.
  auto batch = r->watch("/restart", before.index, 800ms);
  CHECK(batch.resync);
  CHECK(batch.events.empty());
  CHECK(batch.index < before.index);

  auto after = r->list("/restart");
  CHECK(after.entries.empty());
  std::thread writer([&] {
    std::this_thread::sleep_for(300ms);
    http_request(consul.port(), "PUT", "/v1/kv/restart/k", "again");
  });
  std::vector<Event> events;
  auto index = after.index;
  for (int i = 0; i < 5 && events.empty(); ++i) {
    auto next = r->watch("/restart", index, 2s);
    REQUIRE_FALSE(next.resync);
    events = next.events;
    index = next.index;
  }
  writer.join();
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == Event::Type::put);
  CHECK(events[0].kv.key == "/restart/k");
  CHECK(events[0].kv.value == "again");
}

TEST_CASE(
    "consul watch reports a put and a delete made while it waits, and an idle wait is empty") {
  ConsulDouble consul;
  auto r = open_consul(consul);
  r->put("/w/old", "1");
  auto index = r->list("/w").index;
  auto idle = r->watch("/w", index, 500ms);
  CHECK(idle.events.empty());
  CHECK_FALSE(idle.resync);
  CHECK(idle.index == index);

  std::thread writer([&] {
    std::this_thread::sleep_for(200ms);
    http_request(consul.port(), "DELETE", "/v1/kv/w/old");
  });
  auto batch = r->watch("/w", index, 5s);
  writer.join();
  REQUIRE(batch.events.size() == 1);
  CHECK(batch.events[0].type == Event::Type::remove);
  CHECK(batch.events[0].kv.key == "/w/old");
  CHECK(batch.index > index);
}

TEST_CASE("consul unreachable is unavailable, and the registry works again once it is back") {
  ConsulDouble consul;
  auto r = open_consul(consul);
  r->put("/down/k", "1");
  consul.stop();
  Error e = catch_error([&] { r->get("/down/k"); });
  CHECK(e.kind() == ErrorKind::unavailable);
  CHECK(contains(e.what(), "127.0.0.1:" + std::to_string(consul.port())));
  consul.start();
  CHECK_FALSE(r->get("/down/k").has_value()); // a dev agent forgets everything
  r->put("/down/k", "2");
  CHECK(r->get("/down/k")->value == "2");
}

TEST_CASE("consul without a leader is a temporary error that says so") {
  ConsulDouble consul;
  auto r = open_consul(consul);
  consul.set_leader(false);
  Error e = catch_error([&] { r->list("/x"); });
  CHECK(e.kind() == ErrorKind::temporary);
  CHECK(contains(e.what(), "no cluster leader"));
  consul.set_leader(true);
  CHECK(r->list("/x").entries.empty());
}

TEST_CASE("consul ACL denial is one clear line that never shows the token") {
  const std::string token = "4f1d9c7a-herald-test-secret";
  const std::string read_token = "77aa01be-herald-read-only";
  ConsulDoubleOptions options;
  options.acl_token = token;
  options.acl_read_token = read_token;
  ConsulDouble consul(options);

  Error anonymous = catch_error([&] { open_consul(consul)->put("/acl/k", "1"); });
  CHECK(anonymous.kind() == ErrorKind::config);
  CHECK(contains(anonymous.what(), "without an ACL token"));
  CHECK(contains(anonymous.what(), "--token-file"));

  const std::string wrong = "0000-not-the-token";
  Error unknown = catch_error([&] { open_consul(consul, wrong)->get("/acl/k"); });
  CHECK(unknown.kind() == ErrorKind::config);
  CHECK(contains(unknown.what(), "does not know the ACL token"));
  CHECK_FALSE(contains(unknown.what(), wrong));

  auto reader = open_consul(consul, read_token);
  CHECK_FALSE(reader->get("/acl/k").has_value());
  Error denied =
      catch_error([&] { reader->register_instance(registration("web", "1", "127.0.0.1:1", 30s)); });
  CHECK(denied.kind() == ErrorKind::config);
  CHECK(contains(denied.what(), "lacks the permission"));
  CHECK(contains(denied.what(), "service:write"));
  CHECK_FALSE(contains(denied.what(), read_token));
  CHECK(std::string(denied.what()).find('\n') == std::string::npos);

  auto writer = open_consul(consul, token);
  writer->register_instance(registration("web", "1", "127.0.0.1:3000", 30s));
  writer->put("/acl/k", "1");
  CHECK(writer->get("/acl/k")->value == "1");
  CHECK(writer->instances(InstanceQuery{}).size() == 1);
}
