// confd's function set, each function as confd 0.17 (Go 1.19) behaves.

#include "herald/core/json_limits.hpp"
#include "herald/tmpl/funcs_confd.hpp"
#include "herald/tmpl/go_time.hpp"
#include "support/temp_dir.hpp"

#include <cstdlib>
#include <doctest/doctest.h>
#include <string>

using namespace herald::tmpl;

namespace {

std::shared_ptr<KvStore> store() {
  auto s = std::make_shared<KvStore>();
  s->set("/s/alpha", "aaaaa");
  s->set("/s/b", "b");
  s->set("/s/cc", "ccc");
  s->set("/s/dddd", "dd");
  s->set("/app/name", "hello");
  s->set("/app/empty", "");
  return s;
}

std::string render(const std::string& text, const Value& data = Value()) {
  try {
    return Template::parse("c.tmpl", text, confd_funcs(store())).execute(data);
  } catch (const TemplateError& e) {
    return std::string("ERROR: ") + e.what();
  }
}

} // namespace

TEST_SUITE_BEGIN("tmpl");

TEST_CASE("confd key functions read the store with memkv's semantics") {
  CHECK(render("{{getv \"/app/name\"}}") == "hello");
  CHECK(
      render("{{getv \"/nope\" \"dflt\"}}|{{getv \"/nope\" \"\"}}|{{getv \"/app/empty\" \"x\"}}") ==
      "dflt||");
  CHECK(render("{{getv \"/nope\"}}") ==
        "ERROR: template: c.tmpl:1:2: executing \"c.tmpl\" at <getv \"/nope\">: error calling "
        "getv: key does not exist: /nope");
  CHECK(render("{{(get \"/app/name\").Value}} {{get \"/app/name\"}}") == "hello {/app/name hello}");
  CHECK(render("{{get \"/x\"}}") == "ERROR: template: c.tmpl:1:2: executing \"c.tmpl\" at <get "
                                    "\"/x\">: error calling get: key does not exist: /x");
  CHECK(render("{{exists \"/app/name\"}} {{exists \"/app\"}}") == "true false");
  // memkv quirks: lsdir of the root or of "" finds nothing.
  CHECK(render("{{ls \"/s\"}} {{lsdir \"/\"}} {{lsdir \"\"}}") == "[alpha b cc dddd] [] []");
  CHECK(render("{{range gets \"/s/*\"}}{{.Key}}={{.Value}} {{end}}") ==
        "/s/alpha=aaaaa /s/b=b /s/cc=ccc /s/dddd=dd ");
  CHECK(render("{{getvs \"/s/*\"}}") == "[aaaaa b ccc dd]");
  CHECK(render("{{(index (gets \"/s/*\") 0).Depth}} {{(gets \"/s/*\").Len}}") == "2 4");
  CHECK(render("{{gets \"/s/[\"}}") ==
        "ERROR: template: c.tmpl:1:2: executing \"c.tmpl\" at <gets \"/s/[\">: error calling "
        "gets: syntax error in pattern");
}

TEST_CASE("confd string functions match Go's strings and path packages") {
  CHECK(render(
            "{{split \"a,b,,c\" \",\"}} {{len (split \"\" \",\")}} {{split \"h\xC3\xA9\" \"\"}}") ==
        "[a b  c] 1 [h \xC3\xA9]");
  CHECK(render("{{join (split \"a b c\" \" \") \"-\"}}") == "a-b-c");
  // Go reports a wrong argument type at the last node it evaluated: the string constant inside
  // the parenthesized pipeline, not the pipeline.
  CHECK(render("{{join (jsonArray \"[1]\") \",\"}}") ==
        "ERROR: template: c.tmpl:1:18: executing \"c.tmpl\" at <\"[1]\">: wrong type "
        "for value; expected []string; got []interface {}");
  CHECK(render("{{toUpper \"h\xC3\xA9llo\"}} {{toLower \"\xC3\x89T\xC3\x89\"}}") ==
        "H\xC3\x89LLO \xC3\xA9t\xC3\xA9");
  CHECK(render("{{replace \"aaaa\" \"a\" \"b\" 2}} {{replace \"abc\" \"\" \"-\" -1}} "
               "{{replace \"abc\" \"x\" \"y\" -1}}") == "bbaa -a-b-c- abc");
  CHECK(render("{{contains \"hello\" \"ell\"}} {{trimSuffix \"a.conf\" \".conf\"}} "
               "{{trimSuffix \"a\" \"b\"}}") == "true a a");
  CHECK(render("{{base \"/a/b/\"}} {{dir \"/a/b/c\"}} {{base \"\"}} {{dir \"\"}}") == "b /a/b . .");
}

