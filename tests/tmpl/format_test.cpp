// Go's fmt as the engine implements it, checked directly on values.

#include "herald/tmpl/format.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace herald::tmpl;

namespace {

std::string f(std::string_view format, std::vector<Value> args) {
  return sprintf(format, args);
}

} // namespace

TEST_SUITE_BEGIN("tmpl");

TEST_CASE("floats format as strconv.FormatFloat does") {
  CHECK(f("%v", {Value(123456789.0)}) == "1.23456789e+08");
  CHECK(f("%v %v %v", {Value(1e21), Value(1e20), Value(0.1)}) == "1e+21 1e+20 0.1");
  CHECK(f("%g %g", {Value(1e-7), Value(0.0)}) == "1e-07 0");
  CHECK(f("%v", {Value(-0.0)}) == "-0");
  CHECK(f("%.3e|%+.2e|%e", {Value(0.0), Value(12345.678), Value(-1.5)}) ==
        "0.000e+00|+1.23e+04|-1.500000e+00");
  CHECK(f("%.1f %.0f %.0f", {Value(0.25), Value(2.5), Value(3.5)}) == "0.2 2 4");
  CHECK(f("%08.3f|%-8.2f|%+f", {Value(-3.14159), Value(2.5), Value(1.0)}) ==
        "-003.142|2.50    |+1.000000");
  CHECK(f("%.3g|%.10g|%G", {Value(0.0001234), Value(1.0 / 3), Value(1e-10)}) ==
        "0.000123|0.3333333333|1E-10");
  CHECK(f("%v", {Value(100000000000000000000.0 * 10)}) == "1e+21");
}

TEST_CASE("integers, strings and runes format with Go's flags") {
  CHECK(f("%x %X %o %O %b", {Value(-255), Value(255), Value(8), Value(8), Value(-5)}) ==
        "-ff FF 10 0o10 -101");
  CHECK(f("%-08d|%+05d|%.3d|%6.3d", {Value(5), Value(5), Value(7), Value(7)}) ==
        "5       |+0005|007|   007");
  CHECK(f("%c|%q|%U|%#U", {Value(0x1F600), Value(0x1F600), Value(0x1F600), Value(0x263A)}) ==
        "\xF0\x9F\x98\x80|'\xF0\x9F\x98\x80'|U+1F600|U+263A '\xE2\x98\xBA'");
  CHECK(f("%q|%+q|%#q|%q", {Value("\xC3\xA9\n"), Value("\xC3\xA9"), Value("a`b"), Value("\xff")}) ==
        "\"\xC3\xA9\\n\"|\"\\u00e9\"|\"a`b\"|\"\\xff\"");
  CHECK(f("%5.2v|%-4s|%.0s|", {Value("abc"), Value("ab"), Value("abc")}) == "   ab|ab  ||");
  CHECK(f("%X|% X|%#x", {Value("\x01\xff"), Value("ab"), Value("ab")}) == "01FF|61 62|0x6162");
  CHECK(f("%t|%v|%d", {Value(false), Value(true), Value(true)}) == "false|true|%!d(bool=true)");
}

TEST_CASE("sprint separates operands unless one is a string, sprintln always") {
  std::vector<Value> args{Value(1), Value(2), Value("a"), Value("b"), Value(3), Value::nil()};
  CHECK(sprint(args) == "1 2ab3 <nil>");
  CHECK(sprintln(args) == "1 2 a b 3 <nil>\n");
  std::string out;
  append_print(out, Value::list({Value(1.5), Value::kv_pair("k", "v")}));
  CHECK(out == "[1.5 {k v}]");
}

TEST_SUITE_END();
