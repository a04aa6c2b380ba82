#include "herald/core/error.hpp"
#include "herald/registry/etcd2/keys_api.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace herald;
using namespace herald::registry;
using namespace herald::registry::etcd2;

// The response bodies below were recorded from Debian's etcd 3.4 (--enable-v2).

TEST_SUITE_BEGIN("registry");

TEST_CASE("etcd2 escape_key_path encodes each segment and keeps the slashes") {
  CHECK(escape_key_path("/services/web/web/web@1") == "/services/web/web/web@1");
  CHECK(escape_key_path("/services/web/api/api@10.0.0.5:3000") ==
        "/services/web/api/api@10.0.0.5:3000");
  CHECK(escape_key_path("/a b/c?d#e") == "/a%20b/c%3Fd%23e");
  CHECK(escape_key_path("/x/100%&y=z+w") == "/x/100%25%26y%3Dz%2Bw");
  CHECK(escape_key_path("/caf\xc3\xa9") == "/caf%C3%A9");
}

TEST_CASE("etcd2 form_escape encodes everything but unreserved characters") {
  CHECK(form_escape("10.0.0.5:3000") == "10.0.0.5%3A3000");
  CHECK(form_escape("a b+c&d=e") == "a%20b%2Bc%26d%3De");
  CHECK(form_escape(R"({"host":"::1"})") == "%7B%22host%22%3A%22%3A%3A1%22%7D");
  CHECK(form_escape("") == "");
  CHECK(form_encode({{"value", "a&b"}, {"ttl", "30"}}) == "value=a%26b&ttl=30");
}

TEST_CASE("etcd2 keys_path prefixes /v2/keys and adds a missing leading slash") {
  CHECK(keys_path("/services/web") == "/v2/keys/services/web");
  CHECK(keys_path("services/web") == "/v2/keys/services/web");
  CHECK(keys_path("") == "/v2/keys/");
  CHECK(keys_path("/") == "/v2/keys/");
}

TEST_CASE("etcd2 parse_node_response maps a key with its indexes and TTL") {
  auto kv = parse_node_response(
      R"({"action":"set","node":{"key":"/services/web/web/web@1","value":"10.0.0.1:3000",)"
      R"("expiration":"2026-11-23T09:18:30.746556952Z","ttl":30,"modifiedIndex":4,)"
      R"("createdIndex":4}})");
  REQUIRE(kv);
  CHECK(kv->key == "/services/web/web/web@1");
  CHECK(kv->value == "10.0.0.1:3000");
  CHECK(kv->create_index == 4);
  CHECK(kv->modify_index == 4);
  CHECK(kv->ttl == std::optional<std::chrono::seconds>(30));
  CHECK(kv->lease == 0);
}

TEST_CASE("etcd2 parse_node_response leaves ttl empty for a key without expiration") {
  auto kv = parse_node_response(R"({"action":"get","node":{"key":"/a","value":"",)"
                                R"("modifiedIndex":9,"createdIndex":5}})");
  REQUIRE(kv);
  CHECK(kv->value.empty());
  CHECK(kv->create_index == 5);
  CHECK(kv->modify_index == 9);
  CHECK_FALSE(kv->ttl.has_value());
}

TEST_CASE("etcd2 parse_node_response gives nothing for a directory") {
  CHECK_FALSE(parse_node_response(R"({"action":"get","node":{"key":"/services","dir":true,)"
                                  R"("modifiedIndex":4,"createdIndex":4}})")
                  .has_value());
}

TEST_CASE("etcd2 parse_list_response flattens nested directories into sorted keys") {
  // etcd sorts per directory: "/s/a/x" comes before "/s/a-b" here although '-' < '/'.
  auto entries = parse_list_response(
      R"({"action":"get","node":{"key":"/s","dir":true,"nodes":[)"
      R"({"key":"/s/a","dir":true,"nodes":[)"
      R"({"key":"/s/a/x","value":"1","expiration":"2026-11-23T09:18:30Z","ttl":12,)"
      R"("modifiedIndex":6,"createdIndex":4},)"
      R"({"key":"/s/a/deep","dir":true,"nodes":[{"key":"/s/a/deep/y","value":"2",)"
      R"("modifiedIndex":7,"createdIndex":7}],"modifiedIndex":7,"createdIndex":7},)"
      R"({"key":"/s/a/empty","dir":true,"modifiedIndex":8,"createdIndex":8}],)"
      R"("modifiedIndex":4,"createdIndex":4},)"
      R"({"key":"/s/a-b","value":"3","modifiedIndex":5,"createdIndex":5}],)"
      R"("modifiedIndex":4,"createdIndex":4}})");
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].key == "/s/a-b");
  CHECK(entries[0].value == "3");
  CHECK(entries[1].key == "/s/a/deep/y");
  CHECK(entries[1].value == "2");
  CHECK_FALSE(entries[1].ttl.has_value());
  CHECK(entries[2].key == "/s/a/x");
  CHECK(entries[2].ttl == std::optional<std::chrono::seconds>(12));
  CHECK(entries[2].create_index == 4);
  CHECK(entries[2].modify_index == 6);
}

