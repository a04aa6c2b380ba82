#include "herald/registry/etcd3/etcd3_grpc.hpp"

#include "herald/core/error.hpp"

#include <cctype>
#include <charconv>
#include <fmt/format.h>

namespace herald::registry::etcd3 {

namespace {

// Protobuf wire types.
constexpr unsigned k_varint = 0;
constexpr unsigned k_fixed64 = 1;
constexpr unsigned k_bytes = 2;
constexpr unsigned k_fixed32 = 5;

void put_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void put_tag(std::string& out, unsigned field, unsigned wire_type) {
  put_varint(out, (static_cast<std::uint64_t>(field) << 3) | wire_type);
}

void put_bytes(std::string& out, unsigned field, std::string_view bytes) {
  if (bytes.empty()) {
    return;
  }
  put_tag(out, field, k_bytes);
  put_varint(out, bytes.size());
  out.append(bytes);
}

void put_int(std::string& out, unsigned field, std::int64_t value) {
  if (value == 0) {
    return;
  }
  put_tag(out, field, k_varint);
  // int64 is written as its two's complement: negative values take ten bytes.
  put_varint(out, static_cast<std::uint64_t>(value));
}

[[noreturn]] void malformed(std::string_view what) {
  throw Error(ErrorKind::data,
              fmt::format("etcd answered a Range with a malformed protobuf message ({}); "
                          "retry, or report it with the etcd version",
                          what));
}

/// Reads the fields of one protobuf message in order.
class Reader {
public:
  explicit Reader(std::string_view bytes) : m_bytes(bytes) {}

  /// Moves to the next field; false at the end of the message.
  bool next() {
    if (m_pos >= m_bytes.size()) {
      return false;
    }
    std::uint64_t tag = varint();
    m_field = static_cast<unsigned>(tag >> 3);
    m_wire_type = static_cast<unsigned>(tag & 7);
    if (m_field == 0) {
      malformed("field number 0");
    }
    return true;
  }

  unsigned field() const { return m_field; }
  unsigned wire_type() const { return m_wire_type; }

  std::uint64_t varint() {
    std::uint64_t value = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (m_pos >= m_bytes.size()) {
        malformed("truncated varint");
      }
      auto byte = static_cast<unsigned char>(m_bytes[m_pos++]);
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        return value;
      }
    }
    malformed("varint longer than ten bytes");
  }

  /// The value of a varint field as int64 (etcd's revisions, counts and lease IDs).
  std::int64_t int64() {
    expect(k_varint);
    return static_cast<std::int64_t>(varint());
  }

  bool boolean() { return int64() != 0; }

  /// The payload of a length-delimited field (bytes, string or an embedded message).
  std::string_view bytes() {
    expect(k_bytes);
    std::uint64_t length = varint();
    if (length > m_bytes.size() - m_pos) {
      malformed("length beyond the end of the message");
    }
    std::string_view out = m_bytes.substr(m_pos, length);
    m_pos += length;
    return out;
  }

  /// Skips a field this client does not read (newer etcd versions add some).
  void skip() {
    switch (m_wire_type) {
    case k_varint:
      varint();
      break;
    case k_fixed64:
      advance(8);
      break;
    case k_bytes:
      bytes();
      break;
    case k_fixed32:
      advance(4);
      break;
    default:
      malformed(fmt::format("wire type {}", m_wire_type));
    }
  }

private:
  void expect(unsigned wire_type) {
    if (m_wire_type != wire_type) {
      malformed(
          fmt::format("field {} has wire type {}, expected {}", m_field, m_wire_type, wire_type));
    }
  }

  void advance(std::size_t n) {
    if (n > m_bytes.size() - m_pos) {
      malformed("truncated fixed-size field");
    }
    m_pos += n;
  }

  std::string_view m_bytes;
  std::size_t m_pos = 0;
  unsigned m_field = 0;
  unsigned m_wire_type = 0;
};

// mvccpb.KeyValue
KeyValue decode_kv(std::string_view message) {
  KeyValue kv;
  Reader r(message);
  while (r.next()) {
    switch (r.field()) {
    case 1:
      kv.key.assign(r.bytes());
      break;
    case 2:
      kv.create_index = r.int64();
      break;
    case 3:
      kv.modify_index = r.int64();
      break;
    case 5:
      kv.value.assign(r.bytes());
      break;
    case 6:
      kv.lease = r.int64();
      break;
    default: // 4 version
      r.skip();
    }
  }
  return kv;
}

// etcdserverpb.ResponseHeader: only the revision matters here.
std::int64_t decode_header_revision(std::string_view message) {
  std::int64_t revision = 0;
  Reader r(message);
  while (r.next()) {
    if (r.field() == 3) {
      revision = r.int64();
    } else {
      r.skip();
    }
  }
  return revision;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int high = hex_digit(text[i + 1]);
      int low = hex_digit(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

} // namespace

std::string encode_range_request(const RangeRequest& request) {
  std::string out;
  out.reserve(request.key.size() + request.range_end.size() + 32);
  put_bytes(out, 1, request.key);
  put_bytes(out, 2, request.range_end);
  put_int(out, 3, request.limit);
  put_int(out, 4, request.revision);
  put_int(out, 8, request.keys_only ? 1 : 0);
  put_int(out, 9, request.count_only ? 1 : 0);
  return out;
}

RangeResult decode_range_response(std::string_view message) {
  RangeResult result;
  Reader r(message);
  while (r.next()) {
    switch (r.field()) {
    case 1:
      result.revision = decode_header_revision(r.bytes());
      break;
    case 2:
      result.kvs.push_back(decode_kv(r.bytes()));
      break;
    case 3:
      result.more = r.boolean();
      break;
    case 4:
      result.count = r.int64();
      break;
    default:
      r.skip();
    }
  }
  return result;
}

std::string grpc_frame(std::string_view message) {
  std::string out;
  out.reserve(message.size() + 5);
  auto size = static_cast<std::uint32_t>(message.size());
  out.push_back('\0');
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((size >> shift) & 0xff));
  }
  out.append(message);
  return out;
}

std::string_view grpc_unframe(std::string_view body) {
  if (body.size() < 5) {
    throw Error(ErrorKind::data,
                fmt::format("etcd's gRPC answer has {} bytes, fewer than a message header; retry",
                            body.size()));
  }
  if (body[0] != '\0') {
    throw Error(ErrorKind::data, "etcd's gRPC answer is compressed, which herald did not ask for");
  }
  std::uint32_t size = 0;
  for (std::size_t i = 1; i < 5; ++i) {
    size = (size << 8) | static_cast<unsigned char>(body[i]);
  }
  if (size != body.size() - 5) {
    throw Error(ErrorKind::data,
                fmt::format("etcd's gRPC answer announces {} bytes but carries {}; retry", size,
                            body.size() - 5));
  }
  return body.substr(5);
}

std::optional<GrpcStatus>
grpc_status(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::optional<GrpcStatus> status;
  std::string message;
  for (const auto& [name, value] : headers) {
    if (name == "grpc-status") {
      int code = -1;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), code);
      // An unreadable status is still a failed call: gRPC's "unknown" (2).
      status = GrpcStatus{ec == std::errc() && end == value.data() + value.size() ? code : 2, {}};
    } else if (name == "grpc-message") {
      message = percent_decode(value);
    }
  }
  if (status) {
    status->message = std::move(message);
  }
  return status;
}

} // namespace herald::registry::etcd3
