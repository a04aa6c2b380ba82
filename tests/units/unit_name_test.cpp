#include "herald/core/error.hpp"
#include "herald/units/unit_name.hpp"
#include "support/process.hpp"

#include <doctest/doctest.h>
#include <random>
#include <string>

using namespace herald;
using namespace herald::units;

namespace {

std::string error_of(auto&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::data);
    return e.what();
  }
  FAIL("no error");
  return {};
}

} // namespace

TEST_SUITE_BEGIN("units");

TEST_CASE("unit names split into prefix, instance and type") {
  UnitName plain = parse_unit_name("router.service");
  CHECK(plain.prefix == "router");
  CHECK_FALSE(plain.instance);
  CHECK(plain.type == "service");
  CHECK_FALSE(plain.is_template());
  CHECK_FALSE(plain.is_instance());

  UnitName templ = parse_unit_name("web@.service");
  CHECK(templ.prefix == "web");
  CHECK(templ.is_template());
  CHECK(templ.str() == "web@.service");

  UnitName inst = parse_unit_name("web-discovery@a\\x2db.1.service");
  CHECK(inst.prefix == "web-discovery");
  CHECK(inst.instance == "a\\x2db.1");
  CHECK(inst.is_instance());
  CHECK(inst.stem() == "web-discovery@a\\x2db.1");
  CHECK(inst.template_name().str() == "web-discovery@.service");
  CHECK(templ.with_instance("2").str() == "web@2.service");
  CHECK(parse_unit_name("a@b@c.timer").instance == "b@c");
  CHECK(parse_unit_name("x.y.socket").prefix == "x.y");
}

TEST_CASE("invalid unit names are refused in fleet's words") {
  // The messages of tests/fixtures/fleet-api 42-48, as fleetd answers them.
  const std::pair<std::string, const char*> cases[] = {
      {"hello", R"(unit name must contain ".")"},
      {"hello.bogus", R"(invalid unit type: "bogus")"},
      {"hello.", R"(unit name cannot end in ".")"},
      {"hel!lo.service", "invalid character '!' in unit name"},
      {"@hello.service", R"(unit name cannot start in "@")"},
      {"hello@.mount", R"(invalid unit type for template: "mount")"},
      {std::string(300, 'a') + ".service", "unit name exceeds maximum length (256)"},
      {"", "unit name cannot be empty"},
  };
  for (const auto& [name, message] : cases) {
    CAPTURE(name);
    CHECK(fleet_name_problem(name) == message);
    CHECK(error_of([&] { parse_unit_name(name); }).find(message) != std::string::npos);
    CHECK_FALSE(is_valid_unit_name(name));
  }
  CHECK(fleet_name_problem("hello@1.service").empty());
  CHECK(fleet_name_problem("x.busname").empty());
}

TEST_CASE("a name that is not UTF-8 is refused with its bytes escaped, not an assertion") {
  // Found by the unit_file fuzzer: fmt's {:?} aborted the process on invalid UTF-8.
  std::string name("[S\0\0\0\rce]\xf2o", 11);
  std::string message = error_of([&] { parse_unit_name(name); });
  CHECK(message.find(R"(invalid unit name "[S\x00\x00\x00\rce]\xf2o")") != std::string::npos);
  CHECK(message.find('\r') == std::string::npos);
}

TEST_CASE("names fleet takes but systemd would refuse are refused too") {
  CHECK(systemd_name_problem("x.busname") == R"(unit type "busname" is unknown to systemd)");
  CHECK_FALSE(is_valid_unit_name("x.snapshot"));
  std::string name256 = std::string(248, 'a') + ".service";
  REQUIRE(name256.size() == 256);
  CHECK(fleet_name_problem(name256).empty());
  CHECK(systemd_name_problem(name256) == "unit name exceeds maximum length (255)");
  CHECK(is_valid_unit_name(name256.substr(1)));
  CHECK_FALSE(is_valid_unit_name(".service"));
}

TEST_CASE("instance strings are escaped as systemd-escape escapes them, and back") {
  // Expected values from systemd-escape 252.
  const std::pair<const char*, const char*> cases[] = {
      {"a-b/c", "a\\x2db-c"}, {"/foo/bar", "-foo-bar"},   {".hidden", "\\x2ehidden"},
      {"ab c", "ab\\x20c"},   {"\xc3\xbc", "\\xc3\\xbc"}, {"a\\b", "a\\x5cb"},
      {"x@y", "x\\x40y"},     {"a:b_c.d", "a:b_c.d"},     {"-", "\\x2d"},
      {"web.1", "web.1"},     {"%i", "\\x25i"},           {"", ""},
  };
  for (const auto& [text, escaped] : cases) {
    CAPTURE(text);
    CHECK(escape_instance(text) == escaped);
    CHECK(unescape_instance(escaped) == text);
  }
  CHECK(unescape_instance("a\\x2Db") == "a-b");
  for (const char* bad : {"a\\x2", "a\\X2d", "a\\x00b", "a\\n", "a\\"}) {
    CAPTURE(bad);
    CHECK(error_of([&] { unescape_instance(bad); }).find("cannot unescape") != std::string::npos);
  }
}

