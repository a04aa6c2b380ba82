#include "herald/announce/registration.hpp"
#include "herald/core/error.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace herald;
using namespace herald::announce;
using namespace std::chrono_literals;

namespace {

/// The message of the usage error `fn` throws ("" when it throws none or another kind).
template <typename Fn> std::string usage_error(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::usage) {
      return e.what();
    }
    return std::string("wrong kind: ") + to_string(e.kind());
  }
  return "";
}

const InstanceName k_web1{"web", "1"};

} // namespace

TEST_SUITE_BEGIN("announce");

TEST_CASE("the key is PREFIX/APP/APP@INSTANCE unless a --key template replaces it") {
  CHECK(resolve_key({}, k_web1) == "/services/web/web/web@1");
  CHECK(resolve_key({"/srv/", ""}, k_web1) == "/srv/web/web@1");
  CHECK(resolve_key({"/services/web", "/services/clusters/{app}"}, k_web1) ==
        "/services/clusters/web");
  CHECK(resolve_key({"", "/x/{name}/{instance}"}, k_web1) == "/x/web@1/1");
}

TEST_CASE("a prefix or key template that is not absolute is a usage error") {
  CHECK(usage_error([] {
          resolve_key({"services/web", ""}, k_web1);
        }).find("--prefix") != std::string::npos);
  CHECK(usage_error([] {
          resolve_key({"", "/x/{nope}"}, k_web1);
        }).find("--key") != std::string::npos);
}

TEST_CASE("a malformed APP@INSTANCE is a usage error naming it") {
  for (const char* bad : {"web", "web@", "@1", "web@1@2", "we b@1"}) {
    CAPTURE(bad);
    CHECK(usage_error([&] { parse_instance_name(bad); }).find(bad) != std::string::npos);
  }
}

TEST_CASE("--meta takes KEY=VALUE items and rejects anything else") {
  auto meta = parse_meta({"version=1.4", "zone=a=b", "version=1.5"});
  CHECK(meta.size() == 2);
  CHECK(meta["version"] == "1.5");
  CHECK(meta["zone"] == "a=b");
  CHECK(usage_error([] { parse_meta({"version"}); }).find("'version'") != std::string::npos);
  CHECK(!usage_error([] { parse_meta({"=x"}); }).empty());
}

TEST_CASE("--tag, --meta, --key and --prefix refuse what would break a router config") {
  using namespace std::string_literals;
  auto usage_error_naming = [](auto&& call, std::string_view flag) {
    try {
      call();
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      std::string message = e.what();
      CHECK(message.find(flag) != std::string::npos);
      CHECK(message.find_first_of("\r\n") == std::string::npos); // one line: escaped
    }
  };
  for (const std::string& tag :
       {"server_alias=x.com\n    http-request return status 200 string pwned"s, "a\rb"s, "a\0b"s,
        "a b"s, "a;b"s, "{"s, "#x"s, "caf\xc3\xa9"s, ""s}) {
    CAPTURE(tag);
    usage_error_naming([&] { check_tags({"ok", tag}); }, "--tag");
  }
  CHECK_NOTHROW(check_tags({"server_alias=www.example.com", "httpchk=/health", "v1.2"}));
  for (const std::string& item :
       {"k=v\nX"s, "k=v\r"s, "k\n=v"s, "k=\xc2\x85"s, "a b=v"s, "k=a;b"s, "k={}"s}) {
    CAPTURE(item);
    usage_error_naming([&] { parse_meta({item}); }, "--meta");
  }
  CHECK(parse_meta({"description=blue build 7"}).at("description") == "blue build 7");
  InstanceName web1{"web", "1"};
  usage_error_naming([&] { resolve_key(KeyInput{"/services/web", "/x/{name}\n"}, web1); }, "--key");
  usage_error_naming([&] { resolve_key(KeyInput{"/services/\x1bweb", ""}, web1); }, "--prefix");
}

TEST_CASE("the refresh defaults to a third of the TTL") {
  auto timing = resolve_timing("60s", "");
  CHECK(timing.ttl == 60s);
  CHECK(timing.refresh == 20s);
  CHECK(resolve_timing("6s", "").refresh == 2s);
  CHECK(resolve_timing("2s", "").refresh == 1s); // never below the 1s floor
  CHECK(resolve_timing("1m", "45s").refresh == 45s);
  CHECK(resolve_timing("60", "").ttl == 60s); // a bare number is seconds, like etcdctl --ttl
}

TEST_CASE("a TTL must be whole seconds of at least one") {
  CHECK(usage_error([] { resolve_timing("1500ms", ""); }).find("whole seconds") !=
        std::string::npos);
  CHECK(!usage_error([] { resolve_timing("0s", ""); }).empty());
  CHECK(!usage_error([] { resolve_timing("500ms", ""); }).empty());
  CHECK(usage_error([] { resolve_timing("sixty", ""); }).find("sixty") != std::string::npos);
  CHECK(usage_error([] { resolve_timing("-5s", ""); }).find("--ttl") != std::string::npos);
}

TEST_CASE("a refresh below 1s is refused: each one is a registry write") {
  auto message = usage_error([] { resolve_timing("60s", "1ms"); });
  CHECK(message.find("--refresh 1ms is below the floor of 1s") != std::string::npos);
  CHECK(!usage_error([] { resolve_timing("3s", "999ms"); }).empty());
  CHECK(resolve_timing("3s", "1s").refresh == 1s);
  CHECK(usage_error([] { resolve_timing("1s", ""); }).find("too short to keep alive") !=
        std::string::npos);
  CHECK(resolve_timing("1s", "", false).ttl == 1s); // --once keeps nothing alive
}

TEST_CASE("a TTL beyond what every backend stores with an expiry is refused") {
  auto message = usage_error([] { resolve_timing("2562046h", ""); });
  CHECK(message.find("--ttl 2562046h is longer than the limit of 87600h") != std::string::npos);
  CHECK(resolve_timing("87600h", "").ttl == k_max_ttl);
  CHECK(!usage_error([] { resolve_timing("87601h", "", false); }).empty());
}

TEST_CASE("a refresh not shorter than the TTL is a usage error naming both") {
  auto message = usage_error([] { resolve_timing("10s", "10s"); });
  CHECK(message.find("--refresh 10s") != std::string::npos);
  CHECK(message.find("--ttl 10s") != std::string::npos);
  CHECK(!usage_error([] { resolve_timing("10s", "1m"); }).empty());
  CHECK(!usage_error([] { resolve_timing("10s", "0s"); }).empty());
  CHECK(usage_error([] { resolve_timing("10s", "soon"); }).find("--refresh") != std::string::npos);
}

TEST_CASE("a registration carries its key, encoded value and TTL") {
  auto plain = make_registration(k_web1, "/services/web/web/web@1", {"10.0.0.5", 3000},
                                 registry::ValueFormat::hostport, {"blue"}, {}, 60s);
  CHECK(plain.value == "10.0.0.5:3000");
  CHECK(plain.ttl == 60s);
  CHECK(plain.tags == std::vector<std::string>{"blue"});
  auto json = make_registration(k_web1, "/k", {"10.0.0.5", 3000}, registry::ValueFormat::json,
                                {"blue"}, {{"v", "2"}}, 5s);
  auto decoded = registry::decode_value(json.value);
  REQUIRE(decoded.address.has_value());
  CHECK(*decoded.address == HostPort{"10.0.0.5", 3000});
  CHECK(decoded.tags == std::vector<std::string>{"blue"});
  CHECK(decoded.meta.at("v") == "2");
}

TEST_SUITE_END();
