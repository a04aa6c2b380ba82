#pragma once

// The scanner of Go's text/template/parse (lex.go, Go 1.19): items with byte positions and line
// numbers, trim markers, comments, break/continue keywords.

#include <cstddef>
#include <string>
#include <string_view>

namespace herald::tmpl {

/// The lexical items of the template language, in Go's order (keywords after item_keyword).
enum class ItemType {
  error,         ///< error occurred; value is text of error
  boolean,       ///< boolean constant
  chr,           ///< printable ASCII character; grab bag for comma etc.
  char_constant, ///< character constant
  comment,       ///< comment text
  complex,       ///< complex constant (1+2i)
  assign,        ///< equals ('=') introducing an assignment
  declare,       ///< colon-equals (':=') introducing a declaration
  eof,
  field,       ///< alphanumeric identifier starting with '.'
  identifier,  ///< alphanumeric identifier not starting with '.'
  left_delim,  ///< left action delimiter
  left_paren,  ///< '(' inside action
  number,      ///< simple number
  pipe,        ///< pipe symbol
  raw_string,  ///< raw quoted string (includes quotes)
  right_delim, ///< right action delimiter
  right_paren, ///< ')' inside action
  space,       ///< run of spaces separating arguments
  string,      ///< quoted string (includes quotes)
  text,        ///< plain text
  variable,    ///< variable starting with '$'
  keyword,     ///< used only to delimit the keywords
  block,
  break_,
  continue_,
  dot,
  define,
  else_,
  end,
  if_,
  nil,
  range,
  template_,
  with
};

/// One scanned item: type, byte position in the input, text and 1-based line.
struct Item {
  ItemType type = ItemType::eof;
  std::size_t pos = 0;
  std::string_view val;
  int line = 1;
  std::string error; ///< the message of an error item (val points into it)

  /// The item as Go's item.String() shows it in "unexpected ..." errors.
  std::string describe() const;
};

/// Scans a template text into items on demand, as Go's lexer does.
class Lexer {
public:
  /// `input` must outlive the lexer and every item it returns.
  Lexer(std::string_view input, bool break_ok, bool continue_ok);

  /// The next item; after an error or EOF item, EOF items forever.
  Item next_item();

private:
  enum class State {
    text,
    left_delim,
    comment,
    right_delim,
    inside_action,
    space,
    identifier,
    field,
    variable,
    chr,
    number,
    quote,
    raw_quote,
    done
  };

  char32_t next();
  char32_t peek();
  void backup();
  void emit(ItemType t);
  void ignore();
  void errorf(std::string message);
  bool at_terminator();
  bool at_right_delim(bool& trim_spaces) const;
  bool scan_number();
  bool accept(std::string_view valid);
  void accept_run(std::string_view valid);
  int line_at(std::size_t pos);

  State lex_text();
  State lex_left_delim();
  State lex_comment();
  State lex_right_delim();
  State lex_inside_action();
  State lex_space();
  State lex_identifier();
  State lex_field_or_variable(ItemType type);
  State lex_char();
  State lex_number();
  State lex_quote();
  State lex_raw_quote();

  std::string_view m_input;
  std::size_t m_pos = 0;
  std::size_t m_start = 0;
  std::size_t m_width = 0;
  bool m_at_eof = false;
  int m_paren_depth = 0;
  bool m_break_ok = true;
  bool m_continue_ok = true;
  State m_state = State::text;
  bool m_have_item = false;
  Item m_item;
  std::size_t m_line_pos = 0; // cache for line_at: the line of m_line_pos is m_line
  int m_line = 1;
};

} // namespace herald::tmpl
