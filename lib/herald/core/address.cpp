#include "herald/core/address.hpp"

#include "herald/core/utf8.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

namespace herald {

namespace {

bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_ldh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_ascii_digit(c) || c == '-';
}

/// Characters a router config (nginx, haproxy) reads as syntax when a template emits a value
/// unquoted: statement ends, blocks, comments, quotes, variables and escapes.
bool is_config_syntax(char c) {
  switch (c) {
  case ';':
  case '{':
  case '}':
  case '#':
  case '"':
  case '\'':
  case '`':
  case '$':
  case '\\':
    return true;
  default:
    return false;
  }
}

bool is_ipv4_literal(std::string_view host) {
  // Digits and dots only, first: inet_pton reads a C string, so "10.0.0.9\0:80" would pass as
  // its part before the NUL.
  for (char c : host) {
    if (!is_ascii_digit(c) && c != '.') {
      return false;
    }
  }
  // inet_pton accepts exactly the dotted quad (no octal, no short forms).
  std::string text(host);
  unsigned char buf[4];
  return inet_pton(AF_INET, text.c_str(), buf) == 1;
}

bool is_ipv6_literal(std::string_view host) {
  for (char c : host) {
    if (!(is_ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
          c == '.')) {
      return false; // rules out zones ("%eth0"), which no router config takes
    }
  }
  std::string text(host);
  unsigned char buf[16];
  return inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

bool is_dns_name(std::string_view host) {
  if (host.empty() || host.size() > k_max_host_name) {
    return false;
  }
  std::size_t start = 0;
  bool last_all_digits = false;
  while (start <= host.size()) {
    auto dot = host.find('.', start);
    std::string_view label =
        host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    last_all_digits = true;
    for (char c : label) {
      if (!is_ldh(c)) {
        return false;
      }
      last_all_digits = last_all_digits && is_ascii_digit(c);
    }
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  // "10.0.0.999" is neither an IP nor a name: a top-level label is never all digits.
  return !last_all_digits;
}

/// Why `text` holds a control character or is not valid UTF-8; nullopt when it is clean.
std::optional<std::string> control_problem(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    char32_t code = 0;
    std::size_t len = utf8_decode(text, i, code);
    if (len == 0) {
      return fmt::format("byte {} is not valid UTF-8", i + 1);
    }
    if (code < 0x20 || code == 0x7f || (code >= 0x80 && code <= 0x9f)) {
      return fmt::format("it holds the control character U+{:04X}", static_cast<unsigned>(code));
    }
    if (is_invisible(code)) {
      return fmt::format("it holds the invisible character U+{:04X}", static_cast<unsigned>(code));
    }
    i += len;
  }
  return std::nullopt;
}

std::optional<std::string> token_problem(std::string_view text, std::string_view what) {
  if (text.empty()) {
    return fmt::format("an empty {}", what);
  }
  if (text.size() > k_max_label_text) {
    return fmt::format("a {} of {} bytes (at most {})", what, text.size(), k_max_label_text);
  }
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return fmt::format("a {} with the control character \\x{:02x}", what, u);
    }
    if (u >= 0x80) {
      return fmt::format("a {} with a non-ASCII byte", what);
    }
    if (c == ' ') {
      return fmt::format("a {} with a space", what);
    }
    if (is_config_syntax(c)) {
      return fmt::format("a {} with '{}', which a router config reads as syntax", what, c);
    }
  }
  return std::nullopt;
}

} // namespace

bool is_valid_host(std::string_view host) {
  if (host.empty()) {
    return false;
  }
  if (host.find(':') != std::string_view::npos) {
    return is_ipv6_literal(host);
  }
  return is_ipv4_literal(host) || is_dns_name(host);
}

std::optional<std::string> tag_problem(std::string_view tag) {
  return token_problem(tag, "tag");
}

std::optional<std::string> meta_key_problem(std::string_view key) {
  return token_problem(key, "meta key");
}

std::optional<std::string> meta_value_problem(std::string_view value) {
  if (value.size() > k_max_label_text) {
    return fmt::format("a meta value of {} bytes (at most {})", value.size(), k_max_label_text);
  }
  if (auto problem = control_problem(value)) {
    return fmt::format("a meta value where {}", *problem);
  }
  for (char c : value) {
    if (is_config_syntax(c)) {
      return fmt::format("a meta value with '{}', which a router config reads as syntax", c);
    }
  }
  return std::nullopt;
}

std::optional<std::string> key_text_problem(std::string_view text) {
  return control_problem(text);
}

} // namespace herald
