// Go text/template semantics, case by case: each expectation is what Go 1.19's text/template
// prints (or the error it reports) for the same template and data.

#include "herald/tmpl/template.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace herald::tmpl;

namespace {

// The data every case sees, as Go would hold it in a map[string]interface{}.
Value test_data() {
  Entries m;
  m.emplace_back("b", Value(2));
  m.emplace_back("a", Value(1));
  Entries nested;
  nested.emplace_back("inner", Value("deep"));
  Entries data;
  data.emplace_back("list", Value::list({Value("a"), Value("b"), Value("c")}));
  data.emplace_back("strs", Value::strings({"x", "y"}));
  data.emplace_back("empty", Value::list({}));
  data.emplace_back("m", Value::map(m));
  data.emplace_back("nested", Value::map(nested));
  data.emplace_back("name", Value("web"));
  data.emplace_back("zero", Value(0));
  data.emplace_back("half", Value(0.5));
  data.emplace_back("nil", Value::nil());
  data.emplace_back("kv", Value::kv_pair("/k", "v"));
  data.emplace_back("mixed", Value::list({Value(1), Value::nil(), Value("s")}));
  return Value::map(data);
}

struct Case {
  const char* name;
  const char* text;
  const char* expected; ///< output, or the full error message when `error` is set
  bool error = false;
};

std::string run(const Case& c) {
  try {
    return Template::parse("t", c.text).execute(test_data());
  } catch (const TemplateError& e) {
    return std::string("ERROR: ") + e.what();
  }
}

void check_cases(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    INFO(c.name, ": ", c.text);
    std::string want = c.error ? std::string("ERROR: ") + c.expected : std::string(c.expected);
    CHECK(run(c) == want);
  }
}

} // namespace

TEST_SUITE_BEGIN("tmpl");

TEST_CASE("trim markers remove the white space next to an action") {
  check_cases({
      {"both sides", "a  {{- 1 -}}  b", "a1b"},
      {"newlines", "a \n\t{{- 1}}\n", "a1\n"},
      {"right only", "{{ 3 -}}\n\n  4", "34"},
      {"minus number is not a marker", "{{-3}}", "-3"},
      {"comment with markers", "x \n {{- /* c */ -}} \n y", "xy"},
      {"comment without markers", "x {{/* c */}} y", "x  y"},
      {"newline inside action", "{{\n1\n}}", "1"},
      {"trim inside range", "{{range .list -}}\n  {{.}}\n{{- end}}", "abc"},
      {"no trim without space", "{{1}}{{2 -}} 3", "123"},
  });
}

TEST_CASE("actions print values as fmt.Print does") {
  check_cases({
      {"string", "{{.name}}", "web"},
      {"int", "{{.zero}}", "0"},
      {"float", "{{.half}}", "0.5"},
      {"missing key", "{{.nope}}", "<no value>"},
      {"missing chain", "{{.nope.deeper}}", "<no value>"},
      {"nil value", "{{.nil}}", "<no value>"},
      {"print of missing", "{{print .nope}}", "<nil>"},
      {"list", "{{.list}}", "[a b c]"},
      {"map sorted", "{{.m}}", "map[a:1 b:2]"},
      {"kv pair", "{{.kv}}", "{/k v}"},
      {"nil in list", "{{.mixed}}", "[1 <nil> s]"},
      {"nested field", "{{.nested.inner}}", "deep"},
      {"dot", "{{with .name}}{{.}}{{end}}", "web"},
      {"root", "{{range .list}}{{$.name}}{{end}}", "webwebweb"},
  });
}

TEST_CASE("constants follow Go's ideal-constant rules") {
  check_cases({
      {"integral float", "{{1.0}}", "1"},
      {"float", "{{1.5}}", "1.5"},
      {"big float uses exponent", "{{1e6}}", "1e+06"},
      {"float below exponent", "{{100000.0}}", "100000"},
      {"small float", "{{0.000012}}", "1.2e-05"},
      {"hex int", "{{0x10}}", "16"},
      {"octal int", "{{0o17}}", "15"},
      {"binary int", "{{0b101}}", "5"},
      {"underscores", "{{1_000}}", "1000"},
      {"rune", "{{'a'}}", "97"},
      {"escaped rune", "{{'\\n'}}", "10"},
      {"negative", "{{-7}}", "-7"},
      {"bool", "{{true}} {{false}}", "true false"},
      {"string escapes", "{{\"a\\tb\\u00e9\"}}", "a\tb\xC3\xA9"},
      {"raw string", "{{`a\\nb`}}", "a\\nb"},
  });
}