TEST_CASE("paths are escaped as systemd-escape --path escapes them, and back") {
  const std::pair<const char*, const char*> cases[] = {
      {"/foo//bar", "foo-bar"},
      {"/foo/./bar", "foo-bar"},
      {"/foo/bar/", "foo-bar"},
      {"//", "-"},
      {"/", "-"},
      {"/a-b/c d", "a\\x2db-c\\x20d"},
      {"/.x/y", "\\x2ex-y"},
  };
  for (const auto& [path, escaped] : cases) {
    CAPTURE(path);
    CHECK(escape_path(path) == escaped);
  }
  CHECK(unescape_path("-") == "/");
  CHECK(unescape_path("a\\x2fb") == "/a/b");
  CHECK(unescape_path("\\x2ex") == "/.x");
  CHECK(unescape_path("foo-bar") == "/foo/bar");
  for (const char* bad : {"-foo-bar", "foo-", "foo--bar"}) {
    CAPTURE(bad);
    CHECK(error_of([&] { unescape_path(bad); }).find("not a normalized path") != std::string::npos);
  }
  CHECK(error_of([] { escape_path("rel/x"); }).find("not absolute") != std::string::npos);
  CHECK(error_of([] { escape_path("/a/../b"); }).find("..") != std::string::npos);
}

TEST_CASE("instance_of names an instance of a template as systemd-escape --template does") {
  CHECK(instance_of("app@.service", "a/b c").str() == "app@a-b\\x20c.service");
  CHECK(instance_of("web@.service", "1").str() == "web@1.service");
  CHECK(error_of([] { instance_of("web.service", "1"); }).find("not a template") !=
        std::string::npos);
  CHECK(error_of([] { instance_of("web@.service", ""); }).find("valid unit name") !=
        std::string::npos);
  CHECK(error_of([] { instance_of("web@.service", std::string(300, 'x')); }).find("too long") !=
        std::string::npos);
}

TEST_CASE("specifiers resolve as systemd resolves them for a template instance") {
  UnitName unit = parse_unit_name("web-discovery@a\\x20b-c.service");
  CHECK(resolve_specifiers("%n", unit) == "web-discovery@a\\x20b-c.service");
  CHECK(resolve_specifiers("%N", unit) == "web-discovery@a\\x20b-c");
  CHECK(resolve_specifiers("%p", unit) == "web-discovery");
  CHECK(resolve_specifiers("%P", unit) == "web/discovery");
  CHECK(resolve_specifiers("%i", unit) == "a\\x20b-c");
  CHECK(resolve_specifiers("%I", unit) == "a b/c");
  CHECK(resolve_specifiers("%j", unit) == "discovery");
  CHECK(resolve_specifiers("MachineOf=web@%i.service 100%%", unit) ==
        "MachineOf=web@a\\x20b-c.service 100%");
  CHECK(error_of([&] { resolve_specifiers("%H", unit); }).find("%H") != std::string::npos);
  CHECK(error_of([&] { resolve_specifiers("50%", unit); }).find("lone '%'") != std::string::npos);
  CHECK(escape_specifiers("100% of %i") == "100%% of %%i");
  CHECK(resolve_specifiers(escape_specifiers("100% of %i"), unit) == "100% of %i");
}

TEST_CASE("escape_instance agrees with systemd-escape on random strings") {
  std::string tool = herald::test::find_program("systemd-escape");
  if (tool.empty()) {
    herald::test::skip("systemd-escape is not installed (Debian package systemd)");
  }
  std::mt19937 random(11);
  const std::string alphabet = "ab-/._:@\\ %$\"'\xc3\xa9~x0";
  for (int round = 0; round < 40; ++round) {
    std::string text;
    int length = 1 + static_cast<int>(random() % 12);
    for (int i = 0; i < length; ++i) {
      text += alphabet[random() % alphabet.size()];
    }
    CAPTURE(text);
    auto escaped = herald::test::run({tool, "--", text});
    REQUIRE(escaped.status == 0);
    CHECK(escape_instance(text) + "\n" == escaped.out);
    auto unescaped = herald::test::run({tool, "--unescape", "--", escape_instance(text)});
    REQUIRE(unescaped.status == 0);
    CHECK(unescape_instance(escape_instance(text)) + "\n" == unescaped.out);
  }
}

TEST_SUITE_END();