TEST_CASE("confd json and map build maps and slices of interface values") {
  CHECK(render(
            "{{$o := json \"{\\\"b\\\":[1,\\\"x\\\",null,true],\\\"a\\\":1e3}\"}}{{$o.a}} {{$o.b}} "
            "{{index $o.b 1}} {{$o}}") == "1000 [1 x <nil> true] x map[a:1000 b:[1 x <nil> true]]");
  CHECK(render("{{json \"null\"}} {{jsonArray \"null\"}} {{json \" {} \"}}") == "map[] [] map[]");
  CHECK(render("{{(json \"{\\\"s\\\":\\\"\\\\u00e9\\\\ud83d\\\\ude00\\\"}\").s}}") ==
        "\xC3\xA9\xF0\x9F\x98\x80");
  auto json_error = [](const std::string& input) { return render("{{json `" + input + "`}}"); };
  auto prefix = std::string("ERROR: template: c.tmpl:1:2: executing \"c.tmpl\" at <json `");
  CHECK(json_error("{") == prefix + "{`>: error calling json: unexpected end of JSON input");
  CHECK(json_error("[1]") == prefix + "[1]`>: error calling json: json: cannot unmarshal array "
                                      "into Go value of type map[string]interface {}");
  CHECK(json_error("{\"a\" 1}") ==
        prefix + "{\"a\" 1}`>: error calling json: invalid character '1' after object key");
  CHECK(json_error("{\"a\":tru}") == prefix + "{\"a\":tru}`>: error calling json: invalid "
                                              "character '}' in literal true (expecting 'e')");
  CHECK(json_error("{}x") ==
        prefix + "{}x`>: error calling json: invalid character 'x' after top-level value");
  CHECK(json_error("{\"a\":01}") ==
        prefix + "{\"a\":01}`>: error calling json: invalid character '1' after object key:value "
                 "pair");
  CHECK(render("{{jsonArray `[1,]`}}") ==
        "ERROR: template: c.tmpl:1:2: executing \"c.tmpl\" at <jsonArray `[1,]`>: error calling "
        "jsonArray: invalid character ']' looking for beginning of value");
  CHECK(render("{{$m := map \"b\" 2 \"a\" (map \"x\" 1)}}{{$m}} {{$m.a.x}}") ==
        "map[a:map[x:1] b:2] 1");
  CHECK(render("{{map \"a\"}}") == "ERROR: template: c.tmpl:1:2: executing \"c.tmpl\" at <map "
                                   "\"a\">: error calling map: invalid map call");
  CHECK(render("{{map 1 2}}") == "ERROR: template: c.tmpl:1:2: executing \"c.tmpl\" at <map 1 2>: "
                                 "error calling map: map keys must be strings");
}

TEST_CASE("json and jsonArray refuse nesting beyond the depth limit instead of crashing") {
  // Before the fix a 100 KB value of '[' overflowed the stack (SIGSEGV) in the decoder.
  auto with_value = [](const std::string& value, const std::string& text) {
    auto s = std::make_shared<KvStore>();
    s->set("/services/web/api/api@1", value);
    try {
      return Template::parse("deep.tmpl", text, confd_funcs(s)).execute(Value());
    } catch (const TemplateError& e) {
      return std::string("ERROR: ") + e.what();
    }
  };
  std::string deep(100000, '[');
  CHECK(with_value(deep, "{{jsonArray (getv \"/services/web/api/api@1\")}}") ==
        "ERROR: template: deep.tmpl:1:2: executing \"deep.tmpl\" at <jsonArray (getv "
        "\"/services/web/api/api@1\")>: error calling jsonArray: exceeded max depth: JSON nested "
        "more than 1000 levels deep");
  std::string objects;
  for (int i = 0; i < 50000; ++i) {
    objects += "{\"a\":";
  }
  CHECK(with_value(objects, "{{json (getv \"/services/web/api/api@1\")}}")
            .find("error calling json: exceeded max depth") != std::string::npos);
  std::size_t limit = herald::k_max_json_depth;
  std::string at_limit = std::string(limit, '[') + std::string(limit, ']');
  CHECK(with_value(at_limit, "{{len (jsonArray (getv \"/services/web/api/api@1\"))}}") == "1");
  std::string over = std::string(limit + 1, '[') + std::string(limit + 1, ']');
  CHECK(with_value(over, "{{len (jsonArray (getv \"/services/web/api/api@1\"))}}")
            .find("exceeded max depth") != std::string::npos);
}

