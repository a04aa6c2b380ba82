#pragma once

#include <string>
#include <string_view>

namespace herald {

/// The SHA-1 digest of `data` as 40 lowercase hex digits. Not for security: fleet identifies a
/// unit file by this hash (fleetctl list-unit-files, the `hash` of a unit state).
std::string sha1_hex(std::string_view data);

} // namespace herald
