#include "fleet/fixtures.hpp"
#include "fleet/replay_server.hpp"
#include "herald/core/error.hpp"
#include "herald/fleet/client.hpp"

#include <doctest/doctest.h>

using herald::Error;
using herald::ErrorKind;
using namespace herald::fleet;
using herald::test::fleet_fixture;
using herald::test::ReplayServer;

namespace {

Client client_for(const ReplayServer& server) {
  ClientOptions options;
  options.request_timeout = std::chrono::seconds(5);
  return Client({herald::http::parse_endpoint(server.url(), "test")}, options);
}

std::vector<UnitOption> template_options() {
  nlohmann::json sent = nlohmann::json::parse(
      fleet_fixture("06-unit-create-template.json")["request"]["body"].get<std::string>());
  std::vector<UnitOption> out;
  for (const auto& o : sent["options"]) {
    out.push_back({o["section"], o["name"], o["value"]});
  }
  return out;
}

ErrorKind kind_of(const std::function<void()>& call, std::string* message = nullptr) {
  try {
    call();
  } catch (const Error& e) {
    if (message != nullptr) {
      *message = e.what();
    }
    return e.kind();
  }
  return ErrorKind::internal;
}

} // namespace

TEST_SUITE_BEGIN("fleet");

TEST_CASE("list_units follows nextPageToken across pages and sends the token back") {
  ReplayServer server;
  server.answer_with("81-units-list-page1.json");
  server.answer_with("82-units-list-page2.json");
  Client client = client_for(server);
  auto units = client.list_units();
  CHECK(units.size() == 101);
  CHECK(units.front().name == "page-000.service");
  CHECK(units.back().name == "page-100.service");
  auto got = server.received();
  REQUIRE(got.size() == 2);
  CHECK(got[0].target == "/fleet/v1/units");
  CHECK(got[1].target == "/fleet/v1/units?nextPageToken=ZAACAA%3D%3D");
}

TEST_CASE("a chunked answer larger than Go's buffer decodes whole") {
  ReplayServer server;
  server.answer_with("22-units-list.json");
  Client client = client_for(server);
  auto units = client.list_units();
  CHECK(units.size() >= 6);
  CHECK(units.front().name == "everywhere.service");
}

TEST_CASE("get_unit returns nothing for an unknown unit and the unit for a known one") {
  ReplayServer server;
  server.answer_with("67-unit-get-unknown.json");
  server.answer_with("14-unit-get-launched.json");
  Client client = client_for(server);
  CHECK_FALSE(client.get_unit("nope.service").has_value());
  auto unit = client.get_unit("hello@1.service");
  REQUIRE(unit.has_value());
  CHECK(unit->current_state == DesiredState::launched);
  CHECK(unit->machine_id == "11111111111111111111111111111111");
  CHECK(server.received()[1].target == "/fleet/v1/units/hello%401.service");
}

TEST_CASE("put_unit sends fleet's JSON with its Content-Type and reports created or updated") {
  ReplayServer server;
  server.answer_with("06-unit-create-template.json");
  server.answer_with("29-unit-put-same-options.json");
  Client client = client_for(server);
  CHECK(client.put_unit("hello@.service", {template_options(), DesiredState::inactive}) ==
        PutOutcome::created);
  CHECK(client.put_unit("hello@2.service", {std::nullopt, DesiredState::launched}) ==
        PutOutcome::updated);
  auto got = server.received();
  REQUIRE(got.size() == 2);
  CHECK(got[0].method == "PUT");
  CHECK(got[0].header("Content-Type") == "application/json");
  auto body = nlohmann::json::parse(got[0].body);
  auto recorded = nlohmann::json::parse(
      fleet_fixture("06-unit-create-template.json")["request"]["body"].get<std::string>());
  CHECK(body["options"] == recorded["options"]);
  CHECK(body["desiredState"] == "inactive");
  CHECK(body["name"] == "hello@.service");
  CHECK(nlohmann::json::parse(got[1].body) ==
        nlohmann::json{{"name", "hello@2.service"}, {"desiredState", "launched"}});
}

TEST_CASE("put_unit joins continued lines, which fleetd would refuse") {
  ReplayServer server;
  server.answer_with("58-unit-put-content-type-charset.json");
  Client client = client_for(server);
  std::vector<UnitOption> options{{"Service", "ExecStart", "/bin/sh -c \\\n  'sleep 1'"}};
  client.put_unit("charset.service", {options, std::nullopt});
  auto body = nlohmann::json::parse(server.received()[0].body);
  CHECK(body["options"][0]["value"] == "/bin/sh -c  'sleep 1'");
}

