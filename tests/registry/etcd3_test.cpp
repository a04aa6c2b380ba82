#include "herald/core/error.hpp"
#include "herald/registry/backends.hpp"
#include "herald/registry/etcd3/etcd3_json.hpp"
#include "herald/registry/registry.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace herald;
using namespace herald::registry;
using namespace herald::registry::etcd3;
using nlohmann::json;

namespace {

// Bodies below were recorded from etcd 3.4's gateway (Debian's etcd-server).
constexpr const char* k_header =
    R"("header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709",)"
    R"("revision":"9","raft_term":"2"})";

json body(const std::string& rest) {
  return json::parse("{" + std::string(k_header) + rest + "}");
}

ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  FAIL("expected herald::Error");
  return ErrorKind::internal;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("expected herald::Error");
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_SUITE_BEGIN("registry");

// --- base64 and ranges ---------------------------------------------------------------------------

TEST_CASE("etcd3 base64 round-trips keys and values as the gateway encodes them") {
  json put = put_request("/w/a1", "v1");
  CHECK(put["key"] == "L3cvYTE=");
  CHECK(put["value"] == "djE=");
  CHECK(put_request("", "foo")["value"] == "Zm9v");
  CHECK(put_request("k", std::string("\0\xff", 2))["value"] == "AP8=");
  KeyValue kv = parse_kv(json{{"key", "L3Qvaw=="}, {"value", "YmFy"}});
  CHECK(kv.key == "/t/k");
  CHECK(kv.value == "bar");
  CHECK(parse_kv(json{{"key", "YQ=="}, {"value", "djE"}}).value == "v1"); // padding optional
  std::string all;
  for (int c = 0; c < 256; ++c) {
    all.push_back(static_cast<char>(c));
  }
  KeyValue binary = parse_kv(put_request(all, all));
  CHECK(binary.key == all);
  CHECK(binary.value == all);
  CHECK(kind_of([] { parse_kv(json{{"key", "a*b="}}); }) == ErrorKind::data);
}

TEST_CASE("etcd3 prefix_range_end covers exactly the keys starting with the prefix") {
  CHECK(prefix_range_end("/services/web") == "/services/wec");
  CHECK(prefix_range_end("a\xff") == "b");
  CHECK(prefix_range_end("") == std::string(1, '\0'));
  CHECK(prefix_range_end("\xff\xff") == std::string(1, '\0'));
}

// --- kv ------------------------------------------------------------------------------------------

TEST_CASE("etcd3 range request encodes keys in base64 and int64 fields as strings") {
  RangeRequest request;
  request.key = "/w/";
  request.range_end = "/w0";
  request.revision = 12;
  request.limit = 500;
  request.keys_only = true;
  request.count_only = true;
  json j = range_request(request);
  CHECK(j["key"] == "L3cv");
  CHECK(j["range_end"] == "L3cw");
  CHECK(j["revision"] == "12");
  CHECK(j["limit"] == "500");
  CHECK(j["keys_only"] == true);
  CHECK(j["count_only"] == true);

  RangeRequest plain;
  plain.key = "foo";
  json single = range_request(plain);
  CHECK(single == json{{"key", "Zm9v"}}); // defaults are left out, as etcdctl sends them
}

TEST_CASE("etcd3 range response maps kvs, count and revision") {
  auto result = parse_range(
      body(R"(,"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2",)"
           R"("value":"YmFy","lease":"4111120188786305293"},)"
           R"({"key":"L3Qvaw==","create_revision":"9","mod_revision":"9","version":"1"}],)"
           R"("count":"5","more":true)"));
  CHECK(result.revision == 9);
  CHECK(result.count == 5);
  CHECK(result.more);
  REQUIRE(result.kvs.size() == 2);
  CHECK(result.kvs[0].key == "foo");
  CHECK(result.kvs[0].value == "bar");
  CHECK(result.kvs[0].create_index == 2);
  CHECK(result.kvs[0].modify_index == 3);
  CHECK(result.kvs[0].lease == 4111120188786305293);
  CHECK(result.kvs[1].key == "/t/k");
  CHECK(result.kvs[1].value == ""); // an empty value is omitted by the gateway
  CHECK(result.kvs[1].lease == 0);
}

TEST_CASE("etcd3 range response for a missing key or count_only has no kvs") {
  auto missing = parse_range(body(""));
  CHECK(missing.kvs.empty());
  CHECK(missing.count == 0);
  CHECK(missing.revision == 9);
  CHECK_FALSE(missing.more);

  auto counted = parse_range(body(R"(,"count":"1")"));
  CHECK(counted.kvs.empty());
  CHECK(counted.count == 1);
}

TEST_CASE("etcd3 int64 fields are accepted as strings or numbers and rejected otherwise") {
  CHECK(int64_field(json{{"n", "42"}}, "n") == 42);
  CHECK(int64_field(json{{"n", 42}}, "n") == 42);
  CHECK(int64_field(json{{"n", "-1"}}, "n") == -1);
  CHECK(int64_field(json::object(), "n") == 0);
  CHECK(kind_of([] { int64_field(json{{"n", "4x"}}, "n"); }) == ErrorKind::data);
  CHECK(kind_of([] { int64_field(json{{"n", true}}, "n"); }) == ErrorKind::data);
}

TEST_CASE("etcd3 put request carries the lease only when there is one") {
  CHECK(put_request("foo", "bar") == json{{"key", "Zm9v"}, {"value", "YmFy"}});
  CHECK(put_request("foo", "bar", 4111120188786305293) ==
        json{{"key", "Zm9v"}, {"value", "YmFy"}, {"lease", "4111120188786305293"}});
  CHECK(header_revision(body("")) == 9);
}

TEST_CASE("etcd3 delete response maps deleted and prev_kvs") {
  CHECK(delete_request("foo", {}, true) == json{{"key", "Zm9v"}, {"prev_kv", true}});
  auto deleted = parse_delete(
      body(R"(,"deleted":"1","prev_kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3",)"
           R"("version":"2","value":"YmFy","lease":"4111120188786305293"}])"));
  CHECK(deleted.deleted == 1);
  CHECK(deleted.revision == 9);
  REQUIRE(deleted.prev_kvs.size() == 1);
  CHECK(deleted.prev_kvs[0].key == "foo");
  CHECK(deleted.prev_kvs[0].value == "bar");
  CHECK(deleted.prev_kvs[0].lease == 4111120188786305293);

  auto nothing = parse_delete(body(""));
  CHECK(nothing.deleted == 0);
  CHECK(nothing.prev_kvs.empty());
}

TEST_CASE("etcd3 refresh txn rewrites the key only when its value or lease changed") {
  json txn = refresh_txn_request("/t/k", "v1", 42);
  REQUIRE(txn["compare"].size() == 2);
  CHECK(txn["compare"][0] ==
        json{{"key", "L3Qvaw=="}, {"target", "VALUE"}, {"result", "EQUAL"}, {"value", "djE="}});
  CHECK(txn["compare"][1] ==
        json{{"key", "L3Qvaw=="}, {"target", "LEASE"}, {"result", "EQUAL"}, {"lease", "42"}});
  CHECK_FALSE(txn.contains("success")); // an intact key is not written: no watch event
  CHECK(txn["failure"][0]["request_put"] ==
        json{{"key", "L3Qvaw=="}, {"value", "djE="}, {"lease", "42"}});

  CHECK(parse_txn(body(R"(,"succeeded":true)")).succeeded);
  auto rewritten =
      parse_txn(body(R"(,"responses":[{"response_put":{"header":{"revision":"9"}}}])"));
  CHECK_FALSE(rewritten.succeeded);
  CHECK(rewritten.revision == 9);
}

// --- leases --------------------------------------------------------------------------------------

TEST_CASE("etcd3 lease grant maps ID and TTL") {
  CHECK(lease_grant_request(std::chrono::seconds(30)) == json{{"TTL", "30"}});
  auto grant = parse_lease_grant(body(R"(,"ID":"4111120188786305289","TTL":"5")"));
  CHECK(grant.id == 4111120188786305289);
  CHECK(grant.ttl == 5);
  CHECK(grant.error.empty());
  auto refused = parse_lease_grant(body(R"(,"error":"lease already exists")"));
  CHECK(refused.error == "lease already exists");
}

TEST_CASE("etcd3 keep-alive maps the streamed result, and an absent TTL means the lease is gone") {
  CHECK(lease_request(7) == json{{"ID", "7"}});
  CHECK(lease_request(7, true) == json{{"ID", "7"}, {"keys", true}});
  auto alive = parse_keepalive(json::parse("{\"result\":{" + std::string(k_header) +
                                           R"(,"ID":"4111120188786305293","TTL":"30"}})"));
  CHECK(alive.id == 4111120188786305293);
  CHECK(alive.ttl == 30);
  auto gone =
      parse_keepalive(json::parse("{\"result\":{" + std::string(k_header) + R"(,"ID":"12345"}})"));
  CHECK(gone.id == 12345);
  CHECK(gone.ttl == 0);
  CHECK(kind_of([] {
          parse_keepalive(json::parse(
              R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader"}})"));
        }) == ErrorKind::temporary);
}

TEST_CASE("etcd3 time-to-live maps TTL, granted TTL and keys, and -1 means not found") {
  auto ttl = parse_time_to_live(
      body(R"(,"ID":"4111120188786305293","TTL":"29","grantedTTL":"30","keys":["Zm9v"])"));
  CHECK(ttl.id == 4111120188786305293);
  CHECK(ttl.ttl == 29);
  CHECK(ttl.granted_ttl == 30);
  CHECK(ttl.keys == std::vector<std::string>{"foo"});
  auto missing = parse_time_to_live(body(R"(,"ID":"12345","TTL":"-1")"));
  CHECK(missing.ttl == -1);
  CHECK(missing.keys.empty());
}

// --- watch ---------------------------------------------------------------------------------------

TEST_CASE("etcd3 watch request covers the prefix from the start revision") {
  json j = watch_create_request("/w/", 2);
  CHECK(j == json{{"create_request",
                   {{"key", "L3cv"}, {"range_end", "L3cw"}, {"start_revision", "2"}}}});
  json all = watch_create_request("", 0);
  CHECK(all["create_request"]["key"] == "AA==");
  CHECK(all["create_request"]["range_end"] == "AA==");
  CHECK_FALSE(all["create_request"].contains("start_revision"));
}

TEST_CASE("etcd3 watch messages: created, then PUT and DELETE events") {
  auto created =
      parse_watch_message("{\"result\":{" + std::string(k_header) + R"(,"created":true}})");
  CHECK(created.created);
  CHECK_FALSE(created.canceled);
  CHECK(created.events.empty());
  CHECK(created.revision == 9);

  auto events = parse_watch_message(
      "{\"result\":{" + std::string(k_header) +
      R"(,"events":[{"kv":{"key":"L3cvYTE=","create_revision":"5","mod_revision":"5",)"
      R"("version":"1","value":"eA=="}},{"type":"DELETE","kv":{"key":"L3cvYTE=",)"
      R"("mod_revision":"8"}}]}})");
  REQUIRE(events.events.size() == 2);
  CHECK(events.events[0].type == Event::Type::put);
  CHECK(events.events[0].kv.key == "/w/a1");
  CHECK(events.events[0].kv.value == "x");
  CHECK(events.events[0].kv.create_index == 5);
  CHECK(events.events[0].kv.modify_index == 5);
  CHECK(events.events[1].type == Event::Type::remove);
  CHECK(events.events[1].kv.key == "/w/a1");
  CHECK(events.events[1].kv.modify_index == 8);
}

TEST_CASE("etcd3 watch message reports a compacted start revision") {
  auto compacted = parse_watch_message(
      R"({"result":{"header":{"cluster_id":"1","member_id":"2","raft_term":"2"},)"
      R"("canceled":true,"compact_revision":"6"}})");
  CHECK(compacted.canceled);
  CHECK(compacted.compact_revision == 6);
  CHECK(compacted.events.empty());
}

TEST_CASE("etcd3 watch message reports a canceled watch and a streamed error") {
  auto denied = parse_watch_message(
      "{\"result\":{" + std::string(k_header) +
      R"(,"watch_id":"-1","created":true,"canceled":true,"cancel_reason":"rpc error: code = )"
      R"(Unauthenticated desc = etcdserver: invalid auth token"}})");
  CHECK(denied.canceled);
  CHECK(is_invalid_token(denied.cancel_reason));
  CHECK(denied.compact_revision == 0);

  auto error = parse_watch_message(
      R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader",)"
      R"("http_status":"Service Unavailable"}})");
  CHECK(error.error == "etcdserver: no leader");

  CHECK(kind_of([] { parse_watch_message("{\"result\":"); }) == ErrorKind::data);
}

