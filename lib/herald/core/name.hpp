#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald {

/// An instance of an app, as systemd names template instances: `APP@INSTANCE` (`%p@%i`).
struct InstanceName {
  std::string app;      ///< "web"
  std::string instance; ///< "1"

  /// "web@1"
  std::string str() const { return app + "@" + instance; }
  friend bool operator==(const InstanceName&, const InstanceName&) = default;
};

/// The longest APP or INSTANCE part, so that `APP@INSTANCE.service` stays within systemd's limit
/// on unit names for any name a user would pick.
inline constexpr std::size_t k_max_name_part = 200;

/// Why `part` is not a valid APP or INSTANCE part, or nullopt when it is. A part is DNS-label-like:
/// 1 to k_max_name_part characters systemd allows in unit names (letters, digits, ':', '-', '_',
/// '.'), starting with a letter or a digit (so never "." or "..", which would leave the registry
/// prefix as key path segments). The reason reads after "the APP part": "is 210 characters
/// long; the limit is 200".
std::optional<std::string> name_part_problem(std::string_view part);

/// Parses "APP@INSTANCE", each part valid by name_part_problem(); anything else throws
/// Error(usage) naming the (escaped) text and the reason.
InstanceName parse_instance_name(std::string_view text);

/// True when `text` is a valid app name (the APP part alone).
bool is_valid_app_name(std::string_view text);

/// Why `node` cannot name a registrator's node, or nullopt when it can: a valid name part
/// (name_part_problem) without ':', since it starts every instance ID it writes
/// (NODE:CONTAINER:PORT) and marks their owner.
std::optional<std::string> node_name_problem(std::string_view node);

/// A host and a TCP port. IPv6 hosts are kept without brackets.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;

  /// "10.0.0.5:3000", "[::1]:3000"
  std::string str() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

/// Parses a TCP port 1..65535; anything else throws Error(usage) naming `what`.
std::uint16_t parse_port(std::string_view text, std::string_view what);

/// Parses "HOST:PORT" or "[V6]:PORT", where HOST passes is_valid_host (core/address.hpp): an IP
/// literal or a DNS name, nothing else; throws Error(usage) naming `what` when malformed.
HostPort parse_host_port(std::string_view text, std::string_view what);

/// Like parse_host_port but returns false instead of throwing (for reading registry values).
bool try_parse_host_port(std::string_view text, HostPort& out);

} // namespace herald
