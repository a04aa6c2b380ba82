#include "herald/docker/api_version.hpp"

#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"

#include <algorithm>
#include <charconv>

namespace herald::docker {

std::string ApiVersion::str() const {
  return std::to_string(major) + "." + std::to_string(minor);
}

std::string ApiVersion::path_prefix() const {
  return "/v" + str();
}

namespace {

bool parse_int(std::string_view text, int& out) {
  if (text.empty()) {
    return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= 0;
}

} // namespace

ApiVersion parse_api_version(std::string_view text, std::string_view what) {
  std::string_view t = trim(text);
  if (!t.empty() && (t.front() == 'v' || t.front() == 'V')) {
    t.remove_prefix(1);
  }
  auto dot = t.find('.');
  ApiVersion version;
  if (dot == std::string_view::npos || !parse_int(t.substr(0, dot), version.major) ||
      !parse_int(t.substr(dot + 1), version.minor)) {
    throw Error(ErrorKind::config, std::string(what) + "='" + std::string(text) +
                                       "' is not a Docker API version: expected MAJOR.MINOR "
                                       "such as 1.41");
  }
  return version;
}

ApiVersion negotiate_api_version(ApiVersion daemon_max, std::string_view daemon) {
  if (daemon_max < k_min_api_version) {
    throw Error(ErrorKind::config,
                "the Docker daemon at " + std::string(daemon) + " speaks API " + daemon_max.str() +
                    ", older than " + k_min_api_version.str() +
                    ", the oldest herald supports: upgrade Docker (1.12 or newer)");
  }
  return std::min(k_max_api_version, daemon_max);
}

} // namespace herald::docker