// --- errors, auth, gateway -----------------------------------------------------------------------

TEST_CASE("etcd3 gateway errors are read from the body, but a plain 404 page is not one") {
  auto lease =
      parse_gateway_error(R"({"error":"etcdserver: requested lease not found",)"
                          R"("message":"etcdserver: requested lease not found","code":5})");
  REQUIRE(lease.has_value());
  CHECK(lease->code == 5);
  CHECK(is_lease_not_found(lease->message));

  auto old_style = parse_gateway_error(R"({"error":"etcdserver: invalid auth token","code":16})");
  REQUIRE(old_style.has_value());
  CHECK(old_style->code == 16);
  CHECK(is_invalid_token(old_style->message));

  CHECK_FALSE(parse_gateway_error("404 page not found").has_value());
  CHECK_FALSE(parse_gateway_error("Not Found").has_value());
  CHECK_FALSE(parse_gateway_error(R"({"header":{}})").has_value());
}

TEST_CASE("etcd3 auth error bodies are told apart") {
  auto failed = parse_gateway_error(
      R"({"error":"etcdserver: authentication failed, invalid user ID or password",)"
      R"("message":"etcdserver: authentication failed, invalid user ID or password","code":3})");
  REQUIRE(failed.has_value());
  CHECK(is_auth_failed(failed->message));
  CHECK_FALSE(is_invalid_token(failed->message));

  auto empty = parse_gateway_error(R"({"error":"etcdserver: user name is empty",)"
                                   R"("message":"etcdserver: user name is empty","code":3})");
  REQUIRE(empty.has_value());
  CHECK(is_auth_required(empty->message));
  CHECK_FALSE(is_auth_failed(empty->message));

  CHECK(is_auth_not_enabled("etcdserver: authentication is not enabled"));
  CHECK_FALSE(is_auth_not_enabled(empty->message));

  CHECK(authenticate_request("root", "secret") == json{{"name", "root"}, {"password", "secret"}});
  CHECK(parse_authenticate(body(R"(,"token":"FsvRwXJxPbwoEpOJ.28")")) == "FsvRwXJxPbwoEpOJ.28");
}

