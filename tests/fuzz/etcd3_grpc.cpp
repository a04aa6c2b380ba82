// etcd v3's gRPC answer to KV.Range: the length-prefixed frame and the protobuf message inside.
#include "herald/registry/etcd3/etcd3_grpc.hpp"

#include "fuzz.hpp"

using namespace herald::registry::etcd3;

HERALD_FUZZ_TARGET(etcd3_grpc) {
  std::string_view bytes = herald::fuzz::text_of(data, size);
  herald::fuzz::expect_data_errors([&] { decode_range_response(grpc_unframe(bytes)); });
  herald::fuzz::expect_data_errors([&] { decode_range_response(bytes); });
  return 0;
}
