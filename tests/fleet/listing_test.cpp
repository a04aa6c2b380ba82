#include "fleet/replay_server.hpp"
#include "herald/fleet/listing.hpp"

#include <algorithm>
#include <doctest/doctest.h>

using namespace herald::fleet;
using herald::test::ReplayServer;

namespace {

Client client_for(const ReplayServer& server) {
  return Client({herald::http::parse_endpoint(server.url(), "test")}, {});
}

} // namespace

TEST_SUITE_BEGIN("fleet");

TEST_CASE("unit ls rows: systemd's states, and the units no machine has taken") {
  ReplayServer server;
  server.answer_with("23-state-list.json");
  server.answer_with("22-units-list.json");
  server.answer_with("04-machines-list.json");
  Client client = client_for(server);
  auto rows = list_unit_states(client);
  auto global = std::count_if(rows.begin(), rows.end(), [](const UnitStateRow& row) {
    return row.unit == "everywhere.service";
  });
  CHECK(global == 2);
  auto hello1 = std::find_if(rows.begin(), rows.end(),
                             [](const UnitStateRow& row) { return row.unit == "hello@1.service"; });
  REQUIRE(hello1 != rows.end());
  CHECK(hello1->active == "active");
  CHECK(hello1->sub == "running");
  CHECK(hello1->machine_ip == "127.0.0.1");
  CHECK(hello1->desired == "launched");
  CHECK(hello1->description == "hello %i");
  auto hello3 = std::find_if(rows.begin(), rows.end(),
                             [](const UnitStateRow& row) { return row.unit == "hello@3.service"; });
  REQUIRE(hello3 != rows.end());
  CHECK(hello3->machine_id.empty());
  CHECK(hello3->active.empty());
  CHECK(hello3->desired == "launched");
  CHECK(std::none_of(rows.begin(), rows.end(),
                     [](const UnitStateRow& row) { return row.unit == "hello@.service"; }));
  CHECK(std::is_sorted(rows.begin(), rows.end(),
                       [](const auto& a, const auto& b) { return a.unit < b.unit; }));
  auto got = server.received();
  REQUIRE(got.size() == 3);
  CHECK(got[0].target == "/fleet/v1/state");
}

TEST_CASE("unit ls --files rows: every submitted unit with its hash and target") {
  ReplayServer server;
  server.answer_with("22-units-list.json");
  server.answer_with("04-machines-list.json");
  Client client = client_for(server);
  auto rows = list_unit_files(client);
  auto tmpl = std::find_if(rows.begin(), rows.end(),
                           [](const UnitFileRow& row) { return row.unit == "hello@.service"; });
  REQUIRE(tmpl != rows.end());
  CHECK(tmpl->hash.substr(0, 7) == "3bc7f66");
  CHECK(tmpl->desired == "inactive");
  auto global = std::find_if(rows.begin(), rows.end(), [](const UnitFileRow& row) {
    return row.unit == "everywhere.service";
  });
  REQUIRE(global != rows.end());
  CHECK(global->global);
  CHECK(global->current.empty());
}

TEST_SUITE_END();