TEST_CASE("functions refuse to build strings and lists past their limits") {
  // A few bytes of template would otherwise ask for gigabytes (found by the template fuzzer's
  // kind of input: replace "" / join / split / printf widths).
  CHECK(render("{{len (replace (printf \"%0999999d\" 0) \"\" (printf \"%0999d\" 0) -1)}}")
            .find("error calling replace: the result would be longer than 64 MiB") !=
        std::string::npos);
  CHECK(render("{{len (join (split (printf \"%0999999d\" 0) \"\") (printf \"%0999d\" 0))}}")
            .find("error calling join: the result would be longer than 64 MiB") !=
        std::string::npos);
  CHECK(render("{{len (split (replace (printf \"%0999999d\" 0) \"0\" \"00\" -1) \"\")}}")
            .find("error calling split: more than 1048576 parts") != std::string::npos);
  CHECK(render("{{$f := replace (printf \"%070d\" 0) \"0\" \"%0999999[1]d\" -1}}"
               "{{len (printf $f 1)}}")
            .find("error calling printf: the formatted text is longer than 64 MiB") !=
        std::string::npos);
  CHECK(render("{{len (replace (printf \"%0999999d\" 0) \"0\" \"00\" -1)}}") == "1999998");
}

TEST_CASE("confd sorting functions reverse and sort in place as confd does") {
  CHECK(render("{{reverse (getvs \"/s/*\")}} {{reverse (gets \"/s/*\")}}") ==
        "[dd ccc b aaaaa] [{/s/alpha aaaaa} {/s/b b} {/s/cc ccc} {/s/dddd dd}]");
  CHECK(render("{{sortByLength (getvs \"/s/*\")}}") == "[b dd ccc aaaaa]");
  CHECK(render("{{range sortKVByLength (gets \"/s/*\")}}{{.Key}} {{end}}") ==
        "/s/b /s/cc /s/dddd /s/alpha ");
  // sortKVByLength returns a []memkv.KVPair, which reverse does reverse.
  CHECK(render("{{range reverse (sortKVByLength (gets \"/s/*\"))}}{{.Key}} {{end}}") ==
        "/s/alpha /s/dddd /s/cc /s/b ");
  // Go slices share their array: the variable sees the in-place reversal.
  CHECK(render("{{$s := split \"a,b,c\" \",\"}}{{$r := reverse $s}}{{$s}}") == "[c b a]");
  CHECK(render("{{sortByLength (gets \"/s/*\")}}") ==
        "ERROR: template: c.tmpl:1:21: executing \"c.tmpl\" at <\"/s/*\">: wrong type for "
        "value; expected []string; got memkv.KVPairs");
}

TEST_CASE("confd arithmetic works on Go ints") {
  CHECK(render("{{add 2 3}} {{sub 2 3}} {{mul 6 7}} {{div 7 2}} {{mod 7 3}} {{div -7 2}} {{mod -7 "
               "3}}") == "5 -1 42 3 1 -3 -1");
  CHECK(render("{{seq 1 3}} {{range seq 3 1}}x{{else}}empty{{end}}") == "[1 2 3] empty");
  CHECK(render("{{add (atoi \"41\") 1}} {{atoi \"-5\"}} {{atoi \"+5\"}}") == "42 -5 5");
  CHECK(render("{{div 1 0}}") == "ERROR: template: c.tmpl:1:2: executing \"c.tmpl\" at <div 1 0>: "
                                 "error calling div: runtime error: integer divide by zero");
  CHECK(render("{{atoi \"12a\"}}") ==
        "ERROR: template: c.tmpl:1:2: executing \"c.tmpl\" at <atoi \"12a\">: error calling atoi: "
        "strconv.Atoi: parsing \"12a\": invalid syntax");
  CHECK(render("{{atoi \"99999999999999999999\"}}") ==
        "ERROR: template: c.tmpl:1:2: executing \"c.tmpl\" at <atoi \"99999999999999999999\">: "
        "error calling atoi: strconv.Atoi: parsing \"99999999999999999999\": value out of range");
  CHECK(render("{{add 1 \"2\"}}") == "ERROR: template: c.tmpl:1:8: executing \"c.tmpl\" at "
                                     "<\"2\">: expected integer; found \"2\"");
  CHECK(render("{{add 1.5 2}}") ==
        "ERROR: template: c.tmpl:1:6: executing \"c.tmpl\" at <1.5>: expected integer; found 1.5");
}

