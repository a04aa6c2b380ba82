#include "fleet/fixtures.hpp"
#include "herald/core/error.hpp"
#include "herald/fleet/errors.hpp"
#include "herald/fleet/model.hpp"

#include <doctest/doctest.h>
#include <map>

using herald::Error;
using herald::ErrorKind;
using namespace herald::fleet;
using herald::test::fleet_exchange_names;
using herald::test::fleet_fixture;

namespace {

std::vector<UnitOption> options_of(const nlohmann::json& sent) {
  std::vector<UnitOption> out;
  for (const auto& o : sent.at("options")) {
    out.push_back({o.at("section"), o.at("name"), o.at("value")});
  }
  return out;
}

nlohmann::json request_body(const std::string& fixture) {
  return nlohmann::json::parse(fleet_fixture(fixture).at("request").at("body").get<std::string>());
}

std::string response_body(const std::string& fixture) {
  return fleet_fixture(fixture).at("response").at("body").get<std::string>();
}

/// The path of a recorded request without its query.
std::string path_of(const nlohmann::json& fixture) {
  std::string path = fixture.at("request").at("path");
  return path.substr(0, path.find('?'));
}

} // namespace

TEST_SUITE_BEGIN("fleet");

TEST_CASE("every recorded 200 answer decodes, with the fields fleet sent") {
  int decoded = 0;
  for (const std::string& name : fleet_exchange_names()) {
    nlohmann::json fixture = fleet_fixture(name);
    const nlohmann::json& response = fixture.at("response");
    if (response.at("status") != 200) {
      continue;
    }
    CAPTURE(name);
    std::string path = path_of(fixture);
    std::string body = response.at("body");
    nlohmann::json expected = nlohmann::json::parse(body);
    if (path.ends_with("/units")) {
      auto page = decode_unit_page(body, name);
      REQUIRE(page.items.size() == expected.value("units", nlohmann::json::array()).size());
      CHECK(page.next_page_token == expected.value("nextPageToken", ""));
      for (std::size_t i = 0; i < page.items.size(); ++i) {
        const auto& want = expected["units"][i];
        CHECK(page.items[i].name == want["name"]);
        CHECK(to_string(page.items[i].desired_state) == want["desiredState"]);
        CHECK(page.items[i].machine_id == want.value("machineID", ""));
        CHECK(page.items[i].options.size() == want["options"].size());
      }
    } else if (path.find("/units/") != std::string::npos) {
      Unit unit = decode_unit_body(body, name);
      CHECK(unit.name == expected["name"]);
      CHECK(unit.options == options_of(expected));
      CHECK(unit.current_state.has_value() == expected.contains("currentState"));
      CHECK(unit.machine_id == expected.value("machineID", ""));
    } else if (path.ends_with("/state")) {
      auto page = decode_state_page(body, name);
      REQUIRE(page.items.size() == expected.value("states", nlohmann::json::array()).size());
      for (std::size_t i = 0; i < page.items.size(); ++i) {
        const auto& want = expected["states"][i];
        CHECK(page.items[i].name == want["name"]);
        CHECK(page.items[i].hash == want["hash"]);
        CHECK(page.items[i].machine_id == want["machineID"]);
        CHECK(page.items[i].load_state == want["systemdLoadState"]);
        CHECK(page.items[i].active_state == want["systemdActiveState"]);
        CHECK(page.items[i].sub_state == want["systemdSubState"]);
      }
    } else if (path.ends_with("/machines")) {
      auto page = decode_machine_page(body, name);
      REQUIRE(page.items.size() == expected.value("machines", nlohmann::json::array()).size());
      for (std::size_t i = 0; i < page.items.size(); ++i) {
        const auto& want = expected["machines"][i];
        CHECK(page.items[i].id == want["id"]);
        CHECK(page.items[i].primary_ip == want["primaryIP"]);
        CHECK(page.items[i].metadata.size() == want["metadata"].size());
        CHECK(page.items[i].short_id() == want["id"].get<std::string>().substr(0, 8));
      }
    } else {
      continue; // the discovery document and /state/NAME: herald reads neither
    }
    ++decoded;
  }
  CHECK(decoded >= 20);
}

TEST_CASE("every recorded error answer maps to an error kind with fleet's own words") {
  const std::map<long, ErrorKind> kinds{{400, ErrorKind::data},       {404, ErrorKind::not_found},
                                        {405, ErrorKind::internal},   {409, ErrorKind::data},
                                        {415, ErrorKind::internal},   {500, ErrorKind::temporary},
                                        {503, ErrorKind::unavailable}};
  int errors = 0;
  for (const std::string& name : fleet_exchange_names()) {
    nlohmann::json fixture = fleet_fixture(name);
    const nlohmann::json& response = fixture.at("response");
    long status = response.at("status");
    if (status < 400) {
      continue;
    }
    CAPTURE(name);
    std::string body = response.at("body");
    std::string said = response.at("body_json").at("error").at("message");
    CHECK(error_message(body) == said);
    Error error = response_error(fixture["request"]["method"].get<std::string>(), "unix:///f.sock",
                                 status, body);
    REQUIRE(kinds.count(status) == 1);
    CHECK(error.kind() == kinds.at(status));
    std::string text = error.what();
    CHECK(text.find(std::to_string(status)) != std::string::npos);
    CHECK(text.find(said) != std::string::npos);
    if (status == 500) {
      CHECK(text.find("fleetd's journal") != std::string::npos);
    }
    ++errors;
  }
  CHECK(errors >= 30);
}

