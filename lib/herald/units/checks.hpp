#pragma once

// The rules a value must follow before it reaches a unit (unit gen) or a cluster file's model:
// each returns the expected form, worded to follow "invalid <what> \"<value>\": ", or nullopt
// when the value is fine.

#include <optional>
#include <string>
#include <string_view>

namespace herald::units {

/// An app name: a DNS label of lower-case letters, digits and '-' (at most 63), because it
/// reaches unit names, container names, registry keys and host names.
std::optional<std::string> app_name_problem(std::string_view app);

/// A Docker image reference: [REGISTRY[:PORT]/]NAME[:TAG][@DIGEST] as the distribution
/// reference grammar has it (lower-case path components, a tag of at most 128 word characters,
/// dots and dashes, a digest ALGORITHM:HEX).
std::optional<std::string> image_problem(std::string_view image);

/// A DNS name such as example.com (labels of letters, digits and '-', at most 253 in all).
std::optional<std::string> dns_name_problem(std::string_view name);

/// An absolute URL path of unreserved characters ("/shop"); with `query`, also ?=& ("/status?x=1").
std::optional<std::string> url_path_problem(std::string_view path, bool query);

/// An absolute path on the machines (a binary, a template) of letters, digits and ._/-+.
std::optional<std::string> host_path_problem(std::string_view path);

/// An X-Fleet MachineMetadata item: KEY=VALUE of letters, digits and ._-:/.
std::optional<std::string> metadata_problem(std::string_view item);

/// The address Docker publishes on: an IP literal or ${VARIABLE}.
std::optional<std::string> host_ip_problem(std::string_view ip);

/// A router's name: a unit name without its ".service" and without '@' ("herald-router"), which
/// also names NAME-render.service.
std::optional<std::string> router_name_problem(std::string_view name);

/// A router's listen address: a port or ADDRESS:PORT ("80", "*:80", "127.0.0.1:8080", "[::]:80").
std::optional<std::string> listen_problem(std::string_view listen);

} // namespace herald::units
