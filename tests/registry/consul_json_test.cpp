#include "herald/core/error.hpp"
#include "herald/registry/consul/consul_json.hpp"
#include "support/fixtures.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace herald;
using namespace herald::registry;
using namespace herald::registry::consul;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// A recorded response body from tests/fixtures/consul-api/.
std::string fixture(const std::string& name) {
  return herald::test::read_fixture("consul-api/" + name);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_SUITE_BEGIN("registry");

TEST_CASE("consul keys drop the leading slash and read back with it, as confd's backend does") {
  CHECK(to_consul_key("/services/web/web@1") == "services/web/web@1");
  CHECK(to_consul_key("services/web") == "services/web");
  CHECK(to_consul_key("//x") == "x");
  CHECK(to_consul_key("/") == "");
  CHECK(from_consul_key("services/web/web@1") == "/services/web/web@1");
  CHECK(from_consul_key(to_consul_key("/a/b c")) == "/a/b c");
}

TEST_CASE("consul paths escape what a URL cannot carry and keep ':' and '@' of check IDs") {
  CHECK(escape_path("service:web@1", false) == "service:web@1");
  CHECK(escape_path("a/b c?d#%", false) == "a%2Fb%20c%3Fd%23%25");
  CHECK(escape_path("services/web/web@1", true) == "services/web/web@1");
  CHECK(escape_query("health check failed: 503 & down") ==
        "health%20check%20failed%3A%20503%20%26%20down");
  CHECK(go_duration(15s) == "15s");
  CHECK(go_duration(1500ms) == "1500ms");
  CHECK(go_duration(10min) == "600s");
}

TEST_CASE("consul KV entries decode base64 values, null folder values and uint64 flags") {
  auto one = parse_kv_entries(fixture("kv-get.json"));
  REQUIRE(one.size() == 1);
  CHECK(one[0].key == "services/web/web@1");
  CHECK(one[0].value == "10.0.0.11:32768");
  CHECK(one[0].create_index == 40);
  CHECK(one[0].modify_index == 44);
  CHECK_FALSE(one[0].null_value);

  auto many = parse_kv_entries(fixture("kv-get-recurse.json"));
  REQUIRE(many.size() == 3);
  CHECK(many[0].key == "services/web/");
  CHECK(many[0].null_value);
  CHECK(many[0].value.empty());
  CHECK(many[2].value == "10.0.0.11:32769");

  auto locked = parse_kv_entries(fixture("kv-get-locked.json"));
  REQUIRE(locked.size() == 1);
  CHECK(locked[0].flags == 3304740253564472344ULL);
  CHECK(locked[0].lock_index == 1);
  CHECK(locked[0].session == "adf4238a-882b-9ddc-4a9d-5b6758e4159e");
  CHECK(locked[0].value == "node1");

  KeyValue kv = to_key_value(one[0]);
  CHECK(kv.key == "/services/web/web@1");
  CHECK(kv.value == "10.0.0.11:32768");
  CHECK(kv.modify_index == 44);
  CHECK(kv.create_index == 40);
}

TEST_CASE("consul KV keys, separator listings and write answers map as recorded") {
  CHECK(parse_kv_keys(fixture("kv-keys-separator.json")) ==
        std::vector<std::string>{"services/clusters/", "services/web/"});
  CHECK(parse_kv_keys(fixture("kv-keys-root-empty.json")).empty());
  CHECK(parse_kv_keys(fixture("kv-keys.json")).size() >= 3);
  CHECK(parse_kv_bool(fixture("kv-put.json")));
  CHECK_FALSE(parse_kv_bool(fixture("kv-put-cas-failed.json")));
  CHECK(parse_kv_bool(fixture("kv-delete.json")));
}

TEST_CASE("consul base64 with or without padding, and a bad character is a data error") {
  auto value_of = [](const std::string& base64) {
    auto entries = parse_kv_entries(R"([{"Key":"k","Value":")" + base64 + R"("}])");
    REQUIRE(entries.size() == 1);
    return entries[0].value;
  };
  CHECK(value_of("aGVyYWxk") == "herald");
  CHECK(value_of("aGk=") == "hi");
  CHECK(value_of("aGk") == "hi");
  CHECK(value_of("").empty());
  try {
    parse_kv_entries(R"([{"Key":"k","Value":"a*b"}])");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::data);
    CHECK(contains(e.what(), "the value of k"));
  }
}

