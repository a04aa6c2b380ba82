#include "herald/docker/ports.hpp"

#include "herald/core/error.hpp"

#include <charconv>
#include <fmt/format.h>
#include <limits>

namespace herald::docker {

std::string HostAddress::str() const {
  if (host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", host, port);
  }
  return fmt::format("{}:{}", host, port);
}

bool is_wildcard_address(std::string_view host_ip) {
  return host_ip.empty() || host_ip == "0.0.0.0" || host_ip == "::";
}

namespace {

bool is_ipv6(std::string_view host_ip) {
  return host_ip.find(':') != std::string_view::npos;
}

/// Lower is better: a concrete IPv4 address, then IPv4 wildcards (and ""), then a concrete
/// IPv6 address, then "::". Docker lists 0.0.0.0 and :: for one `-p 3000`; both lead to the same
/// port, but IPv4 is what routers and other nodes reach.
int rank(std::string_view host_ip) {
  bool wildcard = is_wildcard_address(host_ip);
  if (is_ipv6(host_ip)) {
    return wildcard ? 3 : 2;
  }
  return wildcard ? 1 : 0;
}

std::uint16_t parse_host_port(const PortBinding& binding, const Container& container,
                              std::string_view port) {
  unsigned value = 0;
  const std::string& text = binding.host_port;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 ||
      value > std::numeric_limits<std::uint16_t>::max()) {
    throw Error(ErrorKind::data,
                fmt::format("container '{}' publishes {} on host port '{}', which is not a port "
                            "number",
                            container.name, port, text));
  }
  return static_cast<std::uint16_t>(value);
}

} // namespace

HostAddress published_address(const Container& container, std::string_view container_port,
                              std::string_view node_address) {
  std::string port = normalize_container_port(container_port, "container port");
  const std::string& name = container.name.empty() ? container.id : container.name;
  if (!container.running) {
    throw Error(ErrorKind::temporary,
                fmt::format("container '{}' is not running ({}): its published ports are known "
                            "only while it runs",
                            name, container.status.empty() ? "stopped" : container.status));
  }
  auto need_node_address = [&](std::string_view why) {
    if (node_address.empty()) {
      throw Error(ErrorKind::config,
                  fmt::format("container '{}' {}, so herald needs this node's address: set "
                              "COREOS_PRIVATE_IPV4 or pass the node address",
                              name, why));
    }
  };

  if (container.network_mode == "host") {
    need_node_address("uses host networking");
    auto slash = port.find('/');
    return HostAddress{std::string(node_address),
                       static_cast<std::uint16_t>(std::stoul(port.substr(0, slash)))};
  }

  auto it = container.ports.find(port);
  if (it == container.ports.end() || it->second.empty()) {
    auto slash = port.find('/');
    throw Error(ErrorKind::data,
                fmt::format("container '{}' does not publish port {}: run it with -p {} or pass "
                            "--container-port",
                            name, port, port.substr(0, slash)));
  }
  const PortBinding* best = nullptr;
  for (const auto& binding : it->second) {
    if (best == nullptr || rank(binding.host_ip) < rank(best->host_ip)) {
      best = &binding;
    }
  }
  std::uint16_t host_port = parse_host_port(*best, container, port);
  if (is_wildcard_address(best->host_ip)) {
    need_node_address(fmt::format("publishes {} on every interface", port));
    return HostAddress{std::string(node_address), host_port};
  }
  return HostAddress{best->host_ip, host_port};
}

} // namespace herald::docker
