#include "herald/units/checks.hpp"

#include "herald/units/quote.hpp"
#include "herald/units/unit_name.hpp"

#include <algorithm>
#include <arpa/inet.h>

namespace herald::units {

namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_alnum(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

bool all_of(std::string_view text, auto&& allowed) {
  return std::all_of(text.begin(), text.end(), allowed);
}

/// distribution/reference's path-component: [a-z0-9]+ joined by '.', '_', "__" or runs of '-'.
bool is_path_component(std::string_view part) {
  if (part.empty() || !is_lower_alnum(part.front()) || !is_lower_alnum(part.back())) {
    return false;
  }
  for (std::size_t i = 0; i < part.size();) {
    if (is_lower_alnum(part[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < part.size() && !is_lower_alnum(part[end])) {
      ++end;
    }
    std::string_view sep = part.substr(i, end - i);
    bool ok =
        sep == "." || sep == "_" || sep == "__" || all_of(sep, [](char c) { return c == '-'; });
    if (!ok) {
      return false;
    }
    i = end;
  }
  return true;
}

/// A registry host: DNS-ish components, optionally ":PORT".
bool is_domain(std::string_view domain) {
  std::size_t colon = domain.rfind(':');
  if (colon != std::string_view::npos) {
    std::string_view port = domain.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !all_of(port, [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    domain = domain.substr(0, colon);
  }
  if (domain.empty()) {
    return false;
  }
  std::size_t start = 0;
  while (true) {
    std::size_t dot = domain.find('.', start);
    std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back()) ||
        !all_of(label, [](char c) { return is_alnum(c) || c == '-'; })) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

bool is_tag(std::string_view tag) {
  auto word = [](char c) { return is_alnum(c) || c == '_'; };
  return !tag.empty() && tag.size() <= 128 && word(tag.front()) &&
         all_of(tag, [&](char c) { return word(c) || c == '.' || c == '-'; });
}

bool is_digest(std::string_view digest) {
  std::size_t colon = digest.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  std::string_view algorithm = digest.substr(0, colon);
  std::string_view hex = digest.substr(colon + 1);
  return (algorithm.front() >= 'a' && algorithm.front() <= 'z') &&
         all_of(algorithm,
                [](char c) {
                  return is_lower_alnum(c) || c == '+' || c == '.' || c == '_' || c == '-';
                }) &&
         hex.size() >= 32 && all_of(hex, [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

bool is_image_reference(std::string_view image) {
  if (image.empty() || image.size() > 512) {
    return false;
  }
  std::string_view name = image;
  if (std::size_t at = name.find('@'); at != std::string_view::npos) {
    if (!is_digest(name.substr(at + 1))) {
      return false;
    }
    name = name.substr(0, at);
  }
  // A ':' after the last '/' starts the tag; one before it belongs to a registry's port.
  std::size_t slash = name.rfind('/');
  std::size_t colon = name.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    if (!is_tag(name.substr(colon + 1))) {
      return false;
    }
    name = name.substr(0, colon);
  }
  if (name.empty() || name.size() > 255) {
    return false;
  }
  std::size_t first_slash = name.find('/');
  if (first_slash != std::string_view::npos) {
    std::string_view first = name.substr(0, first_slash);
    // The first component is a registry when it looks like a host (docker's rule).
    bool domain =
        first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
        std::any_of(first.begin(), first.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    if (domain) {
      if (!is_domain(first)) {
        return false;
      }
      name = name.substr(first_slash + 1);
    }
  }
  std::size_t start = 0;
  while (true) {
    std::size_t next = name.find('/', start);
    if (!is_path_component(
            name.substr(start, next == std::string_view::npos ? next : next - start))) {
      return false;
    }
    if (next == std::string_view::npos) {
      return true;
    }
    start = next + 1;
  }
}

} // namespace

std::optional<std::string> app_name_problem(std::string_view app) {
  bool ok = !app.empty() && app.size() <= 63 && is_lower_alnum(app.front()) &&
            is_lower_alnum(app.back()) &&
            all_of(app, [](char c) { return is_lower_alnum(c) || c == '-'; });
  if (ok) {
    return std::nullopt;
  }
  return "use lower-case letters, digits and '-' (a DNS label: at most 63, starting and ending "
         "with a letter or digit)";
}

std::optional<std::string> image_problem(std::string_view image) {
  if (is_image_reference(image)) {
    return std::nullopt;
  }
  return "expected a Docker image reference such as nginx:1.25, "
         "registry.example.com:5000/team/web:v2 or busybox@sha256:HEX";
}

std::optional<std::string> dns_name_problem(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 253;
  std::size_t start = 0;
  while (ok && start <= name.size()) {
    std::size_t dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
    ok = !label.empty() && label.size() <= 63 && is_alnum(label.front()) &&
         is_alnum(label.back()) && all_of(label, [](char c) { return is_alnum(c) || c == '-'; });
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  if (ok) {
    return std::nullopt;
  }
  return "expected a DNS name such as example.com";
}

std::optional<std::string> url_path_problem(std::string_view path, bool query) {
  bool ok = path.starts_with('/') && path.size() <= 1024 &&
            path.find("//") == std::string_view::npos &&
            path.find("/../") == std::string_view::npos && !path.ends_with("/..") &&
            all_of(path, [&](char c) {
              return is_alnum(c) || c == '.' || c == '_' || c == '~' || c == '/' || c == '-' ||
                     (query && (c == '?' || c == '=' || c == '&'));
            });
  if (ok) {
    return std::nullopt;
  }
  return query ? "expected a path such as /health or /status?full=1 (letters, digits and "
                 "._~/- ?=&)"
               : "expected a path such as /shop (letters, digits and ._~/-)";
}

std::optional<std::string> host_path_problem(std::string_view path) {
  bool ok = path.starts_with('/') && path.size() <= 1024 && all_of(path, [](char c) {
              return is_alnum(c) || c == '.' || c == '_' || c == '/' || c == '-' || c == '+';
            });
  if (ok) {
    return std::nullopt;
  }
  return "expected an absolute path of letters, digits and ._/-+ such as /opt/bin/herald";
}

std::optional<std::string> metadata_problem(std::string_view item) {
  std::size_t equals = item.find('=');
  auto value_char = [](char c) {
    return is_alnum(c) || c == '.' || c == '_' || c == '-' || c == ':' || c == '/';
  };
  bool ok = equals != std::string_view::npos && equals > 0 && equals + 1 < item.size() &&
            all_of(item.substr(0, equals), value_char) &&
            all_of(item.substr(equals + 1), value_char);
  if (ok) {
    return std::nullopt;
  }
  return "expected KEY=VALUE such as role=web";
}

std::optional<std::string> host_ip_problem(std::string_view ip) {
  std::string text(ip);
  unsigned char buffer[16];
  bool literal = ::inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
                 ::inet_pton(AF_INET6, text.c_str(), buffer) == 1;
  bool variable = ip.starts_with("${") && ip.ends_with('}') &&
                  is_valid_environment_name(ip.substr(2, ip.size() - 3));
  if (literal || variable) {
    return std::nullopt;
  }
  return "expected an IP address or ${VARIABLE} (default ${COREOS_PRIVATE_IPV4})";
}

std::optional<std::string> router_name_problem(std::string_view name) {
  if (!name.empty() && is_valid_unit_name(std::string(name) + "-render.service") &&
      name.find('@') == std::string_view::npos) {
    return std::nullopt;
  }
  return "expected a unit name without its .service, such as herald-router";
}

std::optional<std::string> listen_problem(std::string_view listen) {
  bool ok = !listen.empty() && listen.size() <= 64 && is_alnum(listen.back()) &&
            all_of(listen, [](char c) {
              return is_alnum(c) || c == '.' || c == ':' || c == '*' || c == '[' || c == ']';
            });
  if (ok) {
    return std::nullopt;
  }
  return "expected a port or ADDRESS:PORT such as *:80";
}

} // namespace herald::units
