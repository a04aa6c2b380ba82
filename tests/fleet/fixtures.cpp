#include "fleet/fixtures.hpp"

#include "support/temp_dir.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>

namespace herald::test {

std::string fleet_fixture_dir() {
  return std::string(HERALD_SOURCE_DIR) + "/tests/fixtures/fleet-api";
}

nlohmann::json fleet_fixture(const std::string& name) {
  std::string text = read_file(fleet_fixture_dir() + "/" + name);
  REQUIRE_MESSAGE(!text.empty(), "missing fleet fixture " << fleet_fixture_dir() << "/" << name);
  return nlohmann::json::parse(text);
}

std::vector<std::string> fleet_exchange_names() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(fleet_fixture_dir())) {
    std::string name = entry.path().filename().string();
    if (name.size() > 3 && name[0] >= '0' && name[0] <= '9' && name.ends_with(".json") &&
        name.find("-timeline-") == std::string::npos) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  REQUIRE_MESSAGE(names.size() >= 80,
                  "the fleet fixtures are incomplete in " << fleet_fixture_dir());
  return names;
}

RecordedResponse recorded_response(const std::string& name) {
  nlohmann::json fixture = fleet_fixture(name);
  const nlohmann::json& response = fixture.at("response");
  RecordedResponse out;
  out.status = response.at("status").get<int>();
  if (out.status == 0) {
    return out;
  }
  out.status_line = response.at("status_line").get<std::string>();
  for (const auto& header : response.at("headers")) {
    out.headers.emplace_back(header.at(0).get<std::string>(), header.at(1).get<std::string>());
  }
  out.body = response.at("body").get<std::string>();
  return out;
}

} // namespace herald::test
