#include "herald/announce/registration.hpp"

#include "herald/core/address.hpp"
#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <utility>

namespace herald::announce {

std::string resolve_key(const KeyInput& input, const InstanceName& name) {
  for (const auto& [flag, text] :
       {std::pair{"--key", &input.key_template}, std::pair{"--prefix", &input.prefix}}) {
    if (auto problem = key_text_problem(*text)) {
      throw Error(ErrorKind::usage, fmt::format("invalid {} '{}': {}; registry keys hold no "
                                                "control characters",
                                                flag, escape_control(*text), *problem));
    }
  }
  if (!input.key_template.empty()) {
    return registry::expand_key_template(input.key_template, name);
  }
  if (input.prefix.empty() || input.prefix.front() != '/') {
    throw Error(ErrorKind::usage,
                fmt::format("invalid --prefix '{}': a prefix must start with '/', such as {}",
                            input.prefix, registry::k_default_prefix));
  }
  return registry::instance_key(input.prefix, name);
}

std::map<std::string, std::string> parse_meta(const std::vector<std::string>& items) {
  std::map<std::string, std::string> meta;
  for (const auto& item : items) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error(
          ErrorKind::usage,
          fmt::format("invalid --meta '{}': write KEY=VALUE, such as --meta version=1.4", item));
    }
    std::string key = item.substr(0, eq);
    std::string value = item.substr(eq + 1);
    auto problem = meta_key_problem(key);
    if (!problem) {
      problem = meta_value_problem(value);
    }
    if (problem) {
      throw Error(ErrorKind::usage,
                  fmt::format("invalid --meta '{}': {}; meta keys are printable ASCII without "
                              "spaces, values have no control characters, and neither holds "
                              "; {{ }} # \" ' ` $ \\",
                              escape_control(item), *problem));
    }
    meta[std::move(key)] = std::move(value);
  }
  return meta;
}

void check_tags(const std::vector<std::string>& tags) {
  for (const auto& tag : tags) {
    if (auto problem = tag_problem(tag)) {
      throw Error(ErrorKind::usage,
                  fmt::format("invalid --tag '{}': {}; tags are printable ASCII without spaces "
                              "and without ; {{ }} # \" ' ` $ \\",
                              escape_control(tag), *problem));
    }
  }
}

Timing resolve_timing(std::string_view ttl_text, std::string_view refresh_text, bool keep_alive) {
  auto ttl = parse_duration(ttl_text, "--ttl");
  if (ttl.count() % 1000 != 0 || ttl < std::chrono::seconds(1)) {
    throw Error(ErrorKind::usage,
                fmt::format("invalid --ttl '{}': etcd TTLs are whole seconds; use 1s or more, "
                            "such as 60s",
                            ttl_text));
  }
  if (ttl > k_max_ttl) {
    throw Error(ErrorKind::usage,
                fmt::format("--ttl {} is longer than the limit of {} (10 years): etcd v2 would "
                            "keep such a key forever and Consul cannot express it",
                            ttl_text, format_duration(k_max_ttl)));
  }
  Timing timing;
  timing.ttl = std::chrono::duration_cast<std::chrono::seconds>(ttl);
  if (refresh_text.empty()) {
    timing.refresh = std::max<std::chrono::milliseconds>(ttl / 3, k_min_refresh);
    if (keep_alive && timing.refresh >= ttl) {
      throw Error(ErrorKind::usage,
                  fmt::format("--ttl {} is too short to keep alive: refreshes are at least {} "
                              "apart; use --ttl {} or more (or --once)",
                              ttl_text, format_duration(k_min_refresh),
                              format_duration(3 * k_min_refresh)));
    }
    return timing;
  }
  timing.refresh = parse_duration(refresh_text, "--refresh");
  if (timing.refresh < k_min_refresh) {
    throw Error(ErrorKind::usage,
                fmt::format("--refresh {} is below the floor of {}: every refresh is a registry "
                            "write (an etcd proposal); refresh every {} or more, such as a third "
                            "of --ttl",
                            refresh_text, format_duration(k_min_refresh),
                            format_duration(k_min_refresh)));
  }
  if (timing.refresh >= ttl) {
    throw Error(ErrorKind::usage,
                fmt::format("--refresh {} is not shorter than --ttl {}: the key would expire "
                            "between refreshes; refresh at most every {} (a third of the TTL) or "
                            "raise --ttl",
                            refresh_text, ttl_text, format_duration(ttl / 3)));
  }
  return timing;
}

registry::Registration make_registration(const InstanceName& name, std::string key,
                                         const HostPort& address, registry::ValueFormat format,
                                         std::vector<std::string> tags,
                                         std::map<std::string, std::string> meta,
                                         std::chrono::seconds ttl) {
  registry::Registration reg;
  reg.name = name;
  reg.key = std::move(key);
  reg.value = registry::encode_value(format, address, tags, meta);
  reg.address = address;
  reg.tags = std::move(tags);
  reg.meta = std::move(meta);
  reg.ttl = ttl;
  return reg;
}

} // namespace herald::announce
