#include "herald/core/error.hpp"
#include "herald/units/quote.hpp"
#include "herald/units/unit_name.hpp"

#include <doctest/doctest.h>
#include <random>
#include <string>
#include <vector>

using namespace herald;
using namespace herald::units;

using Words = std::vector<std::string>;

TEST_SUITE_BEGIN("units");

TEST_CASE("split_words reads words as systemd's extract_first_word does") {
  CHECK(split_words("") == Words{});
  CHECK(split_words("  a  b\tc ") == Words{"a", "b", "c"});
  CHECK(split_words(R"("A=1 2" 'B=3 4' C=5)") == Words{"A=1 2", "B=3 4", "C=5"});
  CHECK(split_words(R"(pre"quoted part"post)") == Words{"prequoted partpost"});
  CHECK(split_words(R"("" '')") == Words{"", ""});
  CHECK(split_words(R"("a\nb\t\\\"c\x41\101\u00e9\s" 'single \' inside')") ==
        Words{"a\nb\t\\\"cAA\xc3\xa9 ", "single ' inside"});
  CHECK(split_words("%i $HOME ${X}") == Words{"%i", "$HOME", "${X}"});
}

TEST_CASE("split_words refuses what systemd refuses") {
  for (const char* bad : {R"("open)", R"('open)", R"(a\)", R"(a\ b)", R"(a\q)", R"(a\x0)",
                          R"(a\x00)", R"(a\000)", R"(a\400)", R"(\uD800)", R"(\U00110000)"}) {
    CAPTURE(bad);
    try {
      split_words(bad);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::data);
    }
  }
}

TEST_CASE("quote_word leaves plain words alone and quotes the rest so they read back") {
  CHECK(quote_word("/usr/bin/docker") == "/usr/bin/docker");
  CHECK(quote_word("web.1") == "web.1");
  CHECK(quote_word("--label=herald.app=web") == "--label=herald.app=web");
  CHECK(quote_word("") == R"("")");
  CHECK(quote_word("two words") == R"("two words")");
  CHECK(quote_word("a\"b\\c\nd") == R"("a\"b\\c\nd")");
  CHECK(quote_word(";") == R"(";")");
  CHECK(quote_word("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
  CHECK(quote_word("bad\xff") == R"("bad\xff")");
  CHECK_THROWS_AS(quote_word(std::string("a\0b", 3)), Error);
}

TEST_CASE("environment_word sets exactly the value, specifiers and quotes included") {
  CHECK(environment_word("A", "1") == "A=1");
  CHECK(environment_word("MSG", "50% of \"x\"\nnext") == R"("MSG=50%% of \"x\"\nnext")");
  UnitName unit = parse_unit_name("web@1.service");
  std::string word = environment_word("T", "%i $HOME \\ ' \t");
  Words words = split_words(word);
  REQUIRE(words.size() == 1);
  CHECK(resolve_specifiers(words[0], unit) == "T=%i $HOME \\ ' \t");
  for (const char* bad : {"", "1A", "A-B", "A B", "Ä"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(environment_word(bad, "x"), Error);
  }
  CHECK_THROWS_AS(environment_word("A", "\xff"), Error);
  CHECK(is_valid_environment_name("_x9"));
}

TEST_CASE("exec_argument doubles $ and % so the program gets the exact bytes") {
  CHECK(exec_argument("--port") == "--port");
  CHECK(exec_argument("$HOME") == R"("$$HOME")");
  CHECK(exec_argument("100%") == R"("100%%")");
  CHECK(exec_argument("a b") == R"("a b")");
}

TEST_CASE("random values survive quoting, splitting and specifier resolution") {
  std::mt19937 random(65);
  UnitName unit = parse_unit_name("app@7.service");
  for (int round = 0; round < 500; ++round) {
    std::string value;
    int length = static_cast<int>(random() % 24);
    for (int i = 0; i < length; ++i) {
      char c = static_cast<char>(1 + random() % 127); // any ASCII byte but NUL
      value += c;
    }
    CAPTURE(value);
    Words words = split_words("x " + quote_word(value) + " y");
    REQUIRE(words.size() == 3);
    CHECK(words[1] == value);
    Words env = split_words(environment_word("V", value));
    REQUIRE(env.size() == 1);
    CHECK(resolve_specifiers(env[0], unit) == "V=" + value);
  }
}

TEST_SUITE_END();
