#include "fleet/fixtures.hpp"
#include "herald/fleet/unit_name.hpp"

#include <doctest/doctest.h>

using namespace herald::fleet;
using herald::test::fleet_fixture;

TEST_SUITE_BEGIN("fleet");

TEST_CASE("unit_name_problem says what fleetd says, for every recorded invalid name") {
  for (const char* name :
       {"42-unit-put-invalid-name-no-dot.json", "43-unit-put-invalid-name-bad-type.json",
        "44-unit-put-invalid-name-trailing-dot.json", "45-unit-put-invalid-name-bad-char.json",
        "46-unit-put-invalid-name-leading-at.json",
        "47-unit-put-invalid-name-template-bad-type.json",
        "48-unit-put-invalid-name-too-long.json"}) {
    CAPTURE(name);
    nlohmann::json fixture = fleet_fixture(name);
    std::string path = fixture["request"]["path"];
    std::string unit = path.substr(path.rfind('/') + 1);
    if (auto pct = unit.find("%21"); pct != std::string::npos) {
      unit = unit.substr(0, pct) + "!" + unit.substr(pct + 3);
    }
    auto problem = unit_name_problem(unit);
    REQUIRE(problem.has_value());
    CHECK(*problem == fixture["response"]["body_json"]["error"]["message"]);
  }
}

TEST_CASE("unit_name_problem accepts what fleetd accepted") {
  for (const char* name : {"hello@.service", "hello@1.service", "hello-sidekick@1.service",
                           "everywhere.service", "a:b_c\\x2d.socket", "web@a.b.timer"}) {
    CAPTURE(name);
    CHECK_FALSE(unit_name_problem(name).has_value());
  }
  CHECK(unit_name_problem("") == std::optional<std::string>("unit name cannot be empty"));
}

TEST_CASE("parse_unit_name splits templates, instances and plain units as fleet does") {
  auto instance = parse_unit_name("web@1.service");
  REQUIRE(instance);
  CHECK(instance->is_instance());
  CHECK(instance->prefix == "web");
  CHECK(instance->instance == "1");
  CHECK(instance->name == "web@1");
  CHECK(instance->template_name() == "web@.service");

  auto tmpl = parse_unit_name("web@.service");
  REQUIRE(tmpl);
  CHECK(tmpl->is_template());
  CHECK(tmpl->template_name() == "web@.service");

  auto plain = parse_unit_name("router.service");
  REQUIRE(plain);
  CHECK_FALSE(plain->has_at);
  CHECK(plain->prefix == "router");
  CHECK(plain->template_name().empty());

  CHECK_FALSE(parse_unit_name("nodot").has_value());
}

TEST_CASE("mangle_unit_name turns arguments into unit names as fleetctl does") {
  CHECK(mangle_unit_name("web@1") == "web@1.service");
  CHECK(mangle_unit_name("units/web@.service") == "web@.service");
  CHECK(mangle_unit_name("./router.socket") == "router.socket");
  CHECK(mangle_unit_name("app.v2") == "app.v2.service");
}

TEST_CASE("expand_specifiers fills %n %N %p %i from the unit name") {
  CHECK(expand_specifiers("hello@%i.service", "hello-sidekick@7.service") == "hello@7.service");
  CHECK(expand_specifiers("%p/%N/%n", "web@2.service") == "web/web@2/web@2.service");
  CHECK(expand_specifiers("x-%i", "router.service") == "x-");
}

TEST_SUITE_END();