TEST_CASE("an empty collection is {} and decodes to no items") {
  CHECK(decode_unit_page(response_body("02-units-list-empty.json"), "units").items.empty());
  CHECK(decode_state_page(response_body("03-state-list-empty.json"), "state").items.empty());
  CHECK(decode_machine_page(response_body("88-machines-list-token-page2.json"), "m").items.empty());
}

TEST_CASE("a global unit's item has neither currentState nor machineID") {
  Unit unit = decode_unit_body(response_body("19-unit-get-global.json"), "GET");
  CHECK_FALSE(unit.current_state.has_value());
  CHECK(unit.machine_id.empty());
  CHECK(unit.desired_state == DesiredState::launched);
}

TEST_CASE("decoders refuse what is not fleet's shape with a data error naming the request") {
  auto kind_of = [](auto decode, std::string_view body) {
    try {
      decode(body, "GET /fleet/v1/units");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("GET /fleet/v1/units") != std::string::npos);
      return e.kind();
    }
    return ErrorKind::internal;
  };
  CHECK(kind_of(decode_unit_page, "not json") == ErrorKind::data);
  CHECK(kind_of(decode_unit_page, R"({"units":{}})") == ErrorKind::data);
  CHECK(kind_of(decode_unit_page, R"({"units":[{"name":"a.service","desiredState":"running"}]})") ==
        ErrorKind::data);
  CHECK(kind_of(decode_unit_page, R"({"units":[{"desiredState":"loaded"}]})") == ErrorKind::data);
  CHECK(kind_of(decode_machine_page, R"({"machines":[{"id":"1","metadata":{"a":1}}]})") ==
        ErrorKind::data);
  CHECK(kind_of(decode_state_page, "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]") == ErrorKind::data);
}

TEST_CASE("unit_hash is the hash fleetd reports for the same unit file") {
  // Every unit of the recorded list that the recorded /state lists carries fleetd's hash.
  auto units = decode_unit_page(response_body("22-units-list.json"), "units").items;
  auto states = decode_state_page(response_body("23-state-list.json"), "state").items;
  int checked = 0;
  for (const UnitState& state : states) {
    for (const Unit& unit : units) {
      if (unit.name == state.name) {
        CAPTURE(unit.name);
        CHECK(unit_hash(unit.options) == state.hash);
        ++checked;
      }
    }
  }
  CHECK(checked >= 4);
  CHECK(unit_hash(options_of(request_body("06-unit-create-template.json"))) ==
        "3bc7f66a7dc00d66c62ead8f5b5bf5fc85122c4f");
}

TEST_CASE("normalize_options gives the order fleetd stores: sections by first appearance") {
  auto sent = options_of(request_body("52-unit-put-options-order.json"));
  auto stored = decode_unit_body(response_body("53-unit-get-options-order.json"), "GET").options;
  REQUIRE(sent != stored);
  CHECK(normalize_options(sent) == stored);
  CHECK(unit_hash(sent) == unit_hash(stored));
}

TEST_CASE("serialize_unit_file prints what fleetctl cat prints") {
  nlohmann::json capture = fleet_fixture("fleetctl-08-cat.json");
  Unit unit =
      decode_unit_body(capture["exchanges"][0]["response"]["body"].get<std::string>(), "GET");
  // The capture keeps fleetctl's output without its final newline.
  CHECK(serialize_unit_file(unit.options) == capture["output"].get<std::string>() + "\n");
  CHECK(serialize_unit_file({}).empty());
}

TEST_CASE("join_continuation_lines reads continued values the way systemd does") {
  CHECK(join_continuation_lines("/bin/sh -c 'a; \\\n    b'") == "/bin/sh -c 'a;  b'");
  CHECK(join_continuation_lines("line one\nline two") == "line one line two");
  CHECK(join_continuation_lines("a \\\r\n\tb") == "a  b");
  CHECK(join_continuation_lines("plain") == "plain");
}

TEST_CASE("desired states parse only as fleet's three values") {
  CHECK(parse_desired_state("launched") == DesiredState::launched);
  CHECK(parse_desired_state("loaded") == DesiredState::loaded);
  CHECK(parse_desired_state("inactive") == DesiredState::inactive);
  CHECK_FALSE(parse_desired_state("running").has_value());
  CHECK(to_string(DesiredState::loaded) == "loaded");
}

TEST_CASE("option_values lists repeated options in order") {
  auto stored = decode_unit_body(response_body("53-unit-get-options-order.json"), "GET").options;
  CHECK(option_values(stored, "Service", "ExecStartPre") ==
        std::vector<std::string>{"/bin/true", "/bin/echo second"});
  CHECK(option_values(stored, "X-Fleet", "Conflicts").empty());
}

TEST_SUITE_END();
