#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace herald {

/// Standard base64 (RFC 4648 section 4: '+', '/' and '=' padding), as etcd's gateway, Consul's
/// KV API, HTTP basic auth and Go's base64.StdEncoding write it.
std::string base64_encode(std::string_view bytes);

/// How base64_decode reads its input. Both skip '\r' and '\n' and reject anything after the
/// padding, as Go does.
enum class Base64Decoding {
  /// Go's base64.StdEncoding.DecodeString: the last group must be padded (confd's base64Decode).
  go_std,
  /// Padding optional and the URL-safe '-' and '_' read as '+' and '/': what an API sends, read
  /// forgivingly (etcd's gateway, Consul's KV values).
  lenient
};

/// What base64_decode made of its input.
struct Base64Decoded {
  std::string bytes; ///< the decoded bytes; empty when the input is corrupt
  /// The offset of the first byte that is not base64 where it stands, as Go's CorruptInputError
  /// counts it ("illegal base64 data at input byte N"); nullopt when the input is valid.
  std::optional<std::size_t> bad_byte;

  /// True when the input was valid base64.
  explicit operator bool() const { return !bad_byte.has_value(); }
};

/// Decodes `text`; never throws, so each caller says in its own words what was corrupt.
Base64Decoded base64_decode(std::string_view text,
                            Base64Decoding decoding = Base64Decoding::lenient);

} // namespace herald
