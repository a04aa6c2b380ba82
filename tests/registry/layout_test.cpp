#include "herald/core/error.hpp"
#include "herald/registry/layout.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace herald;
using namespace herald::registry;
using namespace std::chrono_literals;

namespace {

KeyValue kv(std::string key, std::string value, std::optional<std::chrono::seconds> ttl = {}) {
  KeyValue out;
  out.key = std::move(key);
  out.value = std::move(value);
  out.ttl = ttl;
  return out;
}

Snapshot snapshot_of(std::vector<KeyValue> entries) {
  Snapshot s;
  s.entries = std::move(entries);
  std::sort(s.entries.begin(), s.entries.end(),
            [](const KeyValue& a, const KeyValue& b) { return a.key < b.key; });
  s.index = 42;
  return s;
}

InstanceQuery query_for(std::string prefix, std::vector<std::string> apps = {}) {
  InstanceQuery q;
  q.prefix = std::move(prefix);
  q.apps = std::move(apps);
  return q;
}

std::vector<std::string> names_of(const std::vector<Instance>& instances) {
  std::vector<std::string> out;
  for (const auto& inst : instances) {
    out.push_back(inst.app + "@" + inst.instance);
  }
  return out;
}

} // namespace

TEST_SUITE_BEGIN("registry");

TEST_CASE("key_in_dir reads a prefix as a directory, as every backend and render do") {
  struct Case {
    const char* key;
    const char* dir;
    bool inside;
  };
  // etcd keys start with '/', Consul's do not: the rule is the same.
  const Case cases[] = {
      {"/services/web/web/web@1", "/services/web", true},
      {"/services/web", "/services/web", true},
      {"/services/web/x", "/services/web/", true},
      {"/services/web2/x", "/services/web", false},
      {"/services/webx", "/services/web", false},
      {"/anything", "", true},
      {"/anything", "/", true},
      {"services/web/x", "services/web", true},
      {"services/web", "services/web", true},
      {"services/web/x", "services/web/", true},
      {"services/web2/x", "services/web", false},
      {"anything", "", true},
  };
  for (const auto& c : cases) {
    CAPTURE(c.key);
    CAPTURE(c.dir);
    CHECK(key_in_dir(c.key, c.dir) == c.inside);
  }
}

TEST_CASE("instance_key builds PREFIX/APP/APP@INSTANCE and ignores a trailing slash") {
  InstanceName name{"web", "1"};
  CHECK(instance_key("/services/web", name) == "/services/web/web/web@1");
  CHECK(instance_key("/services/web/", name) == "/services/web/web/web@1");
  CHECK(instance_key(k_default_prefix, InstanceName{"api", "10.0.0.5:3000"}) ==
        "/services/web/api/api@10.0.0.5:3000");
}

TEST_CASE("a registrator's presence key lies under herald's own root, outside the prefix") {
  CHECK(registrator_key("/services/web", "5D3Y:JQ2V", "node-1") ==
        "/herald/registrators/services/web/5D3Y:JQ2V/node-1");
  CHECK(registrator_key("/services/web/", "5D3Y:JQ2V", "node-1") ==
        "/herald/registrators/services/web/5D3Y:JQ2V/node-1");
  CHECK_FALSE(key_in_dir(registrator_key("/services/web", "E", "n"), "/services/web"));
  CHECK(key_in_dir(registrator_key("/services/web", "E", "n"), k_registrators_root));
}

TEST_CASE("no route listing takes a registrator's presence key for an instance") {
  const std::string presence = registrator_key("/services/web", "5D3Y:JQ2V", "node-1");
  KeyValue value = kv(presence, R"({"engine_id":"5D3Y:JQ2V","node":"node-1"})", 60s);
  // Whatever a listing starts from, short of the directory of one engine's registrators.
  for (const char* root : {"/", "/herald", "/herald/registrators", "/herald/registrators/services",
                           "/services", "/services/web"}) {
    CAPTURE(root);
    CHECK_FALSE(instance_at(root, value).has_value());
  }
  Snapshot everything = snapshot_of({value, kv("/services/web/web/web@1", "10.0.0.5:3000"),
                                     kv("/services/web/api/api@1", "10.0.0.6:3000")});
  CHECK(names_of(instances_from_snapshot(everything, query_for("/services/web"))) ==
        std::vector<std::string>{"api@1", "web@1"});
  CHECK(instances_from_snapshot(everything, query_for("/")).empty());
}

