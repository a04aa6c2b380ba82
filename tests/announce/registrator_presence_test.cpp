#include "announce/doubles.hpp"
#include "herald/announce/registrator_presence.hpp"
#include "herald/core/error.hpp"
#include "herald/registry/layout.hpp"
#include "herald/registry/memory/memory_registry.hpp"
#include "support/error_kind.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace herald;
using namespace herald::announce;
using herald::announce::test::LogCapture;
using herald::announce::test::SwitchableRegistry;
using herald::registry::memory::MemoryRegistry;
using herald::test::kind_of;
using namespace std::chrono_literals;

namespace {

const std::string k_engine = "5D3Y:JQ2V:OZ5C:SBDO:3RVL:QX7K:AJ6T:D4NS:VKDI:7DXK:XOGB:H4W3";

RegistratorPresence node_1() {
  RegistratorPresence presence;
  presence.engine_id = k_engine;
  presence.engine_name = "docker-1";
  presence.node = "node-1";
  presence.prefix = "/services/web";
  presence.version = "0.9.0";
  presence.pid = 4242;
  return presence;
}

std::string key_of(const RegistratorPresence& presence) {
  return "/herald/registrators" + presence.prefix + "/" + presence.engine_id + "/" + presence.node;
}

} // namespace

TEST_SUITE_BEGIN("announce");

TEST_CASE("a presence is one JSON object in the documented order, and reads back as it was") {
  RegistratorPresence presence = node_1();
  std::string value = encode_presence(presence);
  CHECK(value == R"({"engine_id":")" + k_engine +
                     R"(","engine_name":"docker-1","node":"node-1","prefix":"/services/web",)"
                     R"("version":"0.9.0","pid":4242})");
  DecodedPresence decoded = decode_presence(value);
  REQUIRE(decoded.presence.has_value());
  CHECK(*decoded.presence == presence);
  CHECK(decoded.problem.empty());
  CHECK(presence_key(presence) == key_of(presence));
  // A newer herald may say more: what this one does not know is left alone.
  decoded = decode_presence(R"({"future":[1,{"x":2}],)" + value.substr(1));
  REQUIRE(decoded.presence.has_value());
  CHECK(*decoded.presence == presence);
}

TEST_CASE("a presence value that is garbage is refused with why, never thrown") {
  std::string good = encode_presence(node_1());
  auto with = [&](const std::string& field, const std::string& json) {
    nlohmann::json doc = nlohmann::json::parse(good);
    doc[field] = nlohmann::json::parse(json);
    return doc.dump();
  };
  struct Case {
    std::string value;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {"", "no JSON object"},
      {"10.0.0.5:3000", "no JSON object"},
      {"[1,2]", "no JSON object"},
      {"{\"engine_id\":", "no JSON object"},
      {std::string(5000, ' '), "at most 4096"},
      {std::string(2000, '[') + std::string(2000, ']'), "nested too deeply"},
      {"{}", "no string \"engine_id\""},
      {with("engine_id", "42"), "no string \"engine_id\""},
      {with("engine_name", "null"), "no string \"engine_name\""},
      {with("pid", "\"4242\""), "no \"pid\" number"},
      {with("pid", "4.5"), "no \"pid\" number"},
      {with("pid", "9223372036854775807"), "no \"pid\" number"},
      {with("pid", "0"), "pid is not a positive number"},
      {with("pid", "-3"), "pid is not a positive number"},
      {with("engine_id", "\"\""), "engine ID is empty"},
      {with("engine_id", "\"..\""), "engine ID must start with a letter or a digit"},
      {with("engine_id", "\"a/b\""), "engine ID may only use"},
      {with("node", "\"node:1\""), "node holds ':'"},
      {with("node", "\"node 1\""), "node may only use"},
      {with("engine_name", "\"evil\\u001b[2Jhost\""), "engine name"},
      {with("engine_name", "\"a;b\""), "engine name"},
      {with("version", "\"1\\n2\""), "version"},
      {with("prefix", "\"services/web\""), "prefix does not start with '/'"},
      {with("prefix", "\"/services/web/\""), "ends with '/'"},
      {with("prefix", "\"/services/\\u0007web\""), "prefix"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.value.substr(0, 120));
    DecodedPresence decoded;
    CHECK_NOTHROW(decoded = decode_presence(c.value));
    CHECK_FALSE(decoded.presence.has_value());
    CHECK_MESSAGE(decoded.problem.find(c.problem) != std::string::npos, decoded.problem);
  }
}

