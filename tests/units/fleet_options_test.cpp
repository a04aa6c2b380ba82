#include "herald/core/error.hpp"
#include "herald/fleet/model.hpp"
#include "herald/units/fleet_options.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

using namespace herald;
using namespace herald::units;
using nlohmann::json;

namespace {

std::string fleet_fixtures_dir() {
  return std::string(HERALD_SOURCE_DIR) + "/tests/fixtures/fleet-api";
}

json read_fixture(const std::string& name) {
  std::string path = fleet_fixtures_dir() + "/" + name;
  std::string text = herald::test::read_file(path);
  REQUIRE_MESSAGE(!text.empty(), "missing fixture " << path);
  return json::parse(text);
}

/// Every "options" array anywhere in `value`, also inside JSON carried as a string (request
/// bodies are recorded as the exact bytes sent).
void collect_options(const json& value, std::vector<json>& found) {
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      if (key == "options" && item.is_array()) {
        found.push_back(item);
      } else {
        collect_options(item, found);
      }
    }
  } else if (value.is_array()) {
    for (const auto& item : value) {
      collect_options(item, found);
    }
  } else if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (text.starts_with('{') && text.find("\"options\"") != std::string::npos) {
      json inner = json::parse(text, nullptr, false);
      if (!inner.is_discarded()) {
        collect_options(inner, found);
      }
    }
  }
}

/// An "options" array of fleet's JSON, decoded by the fleet client's own decoder.
std::vector<fleet::UnitOption> options_of(const json& array) {
  json unit = {{"name", "fixture.service"}, {"desiredState", "inactive"}, {"options", array}};
  return fleet::decode_unit(unit, "a fixture").options;
}

/// fleet's order: sections by first appearance, options in order within each.
std::vector<fleet::UnitOption> grouped(const std::vector<fleet::UnitOption>& options) {
  std::vector<std::string> order;
  for (const auto& option : options) {
    if (std::find(order.begin(), order.end(), option.section) == order.end()) {
      order.push_back(option.section);
    }
  }
  std::vector<fleet::UnitOption> out;
  for (const auto& section : order) {
    for (const auto& option : options) {
      if (option.section == section) {
        out.push_back(option);
      }
    }
  }
  return out;
}

} // namespace

TEST_SUITE_BEGIN("units");

TEST_CASE("every unit in the fleet fixtures round-trips through the unit model") {
  std::size_t units = 0;
  for (const auto& entry : std::filesystem::directory_iterator(fleet_fixtures_dir())) {
    if (entry.path().extension() != ".json") {
      continue;
    }
    std::vector<json> found;
    collect_options(read_fixture(entry.path().filename().string()), found);
    for (const json& array : found) {
      CAPTURE(entry.path().filename().string());
      CAPTURE(array.dump());
      std::vector<fleet::UnitOption> options = options_of(array);
      bool multiline = std::any_of(options.begin(), options.end(), [](const fleet::UnitOption& o) {
        return o.value.find('\n') != std::string::npos;
      });
      if (multiline) {
        // 54: the value fleet refuses with a 400; herald refuses it before sending.
        CHECK_THROWS_AS(from_fleet_options(options), Error);
        continue;
      }
      UnitFile file = from_fleet_options(options);
      std::string text = file.emit();
      UnitFile parsed = UnitFile::parse(text, entry.path().filename().string());
      CHECK(parsed == file);
      CHECK(parsed.emit() == text);
      CHECK(to_fleet_options(parsed) == grouped(options));
      CHECK(fleet::normalize_options(options) == grouped(options));
      ++units;
    }
  }
  CHECK(units > 100);
}

TEST_CASE("fleet keeps options grouped by section, as GET answers after a PUT out of order") {
  // 52 sends Service, Unit, Service, Service, X-Fleet; 53 is what fleetd stored.
  json sent = json::parse(read_fixture("52-unit-put-options-order.json")["request"]["body"]
                              .get<std::string>())["options"];
  json stored = read_fixture("53-unit-get-options-order.json")["response"]["body_json"]["options"];
  UnitFile file = from_fleet_options(options_of(sent));
  CHECK(to_fleet_options(file) == options_of(stored));
  CHECK(file.values("Service", "ExecStartPre") ==
        std::vector<std::string>{"/bin/true", "/bin/echo second"});
}

TEST_CASE("the serialized options are the text fleetctl cat prints") {
  json capture = read_fixture("fleetctl-08-cat.json");
  json unit = json::parse(capture["exchanges"][0]["response"]["body"].get<std::string>());
  std::vector<fleet::UnitOption> options = options_of(unit["options"]);
  std::string printed = capture["output"].get<std::string>();
  // The unit model writes what fleet serializes, so a unit fleet holds reads back unchanged.
  CHECK(from_fleet_options(options).emit() == printed + "\n");
  CHECK(fleet::serialize_unit_file(options) == printed + "\n");
}

TEST_CASE("the serialized options hash to fleetd's unit hash") {
  std::string sha1sum = herald::test::find_program("sha1sum");
  if (sha1sum.empty()) {
    herald::test::skip("sha1sum is not installed (Debian package coreutils)");
  }
  std::map<std::string, std::string> hashes;
  json states = read_fixture("23-state-list.json");
  for (const json& state : states["response"]["body_json"]["states"]) {
    hashes[state["name"].get<std::string>()] = state["hash"].get<std::string>();
  }
  herald::test::TempDir dir;
  std::size_t checked = 0;
  json units = read_fixture("22-units-list.json");
  for (const json& unit : units["response"]["body_json"]["units"]) {
    std::string name = unit["name"].get<std::string>();
    auto hash = hashes.find(name);
    if (hash == hashes.end()) {
      continue; // templates and unscheduled units have no state
    }
    CAPTURE(name);
    std::string path = dir.write(name, from_fleet_options(options_of(unit["options"])).emit());
    auto result = herald::test::run({sha1sum, path});
    REQUIRE(result.status == 0);
    CHECK(result.out.substr(0, 40) == hash->second);
    ++checked;
  }
  CHECK(checked >= 3);
}

TEST_CASE("continuation lines reach fleet joined, and a value with a newline never does") {
  UnitFile file = UnitFile::parse("[Service]\n"
                                  "ExecStart=/usr/bin/herald announce web@%i \\\n"
                                  "  --port 3000\n");
  std::vector<fleet::UnitOption> options = to_fleet_options(file);
  REQUIRE(options.size() == 1);
  CHECK(options[0].value == "/usr/bin/herald announce web@%i    --port 3000");
  file.sections[0].options[0].value = "two\nlines";
  CHECK_THROWS_AS(to_fleet_options(file), Error);
}

TEST_SUITE_END();
