// fleetctl's --endpoint list (connection.hpp), parsed apart from the connection so that code
// which only checks an endpoint (the cluster file) needs no HTTP client.
#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/fleet/connection.hpp"

#include <fmt/format.h>

namespace herald::fleet {

std::vector<http::Endpoint> parse_endpoints(std::string_view text, std::string_view source) {
  std::vector<http::Endpoint> out;
  for (const std::string& item : split(text, ',')) {
    std::string_view one = trim(item);
    if (one.empty()) {
      continue;
    }
    // fleetctl also takes a bare socket path.
    std::string spelled = one.starts_with("/") ? "unix://" + std::string(one) : std::string(one);
    out.push_back(http::parse_endpoint(spelled, source));
  }
  if (out.empty()) {
    throw Error(ErrorKind::config, fmt::format("{}: no fleet endpoint given; expected "
                                               "unix:///var/run/fleet.sock or http://HOST:PORT",
                                               source));
  }
  return out;
}

} // namespace herald::fleet
