#pragma once

// etcd's own gRPC API for the one call whose answer can be large: KV.Range. The JSON gateway
// spends most of a big read marshalling base64 JSON (about 4x the bytes and 4x the time of the
// protobuf answer at 30000 keys), so list() asks over gRPC (HTTP/2 through libcurl) and keeps
// the gateway for everything else. The protobuf wire format of the few messages involved is
// written out here rather than generated: four messages, a varint and a length prefix, and no
// protoc, .proto files or libprotobuf to load at start-up. Pure functions, unit-tested.

#include "herald/registry/etcd3/etcd3_json.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::registry::etcd3 {

/// The path of the KV.Range method on an etcd client URL.
inline constexpr std::string_view k_grpc_range_path = "/etcdserverpb.KV/Range";

/// A serialized etcdserverpb.RangeRequest (fields left at their defaults are not written).
std::string encode_range_request(const RangeRequest& request);

/// Decodes a serialized etcdserverpb.RangeResponse; Error(data) when the bytes are not one.
RangeResult decode_range_response(std::string_view message);

/// A gRPC length-prefixed message: flag byte 0 (uncompressed), 4-byte big-endian length, bytes.
std::string grpc_frame(std::string_view message);

/// The one message of a unary gRPC answer body; Error(data) when the body is not exactly one
/// uncompressed length-prefixed message (etcd never compresses unless asked).
std::string_view grpc_unframe(std::string_view body);

/// A gRPC status from the grpc-status / grpc-message trailers (or headers, for an answer that
/// is only headers). `message` is percent-decoded, as the gRPC spec encodes it.
struct GrpcStatus {
  int code = 0;        ///< 0 OK, 5 not found, 7 permission denied, 16 unauthenticated, ...
  std::string message; ///< "etcdserver: user name is empty"
};

/// The status in the response headers, or nullopt when there is no grpc-status at all (the
/// server did not answer as a gRPC server).
std::optional<GrpcStatus>
grpc_status(const std::vector<std::pair<std::string, std::string>>& headers);

} // namespace herald::registry::etcd3
