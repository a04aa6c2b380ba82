#include "herald/tmpl/exec.hpp"
#include "herald/tmpl/parser.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace herald::tmpl;

namespace {

TreeSet parse(const std::string& text) {
  TreeSet set;
  auto has = [](std::string_view n) { return builtin_funcs().contains(n); };
  parse_into(set, "p", std::make_shared<const std::string>(text), has, {});
  return set;
}

std::string round_trip(const std::string& text) {
  TreeSet set = parse(text);
  return node_string(*set.at("p")->root);
}

} // namespace

TEST_SUITE_BEGIN("tmpl");

TEST_CASE("parser builds the tree Go builds, printed as Go's Node.String") {
  CHECK(round_trip("a{{.b.c}}{{$x := 1}}{{$x}}") == "a{{.b.c}}{{$x := 1}}{{$x}}");
  CHECK(round_trip("{{if .a}}x{{else if .b}}y{{else}}z{{end}}") ==
        "{{if .a}}x{{else}}{{if .b}}y{{else}}z{{end}}{{end}}");
  CHECK(round_trip("{{range $i, $e := .l}}{{$e}}{{else}}none{{end}}") ==
        "{{range $i, $e := .l}}{{$e}}{{else}}none{{end}}");
  CHECK(round_trip("{{with (index .m \"k\").f}}{{.}}{{end}}") ==
        "{{with (index .m \"k\").f}}{{.}}{{end}}");
  CHECK(round_trip("{{.x | printf \"%s\" | len}}") == "{{.x | printf \"%s\" | len}}");
  CHECK(round_trip("{{template \"t\" .}}{{/* gone */}}") == "{{template \"t\" .}}");
  CHECK(round_trip("{{$x = 2}}") == "{{$x := 2}}"); // Go prints assignments with :=
}

TEST_CASE("parser stores define and block bodies as their own templates") {
  TreeSet set = parse("{{define \"a\"}}A{{end}}{{block \"b\" .}}B{{end}}main");
  REQUIRE(set.size() == 3);
  CHECK(node_string(*set.at("a")->root) == "A");
  CHECK(node_string(*set.at("b")->root) == "B");
  CHECK(node_string(*set.at("p")->root) == "{{template \"b\" .}}main");
  CHECK(set.at("a")->parse_name == "p");
}

TEST_CASE("parser keeps number constants under every type that can hold them") {
  TreeSet set = parse("{{1.0}}{{0x1F}}{{'x'}}{{1e3}}");
  const auto& nodes = set.at("p")->root->nodes;
  auto number = [&](std::size_t i) -> const NumberNode& {
    const auto& action = static_cast<const ActionNode&>(*nodes[i]);
    return static_cast<const NumberNode&>(*action.pipe->cmds[0]->args[0]);
  };
  CHECK(number(0).is_int);
  CHECK(number(0).is_float);
  CHECK(number(1).int64 == 31);
  CHECK(number(2).int64 == 'x');
  CHECK(number(3).is_float);
  CHECK(number(3).int64 == 1000);
}

TEST_CASE("an empty redefinition keeps the template already defined") {
  TreeSet set = parse("{{define \"p\"}}body{{end}}  ");
  CHECK(node_string(*set.at("p")->root) == "body");
}

TEST_SUITE_END();