TEST_CASE("a malformed consul body is a data error naming the endpoint, not a crash") {
  CHECK_THROWS_AS(parse_kv_entries("{\"Key\":1}"), Error);
  CHECK_THROWS_AS(parse_health_service("<html>"), Error);
  CHECK_THROWS_AS(parse_kv_bool("yes"), Error);
}

TEST_CASE("the consul service registration has the reference's fields and a passing TTL check") {
  ServiceDefinition def;
  def.id = "web@1";
  def.name = "web";
  def.tags = {"herald", "v1"};
  def.address = "10.0.0.11";
  def.port = 32768;
  def.meta = {{"herald_instance", "1"}};
  def.check_id = check_id_for(def.id);
  def.ttl = 15s;
  def.deregister_critical_after = 10min;
  json body = service_register_body(def);

  // Every field the recorded request has, with the same JSON type.
  json recorded = json::parse(fixture("agent-service-register.request.json"));
  for (const auto& [name, value] : recorded.items()) {
    if (name == "EnableTagOverride") {
      continue; // herald leaves Consul's default
    }
    CAPTURE(name);
    REQUIRE(body.contains(name));
    CHECK(body[name].type() == value.type());
  }
  CHECK(body["ID"] == "web@1");
  CHECK(body["Name"] == "web");
  CHECK(body["Tags"] == recorded["Tags"]);
  CHECK(body["Meta"] == recorded["Meta"]);
  CHECK(body["Port"] == 32768);
  CHECK(body["Check"]["CheckID"] == "service:web@1");
  CHECK(body["Check"]["TTL"] == "15s");
  CHECK(body["Check"]["DeregisterCriticalServiceAfter"] == "600s");
  CHECK(body["Check"]["Status"] == "passing");
  CHECK_FALSE(body["Check"].contains("Interval")); // TTL and Interval exclude each other
}

TEST_CASE("a consul service is reaped after ten TTLs but never sooner than a minute") {
  CHECK(deregister_after_for(3s) == 60s);
  CHECK(deregister_after_for(60s) == 600s);
}

TEST_CASE("consul agent services are keyed by ID and carry the name in Service") {
  auto services = parse_agent_services(fixture("agent-services.json"));
  REQUIRE(services.count("web@1") == 1);
  const auto& web = services.at("web@1");
  CHECK(web.name == "web");
  CHECK(web.tags == std::vector<std::string>{"herald", "v1"});
  CHECK(web.meta.at("herald_instance") == "1");
  CHECK(web.port == 32768);
  CHECK(web.address == "10.0.0.11");
}

TEST_CASE("consul catalog services map names to tags") {
  auto services = parse_catalog_services(fixture("catalog-services.json"));
  REQUIRE(services.size() == 2);
  CHECK(services.at("consul").empty());
  CHECK(services.at("web") == std::vector<std::string>{"herald", "v1"});
}

TEST_CASE("consul health entries become instances with health, tags, meta and node") {
  auto entries = parse_health_service(fixture("health-service-web.json"));
  REQUIRE(entries.size() == 2);
  CHECK(aggregate_status(entries[0]) == CheckStatus::passing);
  CHECK(aggregate_status(entries[1]) == CheckStatus::critical);
  REQUIRE(entries[1].checks.size() == 2);
  CHECK(entries[1].checks[0].id == "serfHealth");
  CHECK(entries[1].checks[1].id == "service:web@2");
  CHECK(contains(entries[1].checks[1].output, "TTL expired"));

  Instance first = to_instance(entries[0]);
  CHECK(first.app == "web");
  CHECK(first.instance == "1");
  CHECK(first.key == "web@1");
  CHECK(first.value == "10.0.0.11:32768");
  REQUIRE(first.address.has_value());
  CHECK(*first.address == HostPort{"10.0.0.11", 32768});
  CHECK(first.health == Instance::Health::passing);
  CHECK(first.tags == std::vector<std::string>{"herald", "v1"});
  CHECK(first.meta.at("herald_instance") == "1");
  CHECK(first.node == "node1");
  CHECK_FALSE(first.ttl_left.has_value());
  CHECK(to_instance(entries[1]).health == Instance::Health::critical);

  CHECK(parse_health_service(fixture("health-service-web-passing.json")).size() == 1);
  CHECK(parse_health_service(fixture("health-service-unknown.json")).empty());
}

