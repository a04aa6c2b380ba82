#include "herald/tmpl/lexer.hpp"

#include "herald/tmpl/format.hpp"
#include "herald/tmpl/go_strconv.hpp"

#include <array>

namespace herald::tmpl {
namespace {

constexpr char32_t k_eof = 0xFFFFFFFF;
constexpr std::string_view k_left_delim = "{{";
constexpr std::string_view k_right_delim = "}}";
constexpr std::string_view k_left_comment = "/*";
constexpr std::string_view k_right_comment = "*/";
constexpr std::string_view k_space_chars = " \t\r\n";
constexpr std::size_t k_trim_marker_len = 2;

bool is_space(char32_t r) {
  return r == ' ' || r == '\t' || r == '\r' || r == '\n';
}

bool is_alphanumeric(char32_t r) {
  return r == '_' || (r != k_eof && (go::is_letter(r) || go::is_digit(r)));
}

bool has_left_trim_marker(std::string_view s) {
  return s.size() >= 2 && s[0] == '-' && is_space(static_cast<unsigned char>(s[1]));
}

bool has_right_trim_marker(std::string_view s) {
  return s.size() >= 2 && is_space(static_cast<unsigned char>(s[0])) && s[1] == '-';
}

std::size_t right_trim_length(std::string_view s) {
  auto last = s.find_last_not_of(k_space_chars);
  return last == std::string_view::npos ? s.size() : s.size() - last - 1;
}

std::size_t left_trim_length(std::string_view s) {
  auto first = s.find_first_not_of(k_space_chars);
  return first == std::string_view::npos ? s.size() : first;
}

std::string unicode_name(char32_t r) {
  std::array<Value, 1> args{Value(static_cast<std::int64_t>(static_cast<std::int32_t>(r)))};
  return sprintf("%#U", args);
}

ItemType keyword(std::string_view word) {
  static constexpr std::pair<std::string_view, ItemType> k_keywords[] = {
      {"block", ItemType::block},
      {"break", ItemType::break_},
      {"continue", ItemType::continue_},
      {"define", ItemType::define},
      {"else", ItemType::else_},
      {"end", ItemType::end},
      {"if", ItemType::if_},
      {"range", ItemType::range},
      {"nil", ItemType::nil},
      {"template", ItemType::template_},
      {"with", ItemType::with}};
  for (const auto& [name, type] : k_keywords) {
    if (name == word) {
      return type;
    }
  }
  return ItemType::error;
}

} // namespace

std::string Item::describe() const {
  if (type == ItemType::eof) {
    return "EOF";
  }
  if (type == ItemType::error) {
    return error;
  }
  if (type > ItemType::keyword) {
    return "<" + std::string(val) + ">";
  }
  std::array<Value, 1> args{Value(val)};
  if (go::rune_count(val) > 10) {
    return sprintf("%.10q...", args);
  }
  return sprintf("%q", args);
}

Lexer::Lexer(std::string_view input, bool break_ok, bool continue_ok)
    : m_input(input), m_break_ok(break_ok), m_continue_ok(continue_ok) {}

int Lexer::line_at(std::size_t pos) {
  if (pos < m_line_pos) {
    m_line_pos = 0;
    m_line = 1;
  }
  for (; m_line_pos < pos && m_line_pos < m_input.size(); ++m_line_pos) {
    if (m_input[m_line_pos] == '\n') {
      ++m_line;
    }
  }
  return m_line;
}

char32_t Lexer::next() {
  if (m_pos >= m_input.size()) {
    m_width = 0;
    return k_eof;
  }
  auto c = static_cast<unsigned char>(m_input[m_pos]);
  char32_t r = c;
  std::size_t w = 1;
  if (c >= 0x80) {
    r = go::decode_rune(m_input.substr(m_pos), w);
  }
  m_width = w;
  m_pos += w;
  return r;
}

char32_t Lexer::peek() {
  char32_t r = next();
  backup();
  return r;
}

void Lexer::backup() {
  m_pos -= m_width;
}

void Lexer::emit(ItemType t) {
  m_item = Item{t, m_start, m_input.substr(m_start, m_pos - m_start), line_at(m_start), {}};
  m_have_item = true;
  m_start = m_pos;
}

void Lexer::ignore() {
  m_start = m_pos;
}

void Lexer::errorf(std::string message) {
  m_item = Item{ItemType::error, m_start, {}, line_at(m_start), std::move(message)};
  m_have_item = true;
}

bool Lexer::accept(std::string_view valid) {
  char32_t r = next();
  if (r != k_eof && r < 0x80 && valid.find(static_cast<char>(r)) != std::string_view::npos) {
    return true;
  }
  backup();
  return false;
}

void Lexer::accept_run(std::string_view valid) {
  for (;;) {
    char32_t r = next();
    if (r == k_eof || r >= 0x80 || valid.find(static_cast<char>(r)) == std::string_view::npos) {
      break;
    }
  }
  backup();
}

bool Lexer::at_terminator() {
  char32_t r = peek();
  if (is_space(r)) {
    return true;
  }
  switch (r) {
  case k_eof:
  case '.':
  case ',':
  case '|':
  case ':':
  case ')':
  case '(':
    return true;
  default:
    break;
  }
  return m_input.substr(m_pos).starts_with(k_right_delim);
}

bool Lexer::at_right_delim(bool& trim_spaces) const {
  std::string_view rest = m_input.substr(m_pos);
  if (has_right_trim_marker(rest) && rest.substr(k_trim_marker_len).starts_with(k_right_delim)) {
    trim_spaces = true;
    return true;
  }
  trim_spaces = false;
  return rest.starts_with(k_right_delim);
}

Item Lexer::next_item() {
  m_have_item = false;
  while (!m_have_item) {
    switch (m_state) {
    case State::text:
      m_state = lex_text();
      break;
    case State::left_delim:
      m_state = lex_left_delim();
      break;
    case State::comment:
      m_state = lex_comment();
      break;
    case State::right_delim:
      m_state = lex_right_delim();
      break;
    case State::inside_action:
      m_state = lex_inside_action();
      break;
    case State::space:
      m_state = lex_space();
      break;
    case State::identifier:
      m_state = lex_identifier();
      break;
    case State::field:
      m_state = lex_field_or_variable(ItemType::field);
      break;
    case State::variable:
      if (at_terminator()) {
        emit(ItemType::variable);
        m_state = State::inside_action;
      } else {
        m_state = lex_field_or_variable(ItemType::variable);
      }
      break;
    case State::chr:
      m_state = lex_char();
      break;
    case State::number:
      m_state = lex_number();
      break;
    case State::quote:
      m_state = lex_quote();
      break;
    case State::raw_quote:
      m_state = lex_raw_quote();
      break;
    case State::done:
      m_item = Item{ItemType::eof, m_input.size(), {}, line_at(m_input.size()), {}};
      m_have_item = true;
      break;
    }
  }
  if (m_item.type == ItemType::error) {
    m_state = State::done;
  }
  return m_item;
}

Lexer::State Lexer::lex_text() {
  auto x = m_input.find(k_left_delim, m_pos);
  if (x != std::string_view::npos) {
    if (x > m_pos) {
      m_pos = x;
      std::size_t trim = 0;
      if (has_left_trim_marker(m_input.substr(m_pos + k_left_delim.size()))) {
        trim = right_trim_length(m_input.substr(m_start, m_pos - m_start));
      }
      m_pos -= trim;
      if (m_pos > m_start) {
        emit(ItemType::text);
      }
      m_pos += trim;
      ignore();
    }
    return State::left_delim;
  }
  m_pos = m_input.size();
  if (m_pos > m_start) {
    emit(ItemType::text);
    return State::text;
  }
  emit(ItemType::eof);
  return State::done;
}

Lexer::State Lexer::lex_left_delim() {
  m_pos += k_left_delim.size();
  bool trim = has_left_trim_marker(m_input.substr(m_pos));
  std::size_t after = trim ? k_trim_marker_len : 0;
  if (m_input.substr(m_pos + after).starts_with(k_left_comment)) {
    m_pos += after;
    ignore();
    return State::comment;
  }
  emit(ItemType::left_delim);
  m_pos += after;
  ignore();
  m_paren_depth = 0;
  return State::inside_action;
}

Lexer::State Lexer::lex_comment() {
  m_pos += k_left_comment.size();
  auto x = m_input.find(k_right_comment, m_pos);
  if (x == std::string_view::npos) {
    errorf("unclosed comment");
    return State::done;
  }
  m_pos = x + k_right_comment.size();
  bool trim = false;
  if (!at_right_delim(trim)) {
    errorf("comment ends before closing delimiter");
    return State::done;
  }
  if (trim) {
    m_pos += k_trim_marker_len;
  }
  m_pos += k_right_delim.size();
  if (trim) {
    m_pos += left_trim_length(m_input.substr(m_pos));
  }
  ignore();
  return State::text;
}

Lexer::State Lexer::lex_right_delim() {
  bool trim = has_right_trim_marker(m_input.substr(m_pos));
  if (trim) {
    m_pos += k_trim_marker_len;
    ignore();
  }
  m_pos += k_right_delim.size();
  emit(ItemType::right_delim);
  if (trim) {
    m_pos += left_trim_length(m_input.substr(m_pos));
    ignore();
  }
  return State::text;
}

Lexer::State Lexer::lex_inside_action() {
  bool trim = false;
  if (at_right_delim(trim)) {
    if (m_paren_depth == 0) {
      return State::right_delim;
    }
    errorf("unclosed left paren");
    return State::done;
  }
  char32_t r = next();
  if (r == k_eof) {
    errorf("unclosed action");
    return State::done;
  }
  if (is_space(r)) {
    backup();
    return State::space;
  }
  switch (r) {
  case '=':
    emit(ItemType::assign);
    return State::inside_action;
  case ':':
    if (next() != '=') {
      errorf("expected :=");
      return State::done;
    }
    emit(ItemType::declare);
    return State::inside_action;
  case '|':
    emit(ItemType::pipe);
    return State::inside_action;
  case '"':
    return State::quote;
  case '`':
    return State::raw_quote;
  case '$':
    return State::variable;
  case '\'':
    return State::chr;
  case '.':
    if (m_pos < m_input.size()) {
      char c = m_input[m_pos];
      if (c < '0' || c > '9') {
        return State::field;
      }
    }
    backup();
    return State::number;
  case '(':
    emit(ItemType::left_paren);
    ++m_paren_depth;
    return State::inside_action;
  case ')':
    --m_paren_depth;
    if (m_paren_depth < 0) {
      // Go's channel-based lexer sends the paren and then the error; the parser stops at the
      // paren, so report what it would.
      emit(ItemType::right_paren);
      return State::done;
    }
    emit(ItemType::right_paren);
    return State::inside_action;
  default:
    break;
  }
  if (r == '+' || r == '-' || (r >= '0' && r <= '9')) {
    backup();
    return State::number;
  }
  if (is_alphanumeric(r)) {
    backup();
    return State::identifier;
  }
  if (r < 0x80 && go::is_print(r)) {
    emit(ItemType::chr);
    return State::inside_action;
  }
  errorf("unrecognized character in action: " + unicode_name(r));
  return State::done;
}

Lexer::State Lexer::lex_space() {
  int num_spaces = 0;
  while (is_space(peek())) {
    next();
    ++num_spaces;
  }
  std::string_view before = m_input.substr(m_pos - 1);
  if (has_right_trim_marker(before) &&
      before.substr(k_trim_marker_len).starts_with(k_right_delim)) {
    m_pos -= 1; // before the space
    if (num_spaces == 1) {
      return State::right_delim;
    }
  }
  emit(ItemType::space);
  return State::inside_action;
}

Lexer::State Lexer::lex_identifier() {
  for (;;) {
    char32_t r = next();
    if (is_alphanumeric(r)) {
      continue;
    }
    backup();
    std::string_view word = m_input.substr(m_start, m_pos - m_start);
    if (!at_terminator()) {
      errorf("bad character " + unicode_name(r));
      return State::done;
    }
    ItemType kw = keyword(word);
    if (kw != ItemType::error) {
      if ((kw == ItemType::break_ && !m_break_ok) ||
          (kw == ItemType::continue_ && !m_continue_ok)) {
        emit(ItemType::identifier);
      } else {
        emit(kw);
      }
    } else if (word[0] == '.') {
      emit(ItemType::field);
    } else if (word == "true" || word == "false") {
      emit(ItemType::boolean);
    } else {
      emit(ItemType::identifier);
    }
    return State::inside_action;
  }
}

Lexer::State Lexer::lex_field_or_variable(ItemType type) {
  if (at_terminator()) {
    emit(type == ItemType::variable ? ItemType::variable : ItemType::dot);
    return State::inside_action;
  }
  char32_t r = 0;
  for (;;) {
    r = next();
    if (!is_alphanumeric(r)) {
      backup();
      break;
    }
  }
  if (!at_terminator()) {
    errorf("bad character " + unicode_name(r));
    return State::done;
  }
  emit(type);
  return State::inside_action;
}

Lexer::State Lexer::lex_char() {
  for (;;) {
    char32_t r = next();
    if (r == '\\') {
      char32_t e = next();
      if (e != k_eof && e != '\n') {
        continue;
      }
      errorf("unterminated character constant");
      return State::done;
    }
    if (r == k_eof || r == '\n') {
      errorf("unterminated character constant");
      return State::done;
    }
    if (r == '\'') {
      break;
    }
  }
  emit(ItemType::char_constant);
  return State::inside_action;
}

bool Lexer::scan_number() {
  accept("+-");
  std::string_view digits = "0123456789_";
  if (accept("0")) {
    if (accept("xX")) {
      digits = "0123456789abcdefABCDEF_";
    } else if (accept("oO")) {
      digits = "01234567_";
    } else if (accept("bB")) {
      digits = "01_";
    }
  }
  accept_run(digits);
  if (accept(".")) {
    accept_run(digits);
  }
  if (digits.size() == 10 + 1 && accept("eE")) {
    accept("+-");
    accept_run("0123456789_");
  }
  if (digits.size() == 16 + 6 + 1 && accept("pP")) {
    accept("+-");
    accept_run("0123456789_");
  }
  accept("i");
  if (is_alphanumeric(peek())) {
    next();
    return false;
  }
  return true;
}

Lexer::State Lexer::lex_number() {
  auto bad = [&] {
    std::array<Value, 1> args{Value(m_input.substr(m_start, m_pos - m_start))};
    errorf(sprintf("bad number syntax: %q", args));
    return State::done;
  };
  if (!scan_number()) {
    return bad();
  }
  char32_t sign = peek();
  if (sign == '+' || sign == '-') {
    if (!scan_number() || m_input[m_pos - 1] != 'i') {
      return bad();
    }
    emit(ItemType::complex);
  } else {
    emit(ItemType::number);
  }
  return State::inside_action;
}

Lexer::State Lexer::lex_quote() {
  for (;;) {
    char32_t r = next();
    if (r == '\\') {
      char32_t e = next();
      if (e != k_eof && e != '\n') {
        continue;
      }
      errorf("unterminated quoted string");
      return State::done;
    }
    if (r == k_eof || r == '\n') {
      errorf("unterminated quoted string");
      return State::done;
    }
    if (r == '"') {
      break;
    }
  }
  emit(ItemType::string);
  return State::inside_action;
}

Lexer::State Lexer::lex_raw_quote() {
  for (;;) {
    char32_t r = next();
    if (r == k_eof) {
      errorf("unterminated raw quoted string");
      return State::done;
    }
    if (r == '`') {
      break;
    }
  }
  emit(ItemType::raw_string);
  return State::inside_action;
}

} // namespace herald::tmpl