TEST_CASE("put_unit checks the name as fleetd does before sending anything") {
  ReplayServer server;
  Client client = client_for(server);
  std::string message;
  CHECK(kind_of(
            [&] {
              client.put_unit("hello", {template_options(), std::nullopt});
            },
            &message) == ErrorKind::usage);
  CHECK(message.find(R"(unit name must contain ".")") != std::string::npos);
  CHECK(server.received().empty());
}

TEST_CASE("fleet's refusals come out as errors with fleet's message") {
  ReplayServer server;
  server.answer_with("08-unit-put-instance-no-options.json");
  server.answer_with("10-unit-launch-template.json");
  server.answer_with("89-etcd-down-units-list.json");
  server.answer_with("92-fleetd-starting-503.json");
  Client client = client_for(server);
  std::string message;
  CHECK(kind_of(
            [&] {
              client.put_unit("hello@1.service", {std::nullopt, DesiredState::launched});
            },
            &message) == ErrorKind::data);
  CHECK(message.find("409 Conflict: unit does not exist and options field empty") !=
        std::string::npos);
  CHECK(kind_of(
            [&] {
              client.put_unit("hello@.service", {std::nullopt, DesiredState::launched});
            },
            &message) == ErrorKind::data);
  CHECK(message.find(R"(cannot activate template "hello@.service")") != std::string::npos);
  CHECK(kind_of([&] { client.list_units(); }, &message) == ErrorKind::temporary);
  CHECK(kind_of([&] { client.list_units(); }, &message) == ErrorKind::unavailable);
  CHECK(message.find("fleet server unable to communicate with etcd") != std::string::npos);
}

TEST_CASE("delete_unit is true for a deleted unit and false for an unknown one") {
  ReplayServer server;
  server.answer_with("77-unit-delete.json");
  server.answer_with("68-unit-delete-unknown.json");
  Client client = client_for(server);
  CHECK(client.delete_unit("hello@1.service"));
  CHECK_FALSE(client.delete_unit("nope.service"));
  CHECK(server.received()[0].method == "DELETE");
}

TEST_CASE("list_states passes its filters and decodes every entry") {
  ReplayServer server;
  server.answer_with("24-state-list-by-machine.json");
  server.answer_with("26-state-list-by-unknown-unit.json");
  Client client = client_for(server);
  auto states = client.list_states({"11111111111111111111111111111111", ""});
  CHECK_FALSE(states.empty());
  for (const auto& state : states) {
    CHECK(state.machine_id == "11111111111111111111111111111111");
  }
  CHECK(client.list_states({"", "nope.service"}).empty());
  auto got = server.received();
  CHECK(got[0].target == "/fleet/v1/state?machineID=11111111111111111111111111111111");
  CHECK(got[1].target == "/fleet/v1/state?unitName=nope.service");
}

TEST_CASE("list_machines reads metadata") {
  ReplayServer server;
  server.answer_with("04-machines-list.json");
  Client client = client_for(server);
  auto machines = client.list_machines();
  REQUIRE(machines.size() == 2);
  CHECK(machines[0].metadata.at("role") == "web");
  CHECK(machines[1].metadata.at("role") == "router");
}

TEST_CASE("set_machine_metadata sends the value wrapped as fleetd wants it") {
  ReplayServer server;
  server.answer_with("70-machines-patch-metadata.json");
  Client client = client_for(server);
  client.set_machine_metadata("11111111111111111111111111111111", "zone", "a");
  auto got = server.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].method == "PATCH");
  CHECK(nlohmann::json::parse(got[0].body) ==
        nlohmann::json::parse(R"([{"op":"add","path":"/11111111111111111111111111111111/metadata/)"
                              R"(zone","value":{"value":"a"}}])"));
}

TEST_CASE("a connection closed without an answer is unavailable, not a crash") {
  ReplayServer server;
  server.answer_with("28-state-get-item-unknown.json");
  Client client = client_for(server);
  CHECK(kind_of([&] { client.list_states(); }) == ErrorKind::unavailable);
}

TEST_CASE("a missing socket is unavailable and the explainer can say why") {
  herald::test::TempDir dir;
  ClientOptions options;
  options.explain_failure = [](const Error&) {
    return std::optional<Error>(Error(ErrorKind::unavailable, "ssh: the tunnel is down"));
  };
  Client client({herald::http::parse_endpoint("unix://" + dir.file("none.sock"), "test")}, options);
  std::string message;
  CHECK(kind_of([&] { client.list_machines(); }, &message) == ErrorKind::unavailable);
  CHECK(message == "ssh: the tunnel is down");
}

TEST_SUITE_END();