TEST_CASE("a consul instance without its own address uses the node's, and a foreign ID is kept") {
  HealthEntry entry;
  entry.node = "node1";
  entry.node_address = "10.0.0.11";
  entry.id = "node1:redis:6379"; // registrator-style ID
  entry.name = "redis";
  entry.port = 6379;
  entry.checks.push_back(HealthCheck{"service:x", "", CheckStatus::warning, "slow", "x"});
  Instance instance = to_instance(entry);
  CHECK(instance.instance == "node1:redis:6379");
  CHECK(instance.value == "10.0.0.11:6379");
  CHECK(instance.health == Instance::Health::warning);

  entry.port = 0; // Port is omitted when 0: flagged, not routable
  CHECK_FALSE(to_instance(entry).address.has_value());
}

TEST_CASE("consul blocking indexes: same is no change, backwards or zero resets, never 0 again") {
  CHECK(parse_index(std::string("42")) == 42);
  CHECK(parse_index(std::nullopt) == 0);
  CHECK(parse_index(std::string("x1")) == 0);

  auto same = next_index(42, 42);
  CHECK_FALSE(same.changed);
  CHECK_FALSE(same.reset);
  CHECK(same.next == 42);

  auto forward = next_index(42, 50);
  CHECK(forward.changed);
  CHECK_FALSE(forward.reset);
  CHECK(forward.next == 50);

  auto back = next_index(42, 12);
  CHECK(back.changed);
  CHECK(back.reset);
  CHECK(back.next == 12);

  auto zero = next_index(42, 0);
  CHECK(zero.reset);
  CHECK(zero.next == 1); // a 0 would make the next query return at once, forever

  auto first = next_index(0, 7);
  CHECK(first.changed);
  CHECK_FALSE(first.reset);
}

TEST_CASE("consul unknown-check answers of recent and old agents both mean re-register") {
  CHECK(is_unknown_check(404, "Unknown check ID \"service:web@1\". Ensure that the check ID is "
                              "passed, not the check name."));
  CHECK(is_unknown_check(500, "CheckID \"service:web@1\" does not have associated TTL"));
  CHECK_FALSE(is_unknown_check(500, "No cluster leader"));
  CHECK_FALSE(is_unknown_check(403, "Permission denied"));
}

TEST_CASE("a consul 403 is one line that says what to do and never holds the token") {
  const std::string token = "9f0c2b7e-secret-token";
  std::string unknown =
      explain_forbidden("127.0.0.1:8500", "PUT /v1/kv/x", "ACL not found", true, token);
  CHECK(contains(unknown, "does not know the ACL token"));
  CHECK(contains(unknown, "--token-file"));

  std::string anonymous = explain_forbidden(
      "127.0.0.1:8500", "GET /v1/kv/x",
      "Permission denied: anonymous token lacks permission 'key:read' on \"x\".", false, "");
  CHECK(contains(anonymous, "without an ACL token"));
  CHECK(contains(anonymous, "CONSUL_HTTP_TOKEN"));

  std::string echoed =
      explain_forbidden("127.0.0.1:8500", "PUT /v1/agent/service/register",
                        "Permission denied: token " + token + " lacks\nwrite", true, token);
  CHECK(contains(echoed, "lacks the permission"));
  CHECK_FALSE(contains(echoed, token));
  CHECK(echoed.find('\n') == std::string::npos);
}
