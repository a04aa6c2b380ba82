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

std::string execute_parsed(const std::string& text) {
  TreeSet set = parse(text);
  std::string out;
  execute_tree(out, set, set.at("p").get(), "p", {}, Value(), ExecOptions{});
  return out;
}

std::string round_trip(const std::string& text) {
  TreeSet set = parse(text);
  return node_string(*set.at("p")->root);
}

} // namespace

TEST_SUITE_BEGIN("tmpl");

TEST_CASE("deep nesting is a parse error naming the line, not a stack overflow") {
  // Before the fix 10 000 nested parentheses or {{if}} crashed the parser (SIGSEGV).
  auto error_of = [](const std::string& text) {
    try {
      parse(text);
    } catch (const TemplateError& e) {
      return std::string(e.what());
    }
    return std::string("parsed");
  };
  const std::string limit = "max expression depth exceeded: more than " +
                            std::to_string(k_max_parse_depth) +
                            " nested parentheses, {{if}}, {{range}}, {{with}} and {{block}}";
  std::string parens = "x\n{{" + std::string(10000, '(') + "1" + std::string(10000, ')') + "}}";
  CHECK(error_of(parens) == "template: p:2: " + limit);
  std::string ifs;
  for (int i = 0; i < 10000; ++i) {
    ifs += "{{if 1}}";
  }
  CHECK(error_of(ifs) == "template: p:1: " + limit);
  std::string chain = "{{if 0}}";
  for (int i = 0; i < 10000; ++i) {
    chain += "{{else if 0}}";
  }
  CHECK(error_of(chain + "{{end}}") == "template: p:1: " + limit);
  std::string blocks;
  for (int i = 0; i < 10000; ++i) {
    blocks += "{{block \"b" + std::to_string(i) + "\" .}}";
  }
  CHECK(error_of(blocks) == "template: p:1: " + limit);
  std::string ranges;
  for (int i = 0; i < 10000; ++i) {
    ranges += "{{range .}}{{with .}}";
  }
  CHECK(error_of(ranges) == "template: p:1: " + limit);
}

TEST_CASE("nesting up to the depth limit parses") {
  int n = k_max_parse_depth;
  std::string parens = "{{" + std::string(n, '(') + "1" + std::string(n, ')') + "}}";
  CHECK_NOTHROW(parse(parens));
  std::string ifs;
  for (int i = 0; i < n; ++i) {
    ifs += "{{if 1}}";
  }
  for (int i = 0; i < n; ++i) {
    ifs += "{{end}}";
  }
  CHECK(execute_parsed(ifs) == "");
}

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