TEST_CASE("variables are scoped as in Go") {
  check_cases({
      {"declare", "{{$x := 1}}{{$x}}", "1"},
      {"declaration prints nothing", "{{$x := 1}}", ""},
      {"shadow in if", "{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}", "21"},
      {"assign reaches outer", "{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2"},
      {"assign changes type", "{{$x := 1}}{{$x = \"s\"}}{{$x}}", "s"},
      {"with declares", "{{with $x := .name}}{{$x}}{{.}}{{end}}", "webweb"},
      {"range element", "{{range $e := .list}}{{$e}}{{end}}", "abc"},
      {"range index and element", "{{range $i, $e := .list}}{{$i}}{{$e}}{{end}}", "0a1b2c"},
      {"range map", "{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}", "a=1;b=2;"},
      {"body variables reset per iteration", "{{range .list}}{{$y := .}}{{$y}}{{end}}", "abc"},
      {"variable field", "{{$n := .nested}}{{$n.inner}}", "deep"},
      {"dollar in template", "{{define \"T\"}}{{$}}{{end}}{{template \"T\" 7}}", "7"},
      {"range assigns outer", "{{$v := 0}}{{range $v = .list}}{{end}}{{$v}}", "c"},
      {"undefined", "{{$x}}", "template: t:1: undefined variable \"$x\"", true},
      {"out of scope", "{{if true}}{{$x := 1}}{{end}}{{$x}}",
       "template: t:1: undefined variable \"$x\"", true},
  });
}

TEST_CASE("if, else if and with choose branches by Go truth") {
  check_cases({
      {"else if chain", "{{if eq 1 2}}a{{else if eq 1 1}}b{{else}}c{{end}}", "b"},
      {"empty string false", "{{if \"\"}}y{{else}}n{{end}}", "n"},
      {"zero false", "{{if .zero}}y{{else}}n{{end}}", "n"},
      {"empty list false", "{{if .empty}}y{{else}}n{{end}}", "n"},
      {"struct true", "{{if .kv}}y{{end}}", "y"},
      {"missing false", "{{if .nope}}y{{else}}n{{end}}", "n"},
      {"nil false", "{{if .nil}}y{{else}}n{{end}}", "n"},
      {"with sets dot", "{{with .nested}}{{.inner}}{{end}}", "deep"},
      {"with else keeps dot", "{{with .nope}}x{{else}}{{.name}}{{end}}", "web"},
      {"nested", "{{if true}}{{if false}}a{{else}}{{with 3}}{{.}}{{end}}{{end}}{{end}}", "3"},
  });
}

TEST_CASE("range walks lists, maps in key order, and empty values through else") {
  check_cases({
      {"list", "{{range .list}}[{{.}}]{{end}}", "[a][b][c]"},
      {"map values in key order", "{{range .m}}{{.}}{{end}}", "12"},
      {"empty else", "{{range .empty}}x{{else}}none{{end}}", "none"},
      {"missing else", "{{range .nope}}x{{else}}none{{end}}", "none"},
      {"break", "{{range .list}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}", "a"},
      {"continue", "{{range .list}}{{if eq . \"b\"}}{{continue}}{{end}}{{.}}{{end}}", "ac"},
      {"nested break", "{{range .list}}{{range $.list}}{{break}}{{end}}{{.}}{{end}}", "abc"},
      {"range over int", "{{range 5}}{{end}}",
       "template: t:1:8: executing \"t\" at <5>: range can't iterate over 5", true},
      {"break outside range", "{{break}}", "template: t:1: {{break}} outside {{range}}", true},
      {"continue outside range", "{{if 1}}{{continue}}{{end}}",
       "template: t:1: {{continue}} outside {{range}}", true},
  });
}