TEST_CASE("etcd3 gateway prefix follows the server version") {
  CHECK(gateway_prefix_for_version(R"({"etcdserver":"3.3.25","etcdcluster":"3.3.0"})") ==
        std::optional<std::string>("/v3beta"));
  CHECK(gateway_prefix_for_version(R"({"etcdserver":"3.2.32","etcdcluster":"3.2.0"})") ==
        std::optional<std::string>("/v3alpha"));
  CHECK_FALSE(gateway_prefix_for_version(R"({"etcdserver":"3.1.20"})").has_value());
  CHECK_FALSE(gateway_prefix_for_version("404 page not found").has_value());
}

TEST_CASE("etcd3 parse_body names what was asked when the answer is not JSON") {
  std::string msg = message_of([] { parse_body("<html>", "POST /v3/kv/range"); });
  CHECK(contains(msg, "POST /v3/kv/range"));
  CHECK(contains(msg, "<html>"));
}

// --- parse_location ------------------------------------------------------------------------------

TEST_CASE("parse_location reads each scheme of the table") {
  auto etcd = parse_location("etcd://10.0.0.1:2379,10.0.0.2:2379");
  CHECK(etcd.scheme == "etcd");
  CHECK_FALSE(etcd.tls);
  REQUIRE(etcd.endpoints.size() == 2);
  CHECK(etcd.endpoints[0].str() == "http://10.0.0.1:2379");
  CHECK(etcd.endpoints[1].str() == "http://10.0.0.2:2379");

  auto etcd2 = parse_location("etcd2://h:4001");
  CHECK(etcd2.scheme == "etcd2");
  CHECK(etcd2.endpoints.at(0).str() == "http://h:4001");

  auto consul = parse_location("consul://127.0.0.1:8500");
  CHECK(consul.scheme == "consul");
  CHECK(consul.endpoints.at(0).port == 8500);
}

