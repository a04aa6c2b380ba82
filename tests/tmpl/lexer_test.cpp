#include "herald/tmpl/lexer.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace herald::tmpl;

namespace {

// "type:value@line" for every item up to EOF or error.
std::vector<std::string> lex_all(std::string_view input) {
  Lexer lex(input, true, true);
  std::vector<std::string> out;
  for (;;) {
    Item i = lex.next_item();
    std::string v = i.type == ItemType::error ? i.error : std::string(i.val);
    out.push_back(std::to_string(static_cast<int>(i.type)) + ":" + v + "@" +
                  std::to_string(i.line));
    if (i.type == ItemType::eof || i.type == ItemType::error) {
      return out;
    }
  }
}

std::string item(ItemType t, std::string_view v, int line) {
  return std::to_string(static_cast<int>(t)) + ":" + std::string(v) + "@" + std::to_string(line);
}

} // namespace

TEST_SUITE_BEGIN("tmpl");

TEST_CASE("lexer splits text and actions into Go's items") {
  using T = ItemType;
  CHECK(lex_all("a {{.b | printf \"%d\" 3}}") ==
        std::vector<std::string>{
            item(T::text, "a ", 1), item(T::left_delim, "{{", 1), item(T::field, ".b", 1),
            item(T::space, " ", 1), item(T::pipe, "|", 1), item(T::space, " ", 1),
            item(T::identifier, "printf", 1), item(T::space, " ", 1), item(T::string, "\"%d\"", 1),
            item(T::space, " ", 1), item(T::number, "3", 1), item(T::right_delim, "}}", 1),
            item(T::eof, "", 1)});
}

TEST_CASE("lexer applies trim markers and drops comments") {
  using T = ItemType;
  CHECK(lex_all("x  \n{{- $v := 1 -}}\n y{{/* c */}}z") ==
        std::vector<std::string>{
            item(T::text, "x", 1), item(T::left_delim, "{{", 2), item(T::variable, "$v", 2),
            item(T::space, " ", 2), item(T::declare, ":=", 2), item(T::space, " ", 2),
            item(T::number, "1", 2), item(T::right_delim, "}}", 2), item(T::text, "y", 3),
            item(T::text, "z", 3), item(T::eof, "", 3)});
}

TEST_CASE("lexer counts lines through raw strings and multi-line actions") {
  using T = ItemType;
  auto items = lex_all("{{`a\nb`}}\n{{\nend}}");
  CHECK(items[1] == item(T::raw_string, "`a\nb`", 1));
  CHECK(items[3] == item(T::text, "\n", 2));
  CHECK(items[5] == item(T::space, "\n", 3));
  CHECK(items[6] == item(T::end, "end", 4));
}

TEST_CASE("lexer recognises keywords, and break/continue only when allowed") {
  Lexer allowed("{{break}}", true, true);
  allowed.next_item();
  CHECK(allowed.next_item().type == ItemType::break_);
  Lexer shadowed("{{break}}", false, true);
  shadowed.next_item();
  CHECK(shadowed.next_item().type == ItemType::identifier);
}

TEST_CASE("lexer reports Go's errors at the right line") {
  CHECK(lex_all("\n{{\"abc").back() == item(ItemType::error, "unterminated quoted string", 2));
  CHECK(lex_all("{{3x}}").back() == item(ItemType::error, "bad number syntax: \"3x\"", 1));
  CHECK(lex_all("{{a\x01}}").back() == item(ItemType::error, "bad character U+0001", 1));
  CHECK(lex_all("{{\x01}}").back() ==
        item(ItemType::error, "unrecognized character in action: U+0001", 1));
  CHECK(lex_all("{{'ab").back() == item(ItemType::error, "unterminated character constant", 1));
}

TEST_SUITE_END();