TEST_CASE("define, template and block invoke named templates") {
  check_cases({
      {"define and call", "{{define \"a\"}}A{{.}}{{end}}{{template \"a\" 1}}", "A1"},
      {"template without data", "{{define \"a\"}}[{{.}}]{{end}}{{template \"a\"}}", "[<no value>]"},
      {"no variables leak", "{{define \"a\"}}{{$}}{{end}}{{$x := 1}}{{template \"a\" 2}}", "2"},
      {"block", "{{block \"b\" .name}}B{{.}}{{end}}", "Bweb"},
      {"define before use later", "{{template \"z\" .name}}{{define \"z\"}}<{{.}}>{{end}}",
       "<web>"},
      {"undefined template", "{{template \"zz\"}}",
       "template: t:1:11: executing \"t\" at <{{template \"zz\"}}>: template \"zz\" not defined",
       true},
      {"redefinition", "{{define \"a\"}}1{{end}}{{define \"a\"}}2{{end}}",
       "template: t:1: template: multiple definition of template \"a\"", true},
      {"runaway recursion stops", "{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\"}}",
       "template: t:1:25: executing \"r\" at <{{template \"r\" .}}>: exceeded maximum template "
       "depth (500)",
       true},
      {"runaway recursion through nested controls stops",
       "{{define \"r\"}}{{if 1}}{{with 1}}{{template \"r\" .}}{{end}}{{end}}{{end}}{{template "
       "\"r\"}}",
       "template: t:1:29: executing \"r\" at <{{with 1}}{{template \"r\" .}}{{end}}>: exceeded "
       "maximum template depth (500)",
       true},
      {"recursion over data",
       "{{define \"r\"}}{{if .}}{{len .}}{{template \"r\" (slice . 1)}}{{end}}"
       "{{end}}{{template \"r\" .list}}",
       "321"},
      {"error inside a defined template", "{{define \"d\"}}\n {{len 3}}{{end}}{{template \"d\"}}",
       "template: t:2:3: executing \"d\" at <len 3>: error calling len: len of type int", true},
  });
}

TEST_CASE("comparisons follow Go's rules for ints, floats and strings") {
  check_cases({
      {"basic",
       "{{eq 1 1}} {{eq 1 2 1}} {{ne \"a\" \"b\"}} {{lt 1 2}} {{lt 1.5 2.5}} {{le \"a\" \"a\"}} "
       "{{gt 3 2}} {{ge 2 3}}",
       "true true true true true true true false"},
      {"strings order", "{{lt \"B\" \"a\"}} {{gt \"b\" \"ab\"}}", "true true"},
      {"eq missing and missing", "{{eq .nope .nope2}}", "true"},
      {"eq value and missing", "{{eq .name .nope}}", "false"},
      {"eq records", "{{eq .kv .kv}}", "true"},
      {"int vs float", "{{eq 1 1.0}}",
       "template: t:1:2: executing \"t\" at <eq 1 1.0>: error calling eq: incompatible types for "
       "comparison",
       true},
      {"lt int vs string", "{{lt 1 \"a\"}}",
       "template: t:1:2: executing \"t\" at <lt 1 \"a\">: error calling lt: incompatible types for "
       "comparison",
       true},
      {"lt bools", "{{lt true false}}",
       "template: t:1:2: executing \"t\" at <lt true false>: error calling lt: invalid type for "
       "comparison",
       true},
      {"eq of a list", "{{eq .list 1}}",
       "template: t:1:2: executing \"t\" at <eq .list 1>: error calling eq: uncomparable type "
       "[]interface {}: [a b c]",
       true},
      {"eq one arg", "{{eq 1}}",
       "template: t:1:2: executing \"t\" at <eq 1>: error calling eq: missing argument for "
       "comparison",
       true},
      {"lt arity", "{{lt 1 2 3}}",
       "template: t:1:2: executing \"t\" at <lt>: wrong number of args for lt: want 2 got 3", true},
  });
}

TEST_CASE("and, or and not short-circuit and return the deciding value") {
  check_cases({
      {"and first false", "{{and 1 0 2}}", "0"},
      {"and all true", "{{and 1 2}}", "2"},
      {"or first true", "{{or 0 \"\" 3}}", "3"},
      {"or all false", "{{or 0 false}}", "false"},
      {"or short-circuits", "{{or 1 (index .list 10)}}", "1"},
      {"and short-circuits", "{{and 0 (index .list 10)}}", "0"},
      {"not", "{{not 0}} {{not .list}} {{not .nope}}", "true false true"},
      {"pipeline final arg", "{{0 | and 1}}", "0"},
      {"and needs an argument", "{{and}}",
       "template: t:1:2: executing \"t\" at <and>: wrong number of args for and: want at least 1 "
       "got 0",
       true},
  });
}