TEST_CASE("parse_location: the +https forms use TLS on every endpoint") {
  for (const char* scheme : {"etcd", "etcd2", "consul"}) {
    CAPTURE(scheme);
    auto location = parse_location(std::string(scheme) + "+https://a:1,b:2");
    CHECK(location.scheme == scheme);
    CHECK(location.tls);
    REQUIRE(location.endpoints.size() == 2);
    CHECK(location.endpoints[0].str() == "https://a:1");
    CHECK(location.endpoints[1].str() == "https://b:2");
  }
}

TEST_CASE("parse_location fills the backend's default port and accepts IPv6") {
  CHECK(parse_location("etcd://h1").endpoints.at(0).port == 2379);
  CHECK(parse_location("consul://c").endpoints.at(0).port == 8500);
  auto v6 = parse_location("etcd://[::1]:2379,[fe80::1]");
  REQUIRE(v6.endpoints.size() == 2);
  CHECK(v6.endpoints[0].host == "::1");
  CHECK(v6.endpoints[0].port == 2379);
  CHECK(v6.endpoints[1].host == "fe80::1");
  CHECK(v6.endpoints[1].port == 2379);
  CHECK(parse_location("etcd://h:2379/").endpoints.at(0).str() == "http://h:2379");
}

TEST_CASE("parse_location reads an ETCDCTL_ENDPOINTS list as etcd v3") {
  auto list = parse_location("http://h1:2379,https://h2:2379");
  CHECK(list.scheme == "etcd");
  CHECK(list.tls);
  REQUIRE(list.endpoints.size() == 2);
  CHECK(list.endpoints[0].str() == "http://h1:2379");
  CHECK(list.endpoints[1].str() == "https://h2:2379");

  auto bare = parse_location("127.0.0.1:2379, 127.0.0.2:2379");
  CHECK(bare.scheme == "etcd");
  CHECK_FALSE(bare.tls);
  REQUIRE(bare.endpoints.size() == 2);
  CHECK(bare.endpoints[1].str() == "http://127.0.0.2:2379");

  CHECK(parse_location("http://h1:2379").endpoints.size() == 1);
}

