#pragma once

#include "herald/core/name.hpp"

#include <functional>
#include <optional>
#include <string>

namespace herald::announce {

/// Reads an environment variable (non-empty values only); replaceable in tests.
using EnvLookup = std::function<std::optional<std::string>(const char*)>;

/// The process environment (non-empty values only).
EnvLookup process_env();

/// The address flags of `announce`, as typed (empty = not given).
struct AddressInput {
  std::string addr; ///< --addr HOST:PORT
  std::string host; ///< --host HOST
  std::string port; ///< --port PORT
};

/// Where /etc/environment is read from: HERALD_ENVIRONMENT_FILE when set (tests), else
/// "/etc/environment".
std::string environment_file(const EnvLookup& env);

/// The address an instance is announced at. In order: --addr; else --port with the host from
/// --host, then COREOS_PRIVATE_IPV4 in the environment, then COREOS_PRIVATE_IPV4 in
/// /etc/environment (see environment_file). --addr with --host/--port, a malformed address or
/// port, or no port at all is Error(usage); a port without any host is Error(config) naming the
/// instance and what to pass.
HostPort resolve_address(const AddressInput& input, const InstanceName& name,
                         const EnvLookup& env = process_env());

} // namespace herald::announce
