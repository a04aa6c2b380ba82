// etcd v3's gRPC answer to KV.Range: the length-prefixed frame and the protobuf message inside.
// Properties: framing any message and unframing it gives the message back, and a message decodes
// the same whether it came framed or bare.
#include "herald/registry/etcd3/etcd3_grpc.hpp"

#include "fuzz.hpp"

#include <optional>

using namespace herald::registry::etcd3;

namespace {

/// The keys and values `message` decodes to; nullopt when it is malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> decoded(std::string_view message) {
  std::optional<std::vector<std::pair<std::string, std::string>>> out;
  herald::fuzz::expect_data_errors([&] {
    RangeResult result = decode_range_response(message);
    out.emplace();
    for (const auto& kv : result.kvs) {
      out->emplace_back(kv.key, kv.value);
    }
  });
  return out;
}

} // namespace

HERALD_FUZZ_TARGET(etcd3_grpc) {
  std::string_view bytes = herald::fuzz::text_of(data, size);
  herald::fuzz::expect_data_errors([&] { decode_range_response(grpc_unframe(bytes)); });
  std::string framed = grpc_frame(bytes);
  std::string_view unframed;
  herald::fuzz::expect_data_errors([&] { unframed = grpc_unframe(framed); });
  HERALD_FUZZ_CHECK(unframed == bytes);
  HERALD_FUZZ_CHECK(decoded(bytes) == decoded(unframed));
  return 0;
}