TEST_CASE("len, index and slice behave as Go's builtins") {
  check_cases({
      {"len", "{{len .list}} {{len .m}} {{len \"h\xC3\xA9llo\"}}", "3 2 6"},
      {"index list", "{{index .list 1}}", "b"},
      {"index map", "{{index .m \"a\"}}", "1"},
      {"index missing map key", "{{index .m \"zz\"}}", "<no value>"},
      {"index string gives a byte", "{{index \"abc\" 1}}", "98"},
      {"index nested", "{{index .nested \"inner\"}}", "deep"},
      {"slice string", "{{slice \"abcdef\" 1 3}}", "bc"},
      {"slice list", "{{slice .list 1}}", "[b c]"},
      {"slice whole", "{{slice .list}}", "[a b c]"},
      {"index out of range", "{{index .list 5}}",
       "template: t:1:2: executing \"t\" at <index .list 5>: error calling index: index out of "
       "range: 5",
       true},
      {"index at length", "{{index .list 3}}",
       "template: t:1:2: executing \"t\" at <index .list 3>: error calling index: reflect: slice "
       "index out of range",
       true},
      {"index of int", "{{index 1 2}}",
       "template: t:1:2: executing \"t\" at <index 1 2>: error calling index: can't index item of "
       "type int",
       true},
      {"slice backwards", "{{slice \"abc\" 2 1}}",
       "template: t:1:2: executing \"t\" at <slice \"abc\" 2 1>: error calling slice: invalid "
       "slice index: 2 > 1",
       true},
      {"len of int", "{{len 3}}",
       "template: t:1:2: executing \"t\" at <len 3>: error calling len: len of type int", true},
      {"len of nil", "{{len .nil}}",
       "template: t:1:2: executing \"t\" at <len .nil>: error calling len: len of nil pointer",
       true},
  });
}

