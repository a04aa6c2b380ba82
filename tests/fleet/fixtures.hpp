#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace herald::test {

/// tests/fixtures/fleet-api/: exchanges recorded from a real fleetd (see its README.md).
std::string fleet_fixture_dir();

/// The fixture `name` ("22-units-list.json") parsed; fails the test when it is missing.
nlohmann::json fleet_fixture(const std::string& name);

/// Every NN-*.json exchange fixture (not the timelines, not the fleetctl captures), sorted.
std::vector<std::string> fleet_exchange_names();

/// A recorded answer, byte for byte as fleetd sent it (the body de-chunked).
struct RecordedResponse {
  int status = 0; ///< 0: fleetd closed the connection without an answer
  std::string status_line;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// The response of exchange fixture `name`.
RecordedResponse recorded_response(const std::string& name);

} // namespace herald::test
