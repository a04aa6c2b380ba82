#include "herald/core/error.hpp"
#include "herald/registry/etcd3/etcd3_grpc.hpp"

#include <doctest/doctest.h>
#include <functional>
#include <string>

using namespace herald;
using namespace herald::registry::etcd3;

namespace {

using namespace std::string_literals;

// The whole body etcd 3.4.23 (Debian's etcd-server) answered to KV.Range of the prefix
// "/services/web/" holding one key, /services/web/a/a@1 = 1.2.3.4:80, recorded with curl
// --http2-prior-knowledge: the gRPC frame header, then header{cluster_id, member_id,
// revision 2, raft_term 2}, kvs[{key, create_revision 2, mod_revision 2, version 1, value}],
// count 1.
const std::string k_recorded_range_body =
    "\x00\x00\x00\x00\x45\x0a\x18\x08\x87\xd5\xed\xba\x8f\xd5\x9d\xc1\x04\x10\xc0\xc0\xca\xaf"
    "\xc1\xba\x96\x89\x2e\x18\x02\x20\x02\x12\x27\x0a\x13\x2f\x73\x65\x72\x76\x69\x63\x65\x73"
    "\x2f\x77\x65\x62\x2f\x61\x2f\x61\x40\x31\x10\x02\x18\x02\x20\x01\x2a\x0a\x31\x2e\x32\x2e"
    "\x33\x2e\x34\x3a\x38\x30\x20\x01"s;

ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  FAIL("expected herald::Error");
  return ErrorKind::internal;
}

} // namespace

TEST_SUITE_BEGIN("registry");

TEST_CASE("etcd3 gRPC range request is the protobuf etcd expects") {
  RangeRequest request;
  request.key = "/services/web/";
  request.range_end = "/services/web0";
  // Exactly what the request recorded above was: key (field 1) and range_end (field 2).
  CHECK(encode_range_request(request) == "\x0a\x0e/services/web/\x12\x0e/services/web0"s);

  request.limit = 50000;
  request.revision = 300;
  request.keys_only = true;
  // limit 3 and revision 4 as varints (50000 = d0 86 03, 300 = ac 02), keys_only 8.
  CHECK(encode_range_request(request) ==
        "\x0a\x0e/services/web/\x12\x0e/services/web0\x18\xd0\x86\x03\x20\xac\x02\x40\x01"s);
}

TEST_CASE("etcd3 gRPC range response recorded from etcd decodes to kvs, count and revision") {
  RangeResult result = decode_range_response(grpc_unframe(k_recorded_range_body));
  REQUIRE(result.kvs.size() == 1);
  CHECK(result.kvs[0].key == "/services/web/a/a@1");
  CHECK(result.kvs[0].value == "1.2.3.4:80");
  CHECK(result.kvs[0].create_index == 2);
  CHECK(result.kvs[0].modify_index == 2);
  CHECK(result.kvs[0].lease == 0);
  CHECK(result.count == 1);
  CHECK(result.revision == 2);
  CHECK_FALSE(result.more);
}

TEST_CASE("etcd3 gRPC range response reads more, leases, binary values and skips new fields") {
  // kvs[{key "k", value "\0\xff", lease 2^40}], more true, an unknown fixed64 field 9 and an
  // unknown fixed32 field 10 (as a newer etcd could add), count 7.
  std::string kv = "\x0a\x01k\x2a\x02\x00\xff\x30\x80\x80\x80\x80\x80\x20"s;
  std::string message = "\x12"s + static_cast<char>(kv.size()) + kv + "\x18\x01"s +
                        "\x49\x01\x02\x03\x04\x05\x06\x07\x08"s + "\x55\x01\x02\x03\x04"s +
                        "\x20\x07"s;
  RangeResult result = decode_range_response(message);
  REQUIRE(result.kvs.size() == 1);
  CHECK(result.kvs[0].key == "k");
  CHECK(result.kvs[0].value == "\x00\xff"s);
  CHECK(result.kvs[0].lease == (std::int64_t{1} << 40));
  CHECK(result.more);
  CHECK(result.count == 7);
}

TEST_CASE("etcd3 gRPC range response that is not protobuf is a data error") {
  // A length running past the end, a truncated varint, an unknown wire type, field number 0.
  CHECK(kind_of([] { decode_range_response("\x12\x10\x0a"s); }) == ErrorKind::data);
  CHECK(kind_of([] { decode_range_response("\x20\xff"s); }) == ErrorKind::data);
  CHECK(kind_of([] { decode_range_response("\x23\x00"s); }) == ErrorKind::data);
  CHECK(kind_of([] { decode_range_response("\x00\x01"s); }) == ErrorKind::data);
  // A known field with the wrong wire type: count (4) as bytes.
  CHECK(kind_of([] { decode_range_response("\x22\x01x"s); }) == ErrorKind::data);
}

TEST_CASE("etcd3 gRPC frames carry one uncompressed message with its big-endian length") {
  CHECK(grpc_frame("abc") == "\x00\x00\x00\x00\x03"
                             "abc"s);
  CHECK(grpc_frame("") == "\x00\x00\x00\x00\x00"s);
  std::string big(70000, 'x');
  CHECK(grpc_frame(big).substr(0, 5) == "\x00\x00\x01\x11\x70"s);
  CHECK(grpc_unframe(grpc_frame(big)) == big);

  CHECK(kind_of([] { grpc_unframe("\x00\x00\x00"s); }) == ErrorKind::data);
  CHECK(kind_of([] { grpc_unframe("\x01\x00\x00\x00\x01x"s); }) == ErrorKind::data);
  CHECK(kind_of([] { grpc_unframe("\x00\x00\x00\x00\x05xy"s); }) == ErrorKind::data);
}

TEST_CASE("etcd3 gRPC status is read from trailers and its message percent-decoded") {
  CHECK_FALSE(grpc_status({{"content-type", "application/grpc"}}).has_value());

  auto ok = grpc_status(
      {{"content-type", "application/grpc"}, {"grpc-status", "0"}, {"grpc-message", ""}});
  REQUIRE(ok.has_value());
  CHECK(ok->code == 0);
  CHECK(ok->message.empty());

  auto denied = grpc_status(
      {{"grpc-status", "3"}, {"grpc-message", "etcdserver: user name is empty%2C retry"}});
  REQUIRE(denied.has_value());
  CHECK(denied->code == 3);
  CHECK(denied->message == "etcdserver: user name is empty, retry");

  // A status that is not a number is still a failure, never OK.
  auto garbled = grpc_status({{"grpc-status", "zero"}});
  REQUIRE(garbled.has_value());
  CHECK(garbled->code == 2);
}

TEST_SUITE_END();
