#pragma once

#include "herald/core/name.hpp"
#include "herald/registry/layout.hpp"
#include "herald/registry/registry.hpp"

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace herald::announce {

/// Where an instance's key goes: --prefix, or a --key template that replaces the whole key.
struct KeyInput {
  std::string prefix{registry::k_default_prefix}; ///< --prefix
  std::string key_template;                       ///< --key, "" = {prefix}/{app}/{app}@{instance}
};

/// The key of `name`: the --key template expanded, else {prefix}/{app}/{app}@{instance}. A
/// prefix that does not start with '/' is Error(usage).
std::string resolve_key(const KeyInput& input, const InstanceName& name);

/// Parses repeated --meta KEY=VALUE items; a missing '=', an empty KEY, or a KEY or VALUE that
/// fails the trust model's rule (meta_key_problem, meta_value_problem) is Error(usage). The last
/// value of a repeated KEY wins.
std::map<std::string, std::string> parse_meta(const std::vector<std::string>& items);

/// Refuses (Error(usage), naming --tag) a tag that fails tag_problem: control characters, spaces,
/// non-ASCII or router-config syntax.
void check_tags(const std::vector<std::string>& tags);

/// The TTL and refresh period of a registration.
struct Timing {
  std::chrono::seconds ttl{60};
  std::chrono::milliseconds refresh{20000};
};

/// The longest --ttl: well below where a backend overflows (etcd v2 stores a TTL that ends after
/// 2262 as no expiry at all; Consul deregisters after ten TTLs, which must fit Go's durations).
inline constexpr std::chrono::seconds k_max_ttl = std::chrono::hours(24 * 365 * 10);

/// The shortest refresh period: each refresh is a registry write (an etcd Raft proposal).
inline constexpr std::chrono::milliseconds k_min_refresh = std::chrono::seconds(1);

/// Parses --ttl (whole seconds, 1s to k_max_ttl: etcd TTLs are seconds) and --refresh ("" = a
/// third of the TTL, at least k_min_refresh). A refresh below k_min_refresh or not shorter than
/// the TTL is Error(usage) naming the values; so is a TTL too short to keep alive when
/// `keep_alive` (not --once).
Timing resolve_timing(std::string_view ttl, std::string_view refresh, bool keep_alive = true);

/// What announce keeps registered: key, value in `format`, address, tags, meta and TTL.
registry::Registration make_registration(const InstanceName& name, std::string key,
                                         const HostPort& address, registry::ValueFormat format,
                                         std::vector<std::string> tags,
                                         std::map<std::string, std::string> meta,
                                         std::chrono::seconds ttl);

} // namespace herald::announce