TEST_CASE("printf supports Go's verbs, flags, width and precision") {
  check_cases({
      {"integers",
       "{{printf \"%d|%5d|%-5d|%05d|%+d|%x|%X|%o|%b|%08d\" 42 42 42 42 42 255 255 8 5 -42}}",
       "42|   42|42   |00042|+42|ff|FF|10|101|-0000042"},
      {"strings",
       "{{printf \"%s|%10s|%-10s|%.2s|%q|%x|% x|%X\" \"ab\" \"ab\" \"ab\" \"abc\" \"a\\\"b\" "
       "\"hi\" "
       "\"hi\" \"hi\"}}",
       "ab|        ab|ab        |ab|\"a\\\"b\"|6869|68 69|6869"},
      {"floats",
       "{{printf \"%f|%.2f|%8.3f|%e|%g|%.3g|%5.1f|%-9.2e|\" 3.14159 3.14159 3.14159 1234.5678 "
       "1234.5678 1234.5678 3.14159 31415.9}}",
       "3.141590|3.14|   3.142|1.234568e+03|1234.5678|1.23e+03|  3.1|3.14e+04 |"},
      {"value verbs", "{{printf \"%v %v %v %v\" 1 1.5 \"s\" true}}", "1 1.5 s true"},
      {"bool, char, unicode", "{{printf \"%t %c %U %#U %q\" true 65 65 65 65}}",
       "true A U+0041 U+0041 'A' 'A'"},
      {"containers", "{{printf \"%v|%v|%q|%d\" .list .m .strs .m}}",
       "[a b c]|map[a:1 b:2]|[\"x\" \"y\"]|map[%!d(string=a):1 %!d(string=b):2]"},
      {"struct forms", "{{printf \"%v|%+v|%#v\" .kv .kv .kv}}",
       "{/k v}|{Key:/k Value:v}|memkv.KVPair{Key:\"/k\", Value:\"v\"}"},
      {"go syntax", "{{printf \"%#v|%#v|%#v\" .strs \"s\" .m}}",
       "[]string{\"x\", \"y\"}|\"s\"|map[string]interface {}{\"a\":1, \"b\":2}"},
      {"types", "{{printf \"%T %T %T %T %T\" 1 1.5 \"s\" .list .kv}}",
       "int float64 string []interface {} memkv.KVPair"},
      {"percent", "{{printf \"%6.2f%%\" 99.5}}", " 99.50%"},
      {"wrong verb", "{{printf \"%d\" \"x\"}}", "%!d(string=x)"},
      {"wrong verb keeps width", "{{printf \"%5t\" 1}}", "%!t(int=    1)"},
      {"missing operand", "{{printf \"%d %d\" 1}}", "1 %!d(MISSING)"},
      {"extra operands", "{{printf \"%d\" 1 2 \"x\"}}", "1%!(EXTRA int=2, string=x)"},
      {"unknown verb", "{{printf \"%z\" 1}}", "%!z(int=1)"},
      {"no verb", "{{printf \"%\"}}", "%!(NOVERB)"},
      {"explicit indexes", "{{printf \"%[2]d %[1]d\" 1 2}}", "2 1"},
      {"bad index", "{{printf \"%[3]d\" 1}}", "%!d(BADINDEX)"},
      {"star width", "{{printf \"%*d|%-*d|\" 5 1 3 2}}", "    1|2  |"},
      {"nil operand", "{{printf \"%v %d\" nil nil}}", "<nil> %!d(<nil>)"},
      {"nil in list with verb", "{{printf \"%d\" .mixed}}", "[1 <nil> %!d(string=s)]"},
      {"zero precision zero", "{{printf \"%.0d|%5.0d|\" 0 0}}", "|     |"},
      {"space flag", "{{printf \"% d|% d\" 5 -5}}", " 5|-5"},
      {"sharp", "{{printf \"%#x|%#o|%#q\" 255 8 \"a\"}}", "0xff|010|`a`"},
      {"zero padded string", "{{printf \"%05s\" \"ab\"}}", "000ab"},
      {"rune width", "{{printf \"%3s|\" \"\xC3\xA9\"}}", "  \xC3\xA9|"},
      {"pipeline final argument", "{{\"a\" | printf \"%s-%s\" \"b\"}}", "b-a"},
      {"constant format required", "{{printf 1}}",
       "template: t:1:9: executing \"t\" at <1>: expected string; found 1", true},
  });
}

TEST_CASE("print, println, html, js and urlquery format like Go") {
  check_cases({
      {"print spacing", "{{print 1 2 \"a\" 3 \"b\" \"c\"}}", "1 2a3bc"},
      {"println", "{{println 1 \"a\"}}", "1 a\n"},
      {"html", "{{html \"<a href='x'>&\\\"</a>\"}}",
       "&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;"},
      {"html of missing", "{{html .nope}}", "&lt;no value&gt;"},
      {"js", "{{js \"it's \\\"q\\\" <b>=&\\\\\"}}",
       "it\\'s \\\"q\\\" \\u003Cb\\u003E\\u003D\\u0026\\\\"},
      {"js control", "{{js \"a\\nb\"}}", "a\\u000Ab"},
      {"urlquery", "{{urlquery \"a b&c=d/é\"}}", "a+b%26c%3Dd%2F%C3%A9"},
      {"html of several", "{{html 1 2 \"<\"}}", "1 2&lt;"},
  });
}

TEST_CASE("pipelines pass the previous value as the last argument") {
  check_cases({
      {"chain", "{{.list | len | printf \"%03d\"}}", "003"},
      {"parenthesized", "{{printf \"%s\" (index .list 0)}}", "a"},
      {"parenthesized field", "{{(index .list 0) | printf \"<%s>\"}}", "<a>"},
      {"chain on parens", "{{(.nested).inner}}", "deep"},
      {"non executable stage", "{{.name | 1}}",
       "template: t:1: non executable command in pipeline stage 2", true},
      {"argument to a value", "{{.name 1}}",
       "template: t:1:2: executing \"t\" at <.name>: name is not a method but has arguments", true},
  });
}