TEST_CASE("parse_location names an unknown scheme, lists the known ones and suggests one") {
  std::string msg = message_of([] { parse_location("etc://h:2379"); });
  CHECK(contains(msg, "'etc'"));
  CHECK(contains(msg, "did you mean 'etcd'?"));
  for (const char* known :
       {"etcd://", "etcd+https://", "etcd2://", "etcd2+https://", "consul://", "consul+https://"}) {
    CAPTURE(known);
    CHECK(contains(msg, known));
  }
  CHECK(kind_of([] { parse_location("etc://h:2379"); }) == ErrorKind::config);

  CHECK(contains(message_of([] { parse_location("consol+https://h"); }),
                 "did you mean 'consul+https'?"));
  std::string far = message_of([] { parse_location("zookeeper://h:2181"); });
  CHECK(contains(far, "'zookeeper'"));
  CHECK_FALSE(contains(far, "did you mean"));
}

TEST_CASE("parse_location rejects malformed URLs with a config error") {
  CHECK(kind_of([] { parse_location(""); }) == ErrorKind::config);
  CHECK(kind_of([] { parse_location("etcd://"); }) == ErrorKind::config);
  CHECK(kind_of([] { parse_location("etcd://h1:2379,,h2:2379"); }) == ErrorKind::config);
  CHECK(kind_of([] { parse_location("etcd://h:99999"); }) == ErrorKind::config);
  CHECK(kind_of([] { parse_location("etcd://http://h:2379"); }) == ErrorKind::config);
  CHECK(contains(message_of([] { parse_location("etcd"); }), "did you mean 'etcd'?"));
}

TEST_CASE("parse_location never echoes credentials written into the URL") {
  std::string msg = message_of([] { parse_location("etcd://root:hunter2@h:2379"); });
  CHECK_FALSE(contains(msg, "hunter2"));
  CHECK(contains(msg, "--password-file"));
  std::string bare = message_of([] { parse_location("http://root:hunter2@h:2379"); });
  CHECK_FALSE(contains(bare, "hunter2"));
}

TEST_CASE("memory:// is not a scheme a user can pick: it would store nothing anyone sees") {
  std::string msg = message_of([] { parse_location("memory://"); });
  CHECK(contains(msg, "unknown registry scheme 'memory'"));
  CHECK_FALSE(contains(msg, "memory://"));
  CHECK(kind_of([] { parse_location("memory://"); }) == ErrorKind::config);
}

TEST_CASE("parse_location never echoes a password or token written as a query") {
  for (const char* url :
       {"etcd://h:1?password=XYZ", "etcd://h?password=XYZ", "consul://h:8500/?token=XYZ",
        "http://h:1?password=XYZ", "etcd://h:1#XYZ", "h?password=XYZ"}) {
    CAPTURE(url);
    std::string msg = message_of([&] { parse_location(url); });
    CHECK_FALSE(contains(msg, "XYZ"));
    CHECK(contains(msg, "***"));
    CHECK(kind_of([&] { parse_location(url); }) == ErrorKind::config);
  }
}

TEST_CASE("open builds the consul backend from consul:// and consul+https://") {
  Options options;
  auto consul = open("consul://127.0.0.1:8500", options); // no request until used
  CHECK(consul->backend() == "consul");
  CHECK(consul->describe() == "consul://127.0.0.1:8500");
  auto consul_tls = open("consul+https://10.0.0.1", options);
  CHECK(consul_tls->describe() == "consul+https://10.0.0.1:8500");
  auto etcd = open("etcd://127.0.0.1:1,127.0.0.1:2", options); // no request until used
  CHECK(etcd->backend() == "etcd3");
  CHECK(etcd->describe() == "etcd://127.0.0.1:1,127.0.0.1:2");
}

TEST_SUITE_END();