TEST_CASE("etcd2 parse_list_response of a plain key lists that key") {
  auto entries = parse_list_response(
      R"({"action":"get","node":{"key":"/services/clusters/web","value":"10.0.0.1:80",)"
      R"("modifiedIndex":3,"createdIndex":3}})");
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].key == "/services/clusters/web");
}

TEST_CASE("etcd2 parse_list_response of an empty root lists nothing") {
  CHECK(parse_list_response(R"({"action":"get","node":{"dir":true}})").empty());
}

TEST_CASE("etcd2 responses that are not etcd v2 JSON are data errors") {
  for (const char* bad : {"404 page not found", "[]", R"({"action":"get"})", ""}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_list_response(bad), Error);
    try {
      parse_node_response(bad);
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::data);
      CHECK(std::string(e.what()).find("etcd v2") != std::string::npos);
    }
  }
}

TEST_CASE("etcd2 parse_index reads X-Etcd-Index and treats junk as 0") {
  CHECK(parse_index(std::string("1021")) == 1021);
  CHECK(parse_index(std::nullopt) == 0);
  CHECK(parse_index(std::string("")) == 0);
  CHECK(parse_index(std::string("x1")) == 0);
}

TEST_CASE("etcd2 parse_api_error reads the error body") {
  auto error = parse_api_error(
      R"({"errorCode":100,"message":"Key not found","cause":"/services/web/web/web@9","index":6})");
  REQUIRE(error);
  CHECK(error->code == k_key_not_found);
  CHECK(error->message == "Key not found");
  CHECK(error->cause == "/services/web/web/web@9");
  CHECK(error->index == 6);

  CHECK_FALSE(parse_api_error("404 page not found").has_value());
  CHECK_FALSE(parse_api_error(R"({"action":"get","node":{}})").has_value());
  CHECK_FALSE(parse_api_error(R"({"message":"Insufficient credentials"})").has_value());
}

TEST_CASE("etcd2 errors map to kinds and one clear line") {
  struct Case {
    const char* body;
    ErrorKind kind;
    const char* words;
  };
  const Case cases[] = {
      {R"({"errorCode":100,"message":"Key not found","cause":"/k","index":6})",
       ErrorKind::not_found, "Key not found [errorCode 100]"},
      {R"({"errorCode":101,"message":"Compare failed","cause":"[wrong != 10.0.0.1:3000]",)"
       R"("index":6})",
       ErrorKind::temporary, "Compare failed ([wrong != 10.0.0.1:3000]) [errorCode 101]"},
      {R"({"errorCode":102,"message":"Not a file","cause":"/k","index":7})", ErrorKind::data,
       "Not a file [errorCode 102]: it is a directory"},
      {R"({"errorCode":105,"message":"Key already exists","cause":"/k","index":7})",
       ErrorKind::temporary, "Key already exists [errorCode 105]"},
      {R"({"errorCode":202,"message":"The given TTL in POST form is not a number",)"
       R"("cause":"invalid value for \"ttl\"","index":0})",
       ErrorKind::data, "herald bug"},
      {R"({"errorCode":300,"message":"Raft Internal Error","index":0})", ErrorKind::temporary,
       "retry"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    auto error = parse_api_error(c.body);
    REQUIRE(error);
    Error e = to_error("put", "/k", "http://127.0.0.1:2379", *error);
    CHECK(e.kind() == c.kind);
    std::string text = e.what();
    CHECK(text.find("etcd v2 put /k at http://127.0.0.1:2379: ") == 0);
    CHECK(text.find(c.words) != std::string::npos);
    CHECK(text.find('\n') == std::string::npos);
  }
}

