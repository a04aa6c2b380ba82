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

/// Parses repeated --meta KEY=VALUE items; a missing '=' or an empty KEY is Error(usage). The last
/// value of a repeated KEY wins.
std::map<std::string, std::string> parse_meta(const std::vector<std::string>& items);

/// The TTL and refresh period of a registration.
struct Timing {
  std::chrono::seconds ttl{60};
  std::chrono::milliseconds refresh{20000};
};

/// Parses --ttl (whole seconds, at least 1: etcd TTLs are seconds) and --refresh ("" = a third of
/// the TTL). A refresh not shorter than the TTL is Error(usage) naming both values.
Timing resolve_timing(std::string_view ttl, std::string_view refresh);

/// What announce keeps registered: key, value in `format`, address, tags, meta and TTL.
registry::Registration make_registration(const InstanceName& name, std::string key,
                                         const HostPort& address, registry::ValueFormat format,
                                         std::vector<std::string> tags,
                                         std::map<std::string, std::string> meta,
                                         std::chrono::seconds ttl);

} // namespace herald::announce