TEST_CASE("parse errors read as Go's, with the line") {
  check_cases({
      {"unclosed action", "{{.x", "template: t:1: unclosed action", true},
      {"unclosed action over lines", "{{if\n\n", "template: t:3: unclosed action started at t:1",
       true},
      {"missing end", "{{if 1}}\nx\n", "template: t:3: unexpected EOF", true},
      {"stray end", "a\n{{end}}", "template: t:2: unexpected {{end}}", true},
      {"stray else", "{{else}}", "template: t:1: unexpected {{else}}", true},
      {"unknown function", "\n{{nosuch 1}}", "template: t:2: function \"nosuch\" not defined",
       true},
      {"unterminated string", "{{\"abc}}", "template: t:1: unterminated quoted string", true},
      {"bad character", "{{.}\n", "template: t:1: bad character U+007D '}'", true},
      {"comment not closed", "{{/* x", "template: t:1: unclosed comment", true},
      {"comment too early", "{{/* x */ 1}}", "template: t:1: comment ends before closing delimiter",
       true},
      {"space before comment", "{{ /* c */ }}", "template: t:1: unexpected \"/\" in command", true},
      {"unclosed paren", "{{(1}}", "template: t:1: unclosed left paren", true},
      {"stray paren", "{{1)}}", "template: t:1: unexpected \")\" in command", true},
      {"too many range variables", "{{range $a, $b, $c := .}}{{end}}",
       "template: t:1: too many declarations in range", true},
      {"with takes one variable", "{{with $a, $b := .}}{{end}}",
       "template: t:1: too many declarations in with", true},
      {"empty action", "{{}}", "template: t:1: missing value for command", true},
      {"field on a constant", "{{\"a\".b}}", "template: t:1: unexpected . after term \"\\\"a\\\"\"",
       true},
      {"bad number", "{{3k}}", "template: t:1: bad number syntax: \"3k\"", true},
      {"else with extra", "{{if 1}}{{else 2}}{{end}}", "template: t:1: unexpected \"2\" in else",
       true},
      {"long token quoted", "{{if 1}}{{end \"abcdefghijklmnop\"}}",
       "template: t:1: unexpected \"\\\"abcdefghi\"... in end", true},
      {"keyword token", "{{template .}}", "template: t:1: unexpected <.> in template clause", true},
      {"float overflow", "{{1e309}}", "template: t:1: illegal number syntax: \"1e309\"", true},
      {"integer overflow", "{{99999999999999999999}}",
       "template: t:1: integer overflow: \"99999999999999999999\"", true},
  });
}

TEST_CASE("execution errors name template, line, column and expression") {
  check_cases({
      {"field of string", "{{$x := \"s\"}}\n{{$x.foo}}",
       "template: t:2:4: executing \"t\" at <$x.foo>: can't evaluate field foo in type string",
       true},
      {"field of boxed value", "{{range .list}}{{.foo}}{{end}}",
       "template: t:1:17: executing \"t\" at <.foo>: can't evaluate field foo in type interface {}",
       true},
      {"field of nil", "{{.nil.x}}",
       "template: t:1:6: executing \"t\" at <.nil.x>: nil pointer evaluating interface {}.x", true},
      {"field of boxed record", "{{.kv.Nope}}",
       "template: t:1:5: executing \"t\" at <.kv.Nope>: can't evaluate field Nope in type "
       "interface {}",
       true},
      {"record field missing", "{{$k := .kv}}{{$k.Nope}}",
       "template: t:1:17: executing \"t\" at <$k.Nope>: can't evaluate field Nope in type "
       "memkv.KVPair",
       true},
      {"nil command", "{{nil}}", "template: t:1:2: executing \"t\" at <nil>: nil is not a command",
       true},
      {"argument to dot", "{{. 1}}",
       "template: t:1:2: executing \"t\" at <.>: can't give argument to non-function .", true},
      {"wrong arity", "{{len}}",
       "template: t:1:2: executing \"t\" at <len>: wrong number of args for len: want 1 got 0",
       true},
      {"wrong type", "{{printf .zero}}",
       "template: t:1:9: executing \"t\" at <.zero>: wrong type for value; expected string; got "
       "int",
       true},
      {"column counts bytes", "ab\n  x {{index 1 1}}",
       "template: t:2:6: executing \"t\" at <index 1 1>: error calling index: can't index item of "
       "type int",
       true},
  });
}

