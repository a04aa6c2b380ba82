#pragma once

#include "herald/core/error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace herald::docker {

/// The Error for a non-2xx Docker response, carrying Docker's own `message`. "No such container"
/// is Error(not_found) "no such container 'x'" (`container` names what the caller asked for),
/// "No such image" is Error(not_found) with a hint that create never pulls, "client version ...
/// is too old/new" is Error(config); otherwise "docker: METHOD PATH: HTTP STATUS: message" with
/// the kind by status (401/403 config, 404 not_found, 408/429/5xx temporary, other 4xx data).
Error response_error(std::string_view method, std::string_view path, long status,
                     std::string_view body, std::string_view container = {});

/// Why the unix socket at `path` cannot be used, found by trying it: missing or refused ->
/// Error(unavailable) "the Docker daemon is not running", permission denied -> Error(config) with
/// the docker-group hint, not a socket -> Error(config). nullopt when a connection succeeds.
std::optional<Error> unix_socket_problem(const std::string& path);

} // namespace herald::docker
