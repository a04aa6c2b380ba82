#pragma once

#include "herald/docker/model.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace herald::docker {

/// Where a container's port is reachable from other nodes.
struct HostAddress {
  std::string host; ///< IPv4, IPv6 (without brackets) or a name
  std::uint16_t port = 0;

  /// "10.0.0.5:32768", "[fd00::5]:32768"
  std::string str() const;
};

/// True for the host addresses that mean "every interface": "0.0.0.0", "::" and "".
bool is_wildcard_address(std::string_view host_ip);

/// The host address and port `container` publishes for `container_port` ("3000", "3000/tcp").
/// A binding on every interface (0.0.0.0, ::, "") stands for `node_address`, the node's own
/// address the caller found; a concrete HostIp is used as it is. Among several bindings a
/// concrete address beats a wildcard and IPv4 beats IPv6. With host networking the container
/// port is the host port. A container that is not running is Error(temporary); one that does
/// not publish the port is Error(data) naming the container and the port; a wildcard binding
/// with an empty `node_address` is Error(config).
HostAddress published_address(const Container& container, std::string_view container_port,
                              std::string_view node_address);

} // namespace herald::docker