TEST_CASE("confd conversion functions match Go's strconv and encoding/base64") {
  CHECK(render("{{base64Encode \"hello world\"}} {{base64Encode \"\"}} {{base64Encode \"ab\"}}") ==
        "aGVsbG8gd29ybGQ=  YWI=");
  CHECK(render("{{base64Decode \"aGVyYWxk\"}} {{base64Decode \"YW\\nI=\"}}") == "herald ab");
  CHECK(render("{{base64Decode \"aGVsbG8\"}}") ==
        "ERROR: template: c.tmpl:1:2: executing \"c.tmpl\" at <base64Decode \"aGVsbG8\">: error "
        "calling base64Decode: illegal base64 data at input byte 4");
  CHECK(render("{{base64Decode \"a!==\"}}") ==
        "ERROR: template: c.tmpl:1:2: executing \"c.tmpl\" at <base64Decode \"a!==\">: error "
        "calling base64Decode: illegal base64 data at input byte 1");
  CHECK(render("{{parseBool \"T\"}} {{parseBool \"0\"}} {{if parseBool \"true\"}}on{{end}}") ==
        "true false on");
  CHECK(render("{{parseBool \"yes\"}}") ==
        "ERROR: template: c.tmpl:1:2: executing \"c.tmpl\" at <parseBool \"yes\">: error calling "
        "parseBool: strconv.ParseBool: parsing \"yes\": invalid syntax");
}

TEST_CASE("confd environment, file and time functions") {
  setenv("HERALD_TMPL_TEST_ENV", "set", 1);
  unsetenv("HERALD_TMPL_TEST_UNSET");
  CHECK(render("{{getenv \"HERALD_TMPL_TEST_ENV\"}} [{{getenv \"HERALD_TMPL_TEST_UNSET\"}}] "
               "{{getenv \"HERALD_TMPL_TEST_UNSET\" \"dflt\"}}") == "set [] dflt");
  herald::test::TempDir dir;
  std::string file = dir.write("f.conf", "x");
  CHECK(render("{{fileExists \"" + file + "\"}} {{fileExists \"" + dir.file("nope") + "\"}}") ==
        "true false");
  std::string year = render("{{datetime.Year}}");
  CHECK(std::stoi(year) >= 2024);
  CHECK(render("{{(datetime.UTC).Format \"MST\"}}") == "UTC");
  CHECK(render("{{datetime}}").find(" m=+") != std::string::npos);
}

TEST_CASE("confd lookupIP resolves localhost to sorted addresses") {
  std::string all = render("{{range lookupIP \"localhost\"}}{{.}} {{end}}");
  CHECK(all.find("127.0.0.1 ") != std::string::npos);
  CHECK(render("{{lookupIPV4 \"localhost\"}}") == "[127.0.0.1]");
  CHECK(
      render("{{range lookupIPV6 \"localhost\"}}{{if not (contains . \":\")}}bad{{end}}{{end}}") ==
      "");
}

TEST_CASE("Go time layouts format a fixed time as Go formats it") {
  TimeValue t;
  t.unix_seconds = 1257894000; // 2009-11-10 23:00:00 UTC
  t.nanoseconds = 123456789;
  t.zone = "UTC";
  CHECK(go::format_time(t, "Mon Jan _2 15:04:05 MST 2006") == "Tue Nov 10 23:00:00 UTC 2009");
  CHECK(go::format_time(t, "2006-01-02T15:04:05Z07:00") == "2009-11-10T23:00:00Z");
  CHECK(go::format_time(t, "02/01/06 03:04:05.000 PM") == "10/11/09 11:00:00.123 PM");
  CHECK(go::format_time(t, "15:04:05.999999") == "23:00:00.123456");
  CHECK(go::format_time(t, "Monday January 2 002 __2") == "Tuesday November 10 314 314");
  CHECK(go::time_string(t) == "2009-11-10 23:00:00.123456789 +0000 UTC");
  t.utc_offset = 3600;
  t.zone = "CET";
  t.nanoseconds = 0;
  CHECK(go::format_time(t, "2006-01-02 15:04:05 -0700 -07:00 Z0700 MST") ==
        "2009-11-11 00:00:00 +0100 +01:00 +0100 CET");
  CHECK(go::time_string(t) == "2009-11-11 00:00:00 +0100 CET");
  Entries data;
  data.emplace_back("t", Value::time(t));
  CHECK(render("{{.t.Format \"Jan 2, 2006\"}} {{.t.Unix}} {{.t.Hour}} {{.t.UTC.Hour}}",
               Value::map(data)) == "Nov 11, 2009 1257894000 0 23");
}

TEST_SUITE_END();
