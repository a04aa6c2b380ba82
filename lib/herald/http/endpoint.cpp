#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/http/client.hpp"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <string>
#include <string_view>

namespace herald::http {

namespace {

constexpr std::string_view k_expected_forms =
    "expected http://HOST:PORT, https://HOST:PORT, HOST:PORT or unix:///PATH";

[[noreturn]] void throw_bad_endpoint(std::string_view text, std::string_view what,
                                     std::string_view reason) {
  throw Error(ErrorKind::config, fmt::format("{}: invalid endpoint '{}': {}; {}", what,
                                             redact_url(text), reason, k_expected_forms));
}

std::uint16_t parse_port(std::string_view digits, std::string_view text, std::string_view what) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || value == 0 ||
      value > 65535) {
    throw_bad_endpoint(text, what, fmt::format("'{}' is not a port number (1-65535)", digits));
  }
  return static_cast<std::uint16_t>(value);
}

bool has_space_or_control(std::string_view text) {
  for (unsigned char c : text) {
    if (c <= ' ' || c == 0x7f) {
      return true;
    }
  }
  return false;
}

} // namespace

std::string url_encode(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(k_hex[c >> 4]);
      out.push_back(k_hex[c & 0x0F]);
    }
  }
  return out;
}

std::string redact_url(std::string_view url) {
  std::string out(url);
  if (auto cut = out.find_first_of("?#"); cut != std::string::npos) {
    out = out.substr(0, cut + 1) + "***";
  }
  std::size_t authority = out.find("://");
  authority = authority == std::string::npos ? 0 : authority + 3;
  // User info ends at the last '@' of the authority; an '@' in the path (web@1) is not one.
  std::size_t authority_end = std::min(out.find('/', authority), out.size());
  std::string_view host_part = std::string_view(out).substr(authority, authority_end - authority);
  if (auto at = host_part.rfind('@'); at != std::string_view::npos) {
    out = out.substr(0, authority) + "***" + out.substr(authority + at);
  }
  return escape_control(out);
}

std::string Endpoint::str() const {
  if (!unix_socket.empty()) {
    // "unix:///abs/path" for absolute paths, "unix:rel/path" otherwise, so str() parses back.
    return unix_socket.front() == '/' ? "unix://" + unix_socket : "unix:" + unix_socket;
  }
  if (host.find(':') != std::string::npos) {
    return fmt::format("{}://[{}]:{}", scheme, host, port);
  }
  return fmt::format("{}://{}:{}", scheme, host, port);
}

Endpoint parse_endpoint(std::string_view text, std::string_view what) {
  if (text.empty()) {
    throw_bad_endpoint(text, what, "it is empty");
  }
  if (has_space_or_control(text)) {
    throw_bad_endpoint(text, what, "it contains whitespace");
  }

  Endpoint endpoint;
  if (text.starts_with("unix:")) {
    std::string_view path = text.substr(5);
    if (path.starts_with("//")) {
      path.remove_prefix(2);
      if (!path.starts_with("/")) {
        throw_bad_endpoint(text, what, "a unix:// socket path must be absolute (unix:///PATH)");
      }
    }
    if (path.empty()) {
      throw_bad_endpoint(text, what, "the socket path is missing");
    }
    endpoint.scheme = "http";
    endpoint.unix_socket = std::string(path);
    return endpoint;
  }

  std::string_view rest = text;
  bool explicit_scheme = false;
  if (auto sep = rest.find("://"); sep != std::string_view::npos) {
    std::string_view scheme = rest.substr(0, sep);
    if (scheme == "http" || scheme == "tcp") {
      // tcp:// is how DOCKER_HOST and fleet spell a plain HTTP endpoint.
      endpoint.scheme = "http";
    } else if (scheme == "https") {
      endpoint.scheme = "https";
    } else {
      throw_bad_endpoint(
          text, what, fmt::format("unknown scheme '{}' (known: http, https, tcp, unix)", scheme));
    }
    rest.remove_prefix(sep + 3);
    explicit_scheme = true;
  }

  // Split off a base path ("http://h:2375/v1.41"); queries and fragments have no meaning here.
  std::string_view authority = rest;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (!explicit_scheme) {
      throw_bad_endpoint(text, what, "a path needs a scheme (http://HOST:PORT/PATH)");
    }
    authority = rest.substr(0, slash);
    std::string_view path = rest.substr(slash);
    while (!path.empty() && path.back() == '/') {
      path.remove_suffix(1);
    }
    endpoint.base_path = std::string(path);
  }
  if (authority.find_first_of("?#@") != std::string_view::npos ||
      endpoint.base_path.find_first_of("?#") != std::string::npos) {
    throw_bad_endpoint(text, what, "credentials, queries and fragments are not allowed here");
  }

  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with("[")) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      throw_bad_endpoint(text, what, "'[' without a closing ']'");
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        throw_bad_endpoint(text, what, "expected ':PORT' after ']'");
      }
      port = after.substr(1);
      has_port = true;
    }
    if (host.find(':') == std::string_view::npos) {
      throw_bad_endpoint(text, what, "brackets are only for IPv6 addresses");
    }
  } else {
    auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      if (authority.find(':') != colon) {
        throw_bad_endpoint(text, what, "an IPv6 address must be in brackets ([::1]:2379)");
      }
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      has_port = true;
    } else {
      host = authority;
    }
  }

  if (host.empty()) {
    throw_bad_endpoint(text, what, "the host is missing");
  }
  endpoint.host = std::string(host);
  if (has_port) {
    endpoint.port = parse_port(port, text, what);
  } else if (explicit_scheme) {
    endpoint.port = endpoint.scheme == "https" ? 443 : 80;
  } else {
    throw_bad_endpoint(text, what, "the port is missing");
  }
  return endpoint;
}

} // namespace herald::http
