#include "herald/core/name.hpp"

#include "herald/core/address.hpp"
#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"

#include <charconv>
#include <fmt/format.h>
#include <utility>

namespace herald {

namespace {

bool is_unit_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
         c == '-' || c == '_' || c == '.';
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

} // namespace

std::optional<std::string> name_part_problem(std::string_view part) {
  if (part.empty()) {
    return "is empty";
  }
  if (part.size() > k_max_name_part) {
    return fmt::format("is {} characters long; the limit is {}", part.size(), k_max_name_part);
  }
  for (char c : part) {
    if (!is_unit_char(c)) {
      return "may only use letters, digits, ':', '-', '_' and '.'";
    }
  }
  // Like a DNS label it starts with a letter or digit: '.' and '..' would climb out of the
  // registry prefix on etcd v2, and a leading '-' reads as a flag.
  if (!is_alnum(part.front())) {
    return "must start with a letter or a digit";
  }
  return std::nullopt;
}

namespace {

bool parse_port_number(std::string_view text, std::uint16_t& out) {
  if (text.empty() || text.size() > 5) {
    return false;
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value == 0 || value > 65535) {
    return false;
  }
  out = static_cast<std::uint16_t>(value);
  return true;
}

} // namespace

bool is_valid_app_name(std::string_view text) {
  return !name_part_problem(text).has_value();
}

std::optional<std::string> node_name_problem(std::string_view node) {
  if (auto problem = name_part_problem(node)) {
    return problem;
  }
  if (node.find(':') != std::string_view::npos) {
    return "holds ':', which separates the parts of the instance IDs it starts";
  }
  return std::nullopt;
}

InstanceName parse_instance_name(std::string_view text) {
  auto at = text.find('@');
  if (at == std::string_view::npos || text.find('@', at + 1) != std::string_view::npos) {
    throw Error(ErrorKind::usage,
                fmt::format("invalid instance '{}': expected APP@INSTANCE, such as web@1",
                            escape_control(text)));
  }
  std::string_view app = text.substr(0, at);
  std::string_view instance = text.substr(at + 1);
  for (auto [part, what] : {std::pair{app, "APP"}, std::pair{instance, "INSTANCE"}}) {
    if (auto problem = name_part_problem(part)) {
      throw Error(ErrorKind::usage,
                  fmt::format("invalid instance '{}': the {} part of APP@INSTANCE {} (e.g. web@1)",
                              escape_control(text), what, *problem));
    }
  }
  return InstanceName{std::string(app), std::string(instance)};
}

std::string HostPort::str() const {
  if (host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", host, port);
  }
  return fmt::format("{}:{}", host, port);
}

std::uint16_t parse_port(std::string_view text, std::string_view what) {
  std::uint16_t port = 0;
  if (!parse_port_number(text, port)) {
    throw Error(ErrorKind::usage,
                fmt::format("invalid port '{}' for {}: use a number from 1 to 65535", text, what));
  }
  return port;
}

bool try_parse_host_port(std::string_view text, HostPort& out) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (host.find(':') == std::string_view::npos) {
      return false; // brackets hold an IPv6 literal, never a name: "[zz]:80"
    }
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return false;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return false; // an unbracketed IPv6 address is ambiguous
    }
  }
  if (!is_valid_host(host)) {
    return false;
  }
  std::uint16_t p = 0;
  if (!parse_port_number(port, p)) {
    return false;
  }
  out.host = std::string(host);
  out.port = p;
  return true;
}

HostPort parse_host_port(std::string_view text, std::string_view what) {
  HostPort hp;
  if (!try_parse_host_port(text, hp)) {
    throw Error(ErrorKind::usage,
                fmt::format("invalid address '{}' for {}: expected HOST:PORT with an IP address "
                            "or a DNS name and a port 1-65535, such as 10.0.0.5:3000 (IPv6 as "
                            "[::1]:3000)",
                            escape_control(text), what));
  }
  return hp;
}

} // namespace herald