TEST_CASE("an instance prefix may not hold or lie in the registrators' root") {
  for (const char* prefix :
       {"/", "/herald", "/herald/", "/herald/registrators", "/herald/registrators/services/web"}) {
    CAPTURE(prefix);
    CHECK(mixes_with_registrators(prefix));
  }
  for (const char* prefix : {"/services/web", "/heraldry", "/herald2/x", "/services/herald"}) {
    CAPTURE(prefix);
    CHECK_FALSE(mixes_with_registrators(prefix));
  }
}

TEST_CASE("expand_key_template replaces app, instance and name") {
  InstanceName name{"web", "3"};
  CHECK(expand_key_template("/services/clusters/{app}", name) == "/services/clusters/web");
  CHECK(expand_key_template("/x/{app}/{instance}", name) == "/x/web/3");
  CHECK(expand_key_template("/x/{name}", name) == "/x/web@3");
  CHECK(expand_key_template("/plain", name) == "/plain");
}

TEST_CASE("expand_key_template rejects unknown placeholders and relative keys") {
  InstanceName name{"web", "3"};
  for (const char* bad : {"/x/{host}", "/x/{app", "services/{app}", "{app}/x", ""}) {
    CAPTURE(bad);
    try {
      expand_key_template(bad, name);
      FAIL("expected a usage error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      CHECK(std::string(e.what()).find("--key") != std::string::npos);
    }
  }
}

TEST_CASE("parse_value_format accepts hostport and json only") {
  CHECK(parse_value_format("hostport") == ValueFormat::hostport);
  CHECK(parse_value_format("json") == ValueFormat::json);
  try {
    parse_value_format("yaml");
    FAIL("expected a usage error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    CHECK(std::string(e.what()).find("'yaml'") != std::string::npos);
  }
}

TEST_CASE("encode_value writes host:port with IPv6 in brackets") {
  CHECK(encode_value(ValueFormat::hostport, HostPort{"10.0.0.5", 3000}) == "10.0.0.5:3000");
  CHECK(encode_value(ValueFormat::hostport, HostPort{"::1", 8080}) == "[::1]:8080");
}

TEST_CASE("encode_value json holds host, port, tags and meta in that order") {
  std::string text = encode_value(ValueFormat::json, HostPort{"10.0.0.5", 3000}, {"a", "b"},
                                  {{"zone", "eu"}, {"ver", "2"}});
  CHECK(text == R"({"host":"10.0.0.5","port":3000,"tags":["a","b"],)"
                R"("meta":{"ver":"2","zone":"eu"}})");
  CHECK(encode_value(ValueFormat::json, HostPort{"h", 1}) ==
        R"({"host":"h","port":1,"tags":[],"meta":{}})");
}

TEST_CASE("decode_value reads both forms and round-trips encode_value") {
  auto plain = decode_value("10.0.0.5:3000");
  REQUIRE(plain.address);
  CHECK(*plain.address == HostPort{"10.0.0.5", 3000});
  CHECK(plain.tags.empty());

  HostPort v6{"fe80::1", 443};
  auto v6_plain = decode_value(encode_value(ValueFormat::hostport, v6));
  REQUIRE(v6_plain.address);
  CHECK(*v6_plain.address == v6);

  auto json = decode_value(encode_value(ValueFormat::json, v6, {"tls"}, {{"zone", "eu"}}));
  REQUIRE(json.address);
  CHECK(*json.address == v6);
  CHECK(json.tags == std::vector<std::string>{"tls"});
  CHECK(json.meta == std::map<std::string, std::string>{{"zone", "eu"}});
}

TEST_CASE("decode_value tolerates surrounding whitespace, bracketed JSON hosts and quoted ports") {
  auto spaced = decode_value("  10.0.0.5:3000\n");
  REQUIRE(spaced.address);
  CHECK(spaced.address->port == 3000);

  auto bracketed = decode_value(R"({"host":"[::1]","port":"8080"})");
  REQUIRE(bracketed.address);
  CHECK(*bracketed.address == HostPort{"::1", 8080});
}

TEST_CASE("decode_value flags malformed values with no address instead of throwing") {
  for (const char* bad :
       {"", "garbage", "10.0.0.5", "10.0.0.5:0", "10.0.0.5:70000", "::1:80", "{not json",
        R"({"host":"h"})", R"({"port":80})", R"({"host":"","port":80})", R"({"host":"h","port":0})",
        R"({"host":"h","port":true})", R"(["h",80])"}) {
    CAPTURE(bad);
    DecodedValue d;
    CHECK_NOTHROW(d = decode_value(bad));
    CHECK_FALSE(d.address.has_value());
  }
  // Tags and meta survive even when the address part is unusable.
  auto partial = decode_value(R"({"host":"h","port":-1,"tags":["x"],"meta":{"n":1}})");
  CHECK_FALSE(partial.address.has_value());
  CHECK(partial.tags == std::vector<std::string>{"x"});
  CHECK(partial.meta.at("n") == "1");
}

TEST_CASE("instances_from_snapshot reads the PREFIX/APP/APP@INSTANCE layout") {
  auto snap = snapshot_of({kv("/services/web/web/web@1", "10.0.0.1:3000", std::chrono::seconds(42)),
                           kv("/services/web/api/api@a", "10.0.0.2:4000")});
  auto got = instances_from_snapshot(snap, query_for("/services/web"));
  REQUIRE(got.size() == 2);
  CHECK(got[0].app == "api");
  CHECK(got[0].instance == "a");
  CHECK(got[0].key == "/services/web/api/api@a");
  CHECK(got[0].value == "10.0.0.2:4000");
  CHECK_FALSE(got[0].ttl_left.has_value());
  CHECK(got[1].app == "web");
  CHECK(got[1].instance == "1");
  REQUIRE(got[1].address);
  CHECK(*got[1].address == HostPort{"10.0.0.1", 3000});
  CHECK(got[1].health == Instance::Health::passing);
  CHECK(got[1].ttl_left == std::optional<std::chrono::seconds>(42));
  CHECK(got[1].node.empty());
}

TEST_CASE("instances_from_snapshot reads the single-key /services/clusters/APP layout") {
  auto snap = snapshot_of(
      {kv("/services/clusters/web", "10.0.0.1:80"), kv("/services/clusters/db", "10.0.0.9:5432")});
  auto got = instances_from_snapshot(snap, query_for("/services/clusters/"));
  REQUIRE(got.size() == 2);
  CHECK(got[0].app == "db");
  CHECK(got[0].instance.empty());
  CHECK(got[1].app == "web");
  CHECK(got[1].instance.empty());
  REQUIRE(got[1].address);
  CHECK(got[1].address->port == 80);
}

TEST_CASE("instances_from_snapshot takes any leaf under an app as its instance") {
  auto snap = snapshot_of({kv("/services/web/web/blue", "10.0.0.1:80"),
                           kv("/services/web/web/web@green", "10.0.0.2:80"),
                           kv("/services/web/web/deeper/x", "10.0.0.3:80"),
                           kv("/services/webfoo/web/web@1", "10.0.0.4:80"),
                           kv("/other/web/web@1", "10.0.0.5:80")});
  auto got = instances_from_snapshot(snap, query_for("/services/web"));
  CHECK(names_of(got) == std::vector<std::string>{"web@blue", "web@green"});
}

TEST_CASE("instances_from_snapshot reads JSON values with tags and meta") {
  auto snap =
      snapshot_of({kv("/services/web/web/web@1",
                      R"({"host":"10.0.0.1","port":3000,"tags":["canary"],"meta":{"ver":"2"}})")});
  auto got = instances_from_snapshot(snap, query_for("/services/web"));
  REQUIRE(got.size() == 1);
  REQUIRE(got[0].address);
  CHECK(*got[0].address == HostPort{"10.0.0.1", 3000});
  CHECK(got[0].tags == std::vector<std::string>{"canary"});
  CHECK(got[0].meta == std::map<std::string, std::string>{{"ver", "2"}});
}

TEST_CASE("instances_from_snapshot keeps malformed values, flagged with no address") {
  auto snap = snapshot_of(
      {kv("/services/web/web/web@1", "not-an-address"), kv("/services/web/web/web@2", "{oops")});
  std::vector<Instance> got;
  CHECK_NOTHROW(got = instances_from_snapshot(snap, query_for("/services/web")));
  REQUIRE(got.size() == 2);
  CHECK(got[0].value == "not-an-address");
  CHECK_FALSE(got[0].address.has_value());
  CHECK(got[1].value == "{oops");
  CHECK_FALSE(got[1].address.has_value());
}

TEST_CASE("instances_from_snapshot keeps only the apps asked for") {
  auto snap = snapshot_of({kv("/services/web/web/web@1", "10.0.0.1:80"),
                           kv("/services/web/api/api@1", "10.0.0.2:80"),
                           kv("/services/web/db/db@1", "10.0.0.3:80")});
  auto got = instances_from_snapshot(snap, query_for("/services/web", {"db", "web", "nope"}));
  CHECK(names_of(got) == std::vector<std::string>{"db@1", "web@1"});
}

TEST_CASE("instances_from_snapshot sorts by app then instance in natural order") {
  auto snap =
      snapshot_of({kv("/services/web/web/web@10", "h:1"), kv("/services/web/web/web@2", "h:1"),
                   kv("/services/web/web/web@1", "h:1"), kv("/services/web/app10/app10@1", "h:1"),
                   kv("/services/web/app9/app9@1", "h:1"), kv("/services/web/web/web@b", "h:1"),
                   kv("/services/web/web/web@a2", "h:1"), kv("/services/web/web/web@a10", "h:1")});
  auto got = instances_from_snapshot(snap, query_for("/services/web"));
  CHECK(names_of(got) == std::vector<std::string>{"app9@1", "app10@1", "web@1", "web@2", "web@10",
                                                  "web@a2", "web@a10", "web@b"});
}

TEST_CASE("instances_from_snapshot reads IPv6 addresses") {
  auto snap = snapshot_of({kv("/services/web/web/web@1", "[2001:db8::1]:3000"),
                           kv("/services/web/web/web@2", R"({"host":"2001:db8::2","port":3001})")});
  auto got = instances_from_snapshot(snap, query_for("/services/web"));
  REQUIRE(got.size() == 2);
  REQUIRE(got[0].address);
  CHECK(*got[0].address == HostPort{"2001:db8::1", 3000});
  CHECK(got[0].address->str() == "[2001:db8::1]:3000");
  REQUIRE(got[1].address);
  CHECK(*got[1].address == HostPort{"2001:db8::2", 3001});
}

TEST_CASE("instances_from_snapshot of an empty snapshot is empty") {
  CHECK(instances_from_snapshot(Snapshot{}, query_for("/services/web")).empty());
}

TEST_CASE("a JSON value nested beyond the depth limit is malformed, not a crash") {
  // Before the fix a meta value of 200 000 nested arrays was dump()ed recursively: SIGSEGV in
  // route ls and in render's service function.
  std::string deep = std::string(200000, '[') + std::string(200000, ']');
  auto decoded =
      herald::registry::decode_value(R"({"host":"10.0.0.5","port":80,"meta":{"x":)" + deep + "}}");
  CHECK_FALSE(decoded.address);
  CHECK(decoded.meta.empty());
  auto fine = herald::registry::decode_value(R"({"host":"10.0.0.5","port":80,"meta":{"x":[[1]]}})");
  REQUIRE(fine.address);
  CHECK(fine.meta.at("x") == "[[1]]");
}

TEST_SUITE_END();

TEST_CASE("decode_value applies the host rule to the JSON form as to host:port") {
  using namespace std::string_literals;
  // Found by the fuzzer: a host holding '"', NUL and invalid UTF-8 was accepted, and encoding it
  // as JSON threw (nlohmann type_error 316: std::terminate).
  std::string fuzzed = "l`\",\"\xfe\xff\xff\x00:88"s;
  for (const std::string& bad :
       {R"({"host":"{*f********","port":"6"})"s, fuzzed,
        R"({"host":"127.0.0.1;}server{listen 80;return 200 pwned;}","port":80})"s,
        "{\"host\":\"10.0.0.1\\r\",\"port\":80}"s, R"({"host":"[zz]","port":80})"s,
        R"({"host":"a b","port":80})"s}) {
    CAPTURE(bad);
    DecodedValue d = decode_value(bad);
    CHECK_FALSE(d.address.has_value());
    CHECK_FALSE(d.problem.empty());
  }
  CHECK_FALSE(decode_value("{*f********:6").address.has_value());
}

TEST_CASE("decode_value calls a value with a tag or meta a router cannot take malformed") {
  for (const char* bad :
       {R"({"host":"10.0.0.1","port":80,"tags":["server_alias=x.com\n    http-request return"]})",
        R"({"host":"10.0.0.1","port":80,"tags":["a;b"]})",
        R"({"host":"10.0.0.1","port":80,"meta":{"k":"v\r\nX"}})",
        R"({"host":"10.0.0.1","port":80,"meta":{"bad key":"v"}})"}) {
    CAPTURE(bad);
    DecodedValue d = decode_value(bad);
    CHECK_FALSE(d.address.has_value());
    CHECK((d.problem.find("tag") != std::string::npos ||
           d.problem.find("meta") != std::string::npos));
  }
}

TEST_CASE("a decoded value with an address encodes back, in either format, to the same instance") {
  for (const char* text :
       {"10.0.0.5:80", "[::1]:3000", R"({"host":"[fe80::1]","port":"443"})",
        R"({"host":"web.example","port":8080,"tags":["a=b"],"meta":{"v":"1 2"}})"}) {
    CAPTURE(text);
    DecodedValue d = decode_value(text);
    REQUIRE(d.address);
    DecodedValue plain = decode_value(encode_value(ValueFormat::hostport, *d.address));
    REQUIRE(plain.address);
    CHECK(*plain.address == *d.address);
    DecodedValue json = decode_value(encode_value(ValueFormat::json, *d.address, d.tags, d.meta));
    REQUIRE(json.address);
    CHECK(*json.address == *d.address);
    CHECK(json.tags == d.tags);
    CHECK(json.meta == d.meta);
  }
}

TEST_CASE("instances_from_snapshot marks instances with unsafe key parts malformed, with why") {
  auto snap = snapshot_of({kv("/services/web/we;b/we;b@1", "10.0.0.1:80"),
                           kv("/services/web/web/web@1\n", "10.0.0.1:80"),
                           kv("/services/web/web/web@2", "10.0.0.1:80\nfrontend evil"),
                           kv("/services/web/web/web@3", "10.0.0.1:80")});
  auto got = instances_from_snapshot(snap, query_for("/services/web"));
  REQUIRE(got.size() == 4);
  std::size_t valid = 0;
  for (const auto& inst : got) {
    if (inst.address) {
      ++valid;
      CHECK(inst.key == "/services/web/web/web@3");
      CHECK(inst.problem.empty());
    } else {
      CHECK_FALSE(inst.problem.empty());
    }
  }
  CHECK(valid == 1);
}
