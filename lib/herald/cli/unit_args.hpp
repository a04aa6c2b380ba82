#pragma once

#include "herald/fleet/lifecycle.hpp"

#include <string>
#include <vector>

namespace herald::cli {

/// The units named by UNIT_OR_FILE arguments, as fleetctl reads them: the unit name is the
/// argument's base name (".service" added when it has no unit type: web@1 -> web@1.service).
/// With `files`, an argument that is a file is read as a unit file (units/ parses it as systemd
/// does) and sent with its options; for an instance without a file, a template file beside the
/// argument (./web@.service for web@1) is read too, for when fleet has no template. A name fleet
/// would refuse is Error(usage), a file that cannot be read or parsed Error(data) naming
/// file:line; repeated units are taken once.
std::vector<fleet::UnitRequest> unit_requests(const std::vector<std::string>& args, bool files);

} // namespace herald::cli
