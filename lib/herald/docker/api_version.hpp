#pragma once

#include <compare>
#include <string>
#include <string_view>

namespace herald::docker {

/// A Docker Engine API version, "1.41".
struct ApiVersion {
  int major = 1;
  int minor = 0;

  /// "1.41"
  std::string str() const;
  /// "/v1.41", the prefix of every versioned request path.
  std::string path_prefix() const;

  auto operator<=>(const ApiVersion&) const = default;
};

/// The oldest API herald speaks: 1.24 (Docker 1.12) is the first with healthchecks, and typed
/// events (Type/Action/Actor) and JSON filters predate it.
inline constexpr ApiVersion k_min_api_version{1, 24};

/// The newest API herald speaks. Every daemon since 20.10 accepts it or negotiates down, and
/// Docker 29.0-29.2 refuse anything below 1.44, so it must stay above that.
inline constexpr ApiVersion k_max_api_version{1, 51};

/// Parses "1.41" (also "v1.41"); malformed text throws Error(config) naming `what` (the
/// variable or header the text came from).
ApiVersion parse_api_version(std::string_view text, std::string_view what);

/// The version to use with a daemon whose newest API is `daemon_max` (its Api-Version header):
/// min(k_max_api_version, daemon_max). A daemon older than k_min_api_version is Error(config)
/// naming both versions and `daemon` (where it listens).
ApiVersion negotiate_api_version(ApiVersion daemon_max, std::string_view daemon);

} // namespace herald::docker
