#pragma once

#include <cstdint>
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

/// Parses "APP@INSTANCE". Both parts are non-empty and use the characters systemd allows in unit
/// names (letters, digits, ':', '-', '_', '.'); anything else throws Error(usage) naming the text.
InstanceName parse_instance_name(std::string_view text);

/// True when `text` is a valid app name (the APP part alone).
bool is_valid_app_name(std::string_view text);

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

/// Parses "HOST:PORT" or "[V6]:PORT"; throws Error(usage) naming `what` when malformed.
HostPort parse_host_port(std::string_view text, std::string_view what);

/// Like parse_host_port but returns false instead of throwing (for reading registry values).
bool try_parse_host_port(std::string_view text, HostPort& out);

} // namespace herald
