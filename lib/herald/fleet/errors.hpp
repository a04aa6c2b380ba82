#pragma once

#include "herald/core/error.hpp"

#include <string_view>

namespace herald::fleet {

/// The Error for a fleet answer that is not 2xx, carrying fleet's own message:
/// "PUT unix:///var/run/fleet.sock/fleet/v1/units/x.service: HTTP 409 Conflict: unit does not
/// exist and options field empty". Kinds: 400 data, 404 not_found, 409 data (a conflict with
/// what fleet holds), 401/403 config, 405/415 internal (herald sent something fleet never
/// accepts), 503 unavailable (fleetd starting or cut off from etcd), other 5xx temporary (fleet
/// keeps their cause in its journal: the message says so).
Error response_error(std::string_view method, std::string_view where, long status,
                     std::string_view body);

} // namespace herald::fleet