TEST_CASE("functions receive arguments checked against their Go signature") {
  FuncMap funcs;
  funcs.emplace("twice", Function(Signature{{GoType::integer()}, {}}, [](std::span<const Value> a) {
                  return Value(a[0].as_int() * 2);
                }));
  funcs.emplace("upper", Function(Signature{{GoType::string()}, {}}, [](std::span<const Value> a) {
                  std::string s = a[0].as_string();
                  for (auto& ch : s) {
                    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                  }
                  return Value(s);
                }));
  funcs.emplace("boom", Function([](std::span<const Value>) -> Value {
                  throw herald::Error(herald::ErrorKind::data, "it broke");
                }));
  funcs.emplace("count", Function([](std::span<const Value> a) {
                  return Value(static_cast<std::int64_t>(a.size()));
                }));
  auto render = [&](const char* text) {
    try {
      return Template::parse("f", text, funcs).execute(test_data());
    } catch (const TemplateError& e) {
      return std::string(e.what());
    }
  };
  CHECK(render("{{twice 21}} {{upper .name}} {{count 1 2 3}}") == "42 WEB 3");
  CHECK(render("{{21 | twice}}") == "42");
  CHECK(render("{{twice 1.0}}") == "2"); // an integral constant is an integer
  CHECK(render("{{twice 1.5}}") ==
        "template: f:1:8: executing \"f\" at <1.5>: expected integer; found 1.5");
  CHECK(render("{{twice .half}}") == "template: f:1:8: executing \"f\" at <.half>: wrong type for "
                                     "value; expected int; got float64");
  CHECK(render("{{upper 3}}") ==
        "template: f:1:8: executing \"f\" at <3>: expected string; found 3");
  CHECK(render("{{upper nil}}") == "template: f:1:8: executing \"f\" at <nil>: cannot assign nil "
                                   "to string");
  CHECK(render("{{upper .nope}}") == "template: f:1:8: executing \"f\" at <.nope>: invalid value; "
                                     "expected string");
  CHECK(render("{{boom}}") == "template: f:1:2: executing \"f\" at <boom>: error calling boom: it "
                              "broke");
  CHECK(
      render("{{twice 1 2}}") ==
      "template: f:1:2: executing \"f\" at <twice>: wrong number of args for twice: want 1 got 2");
}

TEST_CASE("a template can be executed again with other function implementations") {
  FuncMap v1;
  v1.emplace("ver", Function([](std::span<const Value>) { return Value("one"); }));
  FuncMap v2;
  v2.emplace("ver", Function([](std::span<const Value>) { return Value("two"); }));
  Template t = Template::parse("v", "{{ver}}", v1);
  CHECK(t.execute(Value()) == "one");
  CHECK(t.with_funcs(v2).execute(Value()) == "two");
  CHECK(t.execute(Value()) == "one");
}

TEST_CASE("defined templates can be listed and executed by name") {
  Template t = Template::parse("main", "{{define \"a\"}}A{{.}}{{end}}{{block \"b\" 1}}B{{end}}M");
  CHECK(t.defines("a"));
  CHECK(t.defines("b"));
  CHECK_FALSE(t.defines("c"));
  CHECK(t.template_names() == std::vector<std::string>{"a", "b", "main"});
  std::string out;
  t.execute_template(out, "a", Value(5));
  CHECK(out == "A5");
  CHECK_THROWS_WITH_AS(t.execute_template(out, "zz", Value()),
                       "template: no template \"zz\" associated with template \"main\"",
                       TemplateError);
}

TEST_CASE("a parse error carries the location and a hint for a misspelt function") {
  FuncMap funcs;
  funcs.emplace("getv", Function([](std::span<const Value>) { return Value(); }));
  try {
    Template::parse("nginx.tmpl", "line\n{{getvv \"/x\"}}", funcs);
    FAIL("parse should have failed");
  } catch (const TemplateError& e) {
    CHECK(std::string(e.what()) == "template: nginx.tmpl:2: function \"getvv\" not defined");
    CHECK(e.template_name() == "nginx.tmpl");
    CHECK(e.line() == 2);
    CHECK(e.hint() == "did you mean \"getv\"?");
    CHECK(e.kind() == herald::ErrorKind::data);
  }
}

TEST_SUITE_END();