TEST_CASE("an etcd2 error body cannot add a line to the log: its words are escaped") {
  auto error =
      parse_api_error(R"({"errorCode":100,"message":"x\nherald: forged\u001b[2J","cause":"/a\r"})");
  REQUIRE(error);
  std::string text = to_error("get", "/k", "http://127.0.0.1:2379", *error).what();
  CHECK(text.find_first_of("\n\r\x1b") == std::string::npos);
  CHECK(text.find("x\\nherald: forged\\x1b[2J") != std::string::npos);
}

TEST_CASE("etcd2 parse_watch_response maps a set to a put event at its index") {
  auto batch = parse_watch_response(
      R"({"action":"set","node":{"key":"/services/web/web/web@2","value":"10.0.0.2:3000",)"
      R"("modifiedIndex":5,"createdIndex":5}})",
      4);
  CHECK_FALSE(batch.resync);
  CHECK(batch.index == 5);
  REQUIRE(batch.events.size() == 1);
  CHECK(batch.events[0].type == Event::Type::put);
  CHECK(batch.events[0].kv.key == "/services/web/web/web@2");
  CHECK(batch.events[0].kv.value == "10.0.0.2:3000");
  CHECK(batch.events[0].kv.modify_index == 5);
}

TEST_CASE("etcd2 parse_watch_response maps delete and expire to remove events") {
  for (const char* action : {"delete", "expire", "compareAndDelete"}) {
    CAPTURE(action);
    std::string body = std::string(R"({"action":")") + action +
                       R"(","node":{"key":"/s/web/web@2","modifiedIndex":7,"createdIndex":5},)"
                       R"("prevNode":{"key":"/s/web/web@2","value":"10.0.0.2:3000",)"
                       R"("modifiedIndex":5,"createdIndex":5}})";
    auto batch = parse_watch_response(body, 6);
    CHECK(batch.index == 7);
    REQUIRE(batch.events.size() == 1);
    CHECK(batch.events[0].type == Event::Type::remove);
    CHECK(batch.events[0].kv.key == "/s/web/web@2");
    CHECK(batch.events[0].kv.modify_index == 7);
  }
}

TEST_CASE("etcd2 parse_watch_response asks for a re-list when a directory is removed") {
  auto batch = parse_watch_response(
      R"({"action":"delete","node":{"key":"/services/web/web","dir":true,"modifiedIndex":8,)"
      R"("createdIndex":4},"prevNode":{"key":"/services/web/web","dir":true,)"
      R"("modifiedIndex":4,"createdIndex":4}})",
      7);
  CHECK(batch.resync);
  CHECK(batch.events.empty());
  CHECK(batch.index == 8);
}

TEST_CASE("etcd2 parse_watch_response ignores TTL refreshes and directory creation") {
  auto refresh = parse_watch_response(
      R"({"action":"compareAndSwap","node":{"key":"/a/k","value":"v","ttl":100,)"
      R"("modifiedIndex":10,"createdIndex":9},"refresh":true})",
      9);
  CHECK(refresh.events.empty());
  CHECK_FALSE(refresh.resync);
  CHECK(refresh.index == 10);

  auto mkdir = parse_watch_response(
      R"({"action":"set","node":{"key":"/a/d","dir":true,"modifiedIndex":11,"createdIndex":11}})",
      10);
  CHECK(mkdir.events.empty());
  CHECK_FALSE(mkdir.resync);
  CHECK(mkdir.index == 11);
}

TEST_CASE("etcd2 parse_watch_response of an empty body is an idle batch at the same index") {
  auto batch = parse_watch_response("", 42);
  CHECK(batch.events.empty());
  CHECK_FALSE(batch.resync);
  CHECK(batch.index == 42);
  CHECK(parse_watch_response("\n", 42).index == 42);
}

TEST_CASE("etcd2 index cleared is error 401 carrying the current index") {
  auto error = parse_api_error(
      R"({"errorCode":401,"message":"The event in requested index is outdated and cleared",)"
      R"("cause":"the requested history has been cleared [22/2]","index":1021})");
  REQUIRE(error);
  CHECK(error->code == k_event_index_cleared);
  CHECK(error->index == 1021);
  CHECK(to_error("watch", "/a", "http://h:1", *error).retryable());
}

TEST_SUITE_END();