TEST_CASE("live registrators are the valid presences with a TTL, and each other key is one "
          "escaped warning") {
  MemoryRegistry registry;
  PresenceKey kept(60s);
  kept.set(node_1());
  kept.keep(registry, false);

  RegistratorPresence other = node_1();
  other.engine_id = "0f6cc1e6-8c3a-4e0b-9a57-1c2d3e4f5a6b"; // a newer engine's UUID
  other.node = "node-2";
  PresenceKey second(60s);
  second.set(other);
  second.keep(registry, false);

  RegistratorPresence copied = node_1();
  copied.node = "node-3";
  registry.put(key_of(copied), encode_presence(copied)); // no TTL: nothing keeps it alive
  registry.put("/herald/registrators/services/web/x/evil\x1b[2J", "garbage\n\x1b[31m");
  registry.put("/herald/registrators/services/web/x/moved", encode_presence(node_1()));
  // Not below the root: not looked at.
  registry.put("/herald/other", "whatever");

  LogCapture log(spdlog::level::warn);
  std::vector<RegistratorPresence> live = live_registrators(registry);
  REQUIRE(live.size() == 2);
  CHECK(live[0] == other); // sorted by key: "0f6..." before "5D3..."
  CHECK(live[1] == node_1());
  auto lines = log.lines();
  CHECK(lines.size() == 3);
  CHECK(log.count("ignoring the registrator presence") == 3);
  CHECK(log.count("it has no TTL, so no registrator keeps it") == 1);
  CHECK(log.count("its value is no JSON object") == 1);
  CHECK(log.count("its value names another key") == 1);
  for (const auto& line : lines) {
    CHECK(line.find('\x1b') == std::string::npos);
    CHECK(line.find('\n') == std::string::npos);
  }
}

TEST_CASE("the presence key is written once with the TTL, and refreshed without a rewrite") {
  MemoryRegistry registry;
  SwitchableRegistry counted(registry);
  PresenceKey presence(30s);
  presence.keep(counted, true); // before set(): nothing to write
  CHECK(counted.registers == 0);
  presence.set(node_1());
  CHECK(presence.key() == key_of(node_1()));
  LogCapture log;
  presence.keep(counted, false);
  presence.keep(counted, false);
  CHECK(counted.registers == 1);
  auto kv = registry.get(key_of(node_1()));
  REQUIRE(kv.has_value());
  CHECK(kv->value == encode_presence(node_1()));
  CHECK(kv->lease != 0);
  std::int64_t revision = registry.revision();
  presence.keep(counted, true);
  CHECK(counted.refreshes == 1);
  CHECK(registry.revision() == revision); // a heartbeat is no change a watcher sees
  CHECK(log.count("announced this registrator at " + key_of(node_1())) == 1);
  CHECK(log.lines().size() == 1);
  CHECK(presence.remove(counted));
  CHECK_FALSE(registry.get(key_of(node_1())).has_value());
}

TEST_CASE("a presence key lost behind its back is written again at the next refresh") {
  MemoryRegistry registry;
  PresenceKey presence(30s);
  presence.set(node_1());
  presence.keep(registry, false);
  // Someone ends it for good, lease and all (as an expiry during an outage does).
  registry::Registration as_stored;
  as_stored.key = key_of(node_1());
  registry.deregister_instance(as_stored);
  REQUIRE_FALSE(registry.get(key_of(node_1())).has_value());
  LogCapture log;
  presence.keep(registry, false); // not due: nothing is looked at
  CHECK_FALSE(registry.get(key_of(node_1())).has_value());
  presence.keep(registry, true);
  CHECK(registry.get(key_of(node_1())).has_value());
  CHECK(log.count("was gone from the registry (expired or deleted); written again") == 1);
}

TEST_CASE("a presence whose write failed in an outage is written by the next keep") {
  MemoryRegistry registry;
  SwitchableRegistry flaky(registry);
  PresenceKey presence(30s);
  presence.set(node_1());
  flaky.down = true;
  CHECK(kind_of([&] { presence.keep(flaky, false); }) == ErrorKind::unavailable);
  flaky.down = false;
  presence.keep(flaky, false);
  CHECK(registry.get(key_of(node_1())).has_value());
}

TEST_CASE("a replaced Docker engine moves the presence key: the old one goes at the next keep") {
  MemoryRegistry registry;
  PresenceKey presence(30s);
  presence.set(node_1());
  presence.keep(registry, false);
  RegistratorPresence replaced = node_1();
  replaced.engine_id = "NEWE:NGIN:E000";
  LogCapture log;
  presence.set(replaced);
  presence.keep(registry, false);
  CHECK_FALSE(registry.get(key_of(node_1())).has_value());
  CHECK(registry.get(key_of(replaced)).has_value());
  CHECK(log.count("presence moves from " + key_of(node_1()) + " to " + key_of(replaced)) == 1);
  // The same presence again changes nothing.
  std::int64_t revision = registry.revision();
  presence.set(replaced);
  presence.keep(registry, false);
  CHECK(registry.revision() == revision);
}

TEST_SUITE_END();
