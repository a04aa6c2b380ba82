// Parsing a --registry URL into a Location: the scheme table and its endpoint rules. Opening the
// backend a Location names is open.cpp's.
#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/http/client.hpp"
#include "herald/registry/registry.hpp"

#include <array>
#include <cstdint>
#include <fmt/format.h>
#include <string>
#include <string_view>
#include <vector>

namespace herald::registry {

namespace {

/// One row of the scheme table: a --registry scheme and the backend behind it.
struct SchemeRow {
  std::string_view scheme;    ///< as written in the URL ("etcd+https")
  std::string_view backend;   ///< Location::scheme ("etcd")
  bool tls;                   ///< endpoints are https
  std::uint16_t default_port; ///< for an endpoint given without one
};

// No memory:// row: an in-process registry seen by nobody else would log "registered" and store
// nothing. Tests build one through registry::Opener's OpenFunction instead.
constexpr std::array<SchemeRow, 6> k_schemes{{
    {"etcd", "etcd", false, 2379},
    {"etcd+https", "etcd", true, 2379},
    {"etcd2", "etcd2", false, 2379},
    {"etcd2+https", "etcd2", true, 2379},
    {"consul", "consul", false, 8500},
    {"consul+https", "consul", true, 8500},
}};

std::vector<std::string> known_schemes() {
  std::vector<std::string> out;
  for (const auto& row : k_schemes) {
    out.emplace_back(row.scheme);
  }
  return out;
}

const SchemeRow* find_row(std::string_view scheme) {
  for (const auto& row : k_schemes) {
    if (row.scheme == scheme) {
      return &row;
    }
  }
  return nullptr;
}

std::string scheme_list() {
  std::string out;
  for (const auto& row : k_schemes) {
    out += fmt::format("{}{}://", out.empty() ? "" : ", ", row.scheme);
  }
  return out;
}

std::string did_you_mean(std::string_view word) {
  if (auto near = closest_match(word, known_schemes())) {
    return fmt::format(" (did you mean '{}'?)", *near);
  }
  return {};
}

[[noreturn]] void throw_unknown_scheme(std::string_view scheme) {
  throw Error(ErrorKind::config,
              fmt::format("unknown registry scheme '{}'{}: known schemes are {} (or a list of "
                          "http(s)://HOST:PORT endpoints, read as etcd v3)",
                          scheme, did_you_mean(scheme), scheme_list()));
}

[[noreturn]] void throw_missing_scheme(std::string_view text) {
  throw Error(ErrorKind::config,
              fmt::format("registry URL '{}' has neither a scheme nor a port{}: write "
                          "SCHEME://HOST:PORT with one of {}",
                          http::redact_url(text), did_you_mean(text), scheme_list()));
}

// True when `entry` names its port ("h:2379", "[::1]:2379") rather than only a host.
bool has_port(std::string_view entry) {
  if (entry.starts_with("[")) {
    auto close = entry.find(']');
    return close != std::string_view::npos && close + 1 < entry.size();
  }
  auto authority = entry.substr(0, entry.find('/'));
  return authority.find(':') != std::string_view::npos;
}

std::vector<http::Endpoint> parse_scheme_endpoints(std::string_view list, const SchemeRow& row) {
  std::vector<http::Endpoint> out;
  for (const auto& raw : split(list, ',')) {
    std::string entry(trim(raw));
    if (entry.empty()) {
      throw Error(ErrorKind::config,
                  fmt::format("registry URL '{}://{}' has an empty endpoint: write "
                              "{}://HOST:PORT[,HOST:PORT...]",
                              row.scheme, http::redact_url(list), row.scheme));
    }
    if (entry.find("://") != std::string::npos) {
      throw Error(
          ErrorKind::config,
          fmt::format("registry endpoint '{}' repeats a scheme: after {}:// write HOST:PORT "
                      "(use {}+https:// for TLS)",
                      http::redact_url(entry), row.scheme, row.backend));
    }
    if (entry.find('@') != std::string::npos) {
      // Never echo it: the text before '@' may be a password.
      throw Error(ErrorKind::config,
                  "credentials do not belong in the registry URL: pass --user and "
                  "--password-file (etcd) or --token-file (Consul)");
    }
    if (!has_port(entry)) {
      entry += ":" + std::to_string(row.default_port);
    }
    out.push_back(http::parse_endpoint((row.tls ? "https://" : "http://") + entry, "--registry"));
  }
  return out;
}

} // namespace

Location parse_location(std::string_view url) {
  std::string_view text = trim(url);
  if (text.empty()) {
    throw Error(ErrorKind::config,
                "the registry URL is empty: pass --registry etcd://HOST:PORT (or etcd2://, "
                "consul://)");
  }
  auto sep = text.find("://");
  std::string_view scheme =
      sep == std::string_view::npos ? std::string_view{} : text.substr(0, sep);

  // ETCDCTL_ENDPOINTS form: "http://h1:2379,https://h2:2379" or plain "h1:2379,h2:2379".
  if (sep == std::string_view::npos || scheme == "http" || scheme == "https") {
    Location location;
    location.scheme = "etcd";
    for (const auto& raw : split(text, ',')) {
      std::string_view entry = trim(raw);
      if (entry.find('@') != std::string_view::npos) {
        throw Error(ErrorKind::config,
                    "credentials do not belong in the registry URL: pass --user and "
                    "--password-file");
      }
      if (entry.find("://") == std::string_view::npos && !entry.empty() && !has_port(entry)) {
        throw_missing_scheme(entry);
      }
      location.endpoints.push_back(http::parse_endpoint(entry, "--registry"));
      location.tls = location.tls || location.endpoints.back().scheme == "https";
    }
    return location;
  }

  const SchemeRow* row = find_row(scheme);
  if (row == nullptr) {
    throw_unknown_scheme(scheme);
  }
  Location location;
  location.scheme = std::string(row->backend);
  location.tls = row->tls;
  std::string_view rest = text.substr(sep + 3);
  while (!rest.empty() && rest.back() == '/') {
    rest.remove_suffix(1);
  }
  if (rest.empty()) {
    throw Error(ErrorKind::config,
                fmt::format("registry URL '{}' names no endpoint: write {}://HOST:PORT",
                            http::redact_url(text), row->scheme));
  }
  location.endpoints = parse_scheme_endpoints(rest, *row);
  return location;
}

} // namespace herald::registry
