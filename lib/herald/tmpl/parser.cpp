#include "herald/tmpl/parser.hpp"

#include "herald/core/strings.hpp"
#include "herald/tmpl/go_strconv.hpp"
#include "herald/tmpl/lexer.hpp"
#include "herald/tmpl/template.hpp"

#include <array>

namespace herald::tmpl {
namespace {

struct Env {
  const std::function<bool(std::string_view)>& has_function;
  const std::vector<std::string>& function_names;
  /// Parenthesized pipelines, control structures and blocks open right now, across every
  /// Parser of the text ({{block}} bodies get their own): each level is a few recursive calls.
  int depth = 0;
};

/// Counts one level of Env::depth for its lifetime; at k_max_parse_depth the parse fails with
/// an error naming the line instead of overflowing the stack.
class NestingLevel {
public:
  template <typename Fail> NestingLevel(Env& env, Fail&& fail) : m_env(env) {
    if (m_env.depth >= k_max_parse_depth) {
      fail();
    }
    ++m_env.depth;
  }
  ~NestingLevel() { --m_env.depth; }
  NestingLevel(const NestingLevel&) = delete;
  NestingLevel& operator=(const NestingLevel&) = delete;

private:
  Env& m_env;
};

std::vector<std::string> split_dots(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto dot = s.find('.', start);
    if (dot == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, dot - start));
    start = dot + 1;
  }
}

// Result of parsing the common part of if/range/with.
struct Control {
  std::size_t pos = 0;
  int line = 0;
  std::unique_ptr<PipeNode> pipe;
  std::unique_ptr<ListNode> list;
  std::unique_ptr<ListNode> else_list;
};

// One tree being parsed: Go's parse.Tree with its parsing-only state.
class Parser {
public:
  Parser(std::shared_ptr<Tree> tree, Lexer& lex, TreeSet& set, Env& env)
      : m_tree(std::move(tree)), m_t(m_tree.get()), m_lex(lex), m_set(set), m_env(env) {}

  void parse();
  void parse_definition();
  std::pair<std::unique_ptr<ListNode>, std::unique_ptr<Node>> item_list();
  void add();
  [[noreturn]] void errorf(const std::string& message);

private:
  Item next();
  void backup() { ++m_peek_count; }
  void backup2(Item t1);
  void backup3(Item t2, Item t1);
  Item peek();
  Item next_non_space();
  Item peek_non_space();
  Item expect(ItemType expected, std::string_view context);
  Item expect_one_of(ItemType a, ItemType b, std::string_view context);
  [[noreturn]] void unexpected(const Item& token, std::string_view context);
  [[noreturn]] void too_deep();

  std::unique_ptr<Node> text_or_action();
  std::unique_ptr<Node> action();
  std::unique_ptr<Node> loop_control(NodeType type, std::size_t pos, int line);
  std::unique_ptr<PipeNode> pipeline(std::string_view context, ItemType end);
  void check_pipeline(const PipeNode& pipe, std::string_view context);
  Control parse_control(bool allow_else_if, std::string_view context);
  std::unique_ptr<Node> branch(NodeType type, bool allow_else_if, std::string_view context);
  std::unique_ptr<Node> end_control();
  std::unique_ptr<Node> else_control();
  std::unique_ptr<Node> block_control();
  std::unique_ptr<Node> template_control();
  std::string parse_template_name(const Item& token, std::string_view context);
  std::unique_ptr<CommandNode> command();
  std::unique_ptr<Node> operand();
  std::unique_ptr<Node> term();
  std::unique_ptr<Node> new_number(const Item& token);
  std::unique_ptr<VariableNode> use_var(std::size_t pos, std::string_view name);

  std::shared_ptr<Tree> m_tree;
  const Tree* m_t;
  Lexer& m_lex;
  TreeSet& m_set;
  Env& m_env;
  std::array<Item, 3> m_token{};
  int m_peek_count = 0;
  std::vector<std::string> m_vars{"$"};
  int m_action_line = 0;
  int m_range_depth = 0;
};

Item Parser::next() {
  if (m_peek_count > 0) {
    --m_peek_count;
  } else {
    m_token[0] = m_lex.next_item();
  }
  return m_token[static_cast<std::size_t>(m_peek_count)];
}

void Parser::backup2(Item t1) {
  m_token[1] = std::move(t1);
  m_peek_count = 2;
}

void Parser::backup3(Item t2, Item t1) {
  m_token[1] = std::move(t1);
  m_token[2] = std::move(t2);
  m_peek_count = 3;
}

Item Parser::peek() {
  if (m_peek_count > 0) {
    return m_token[static_cast<std::size_t>(m_peek_count - 1)];
  }
  m_peek_count = 1;
  m_token[0] = m_lex.next_item();
  return m_token[0];
}

Item Parser::next_non_space() {
  Item token;
  do {
    token = next();
  } while (token.type == ItemType::space);
  return token;
}

Item Parser::peek_non_space() {
  Item token = next_non_space();
  backup();
  return token;
}

void Parser::errorf(const std::string& message) {
  int line = m_token[0].line;
  throw TemplateError("template: " + m_t->parse_name + ":" + std::to_string(line) + ": " + message,
                      m_t->parse_name, line, -1);
}

Item Parser::expect(ItemType expected, std::string_view context) {
  Item token = next_non_space();
  if (token.type != expected) {
    unexpected(token, context);
  }
  return token;
}

Item Parser::expect_one_of(ItemType a, ItemType b, std::string_view context) {
  Item token = next_non_space();
  if (token.type != a && token.type != b) {
    unexpected(token, context);
  }
  return token;
}

void Parser::unexpected(const Item& token, std::string_view context) {
  if (token.type == ItemType::error) {
    std::string extra;
    if (m_action_line != 0 && m_action_line != token.line) {
      extra = " in action started at " + m_t->parse_name + ":" + std::to_string(m_action_line);
      if (token.error.ends_with(" action")) {
        extra = extra.substr(std::string_view(" in action").size());
      }
    }
    errorf(token.describe() + extra);
  }
  errorf("unexpected " + token.describe() + " in " + std::string(context));
}

void Parser::too_deep() {
  // Go's words for its limit of 10000 parentheses (it has none for control structures).
  errorf("max expression depth exceeded: more than " + std::to_string(k_max_parse_depth) +
         " nested parentheses, {{if}}, {{range}}, {{with}} and {{block}}");
}

void Parser::parse() {
  m_tree->root = std::make_unique<ListNode>(peek().pos, m_t);
  while (peek().type != ItemType::eof) {
    if (peek().type == ItemType::left_delim) {
      Item delim = next();
      if (next_non_space().type == ItemType::define) {
        auto def = std::make_shared<Tree>();
        def->name = "definition";
        def->parse_name = m_t->parse_name;
        def->text = m_t->text;
        Parser sub(def, m_lex, m_set, m_env);
        sub.parse_definition();
        continue;
      }
      backup2(std::move(delim));
    }
    auto n = text_or_action();
    if (n->type == NodeType::end || n->type == NodeType::else_) {
      errorf("unexpected " + node_string(*n));
    }
    m_tree->root->nodes.push_back(std::move(n));
  }
}

void Parser::parse_definition() {
  constexpr std::string_view context = "define clause";
  Item name = expect_one_of(ItemType::string, ItemType::raw_string, context);
  auto unquoted = go::unquote(name.val);
  if (!unquoted) {
    errorf("invalid syntax");
  }
  m_tree->name = *unquoted;
  expect(ItemType::right_delim, context);
  auto [root, end] = item_list();
  m_tree->root = std::move(root);
  if (end->type != NodeType::end) {
    errorf("unexpected " + node_string(*end) + " in " + std::string(context));
  }
  add();
}

void Parser::add() {
  auto it = m_set.find(m_tree->name);
  if (it == m_set.end() || is_empty_tree(it->second->root.get())) {
    m_set[m_tree->name] = m_tree;
    return;
  }
  if (!is_empty_tree(m_tree->root.get())) {
    errorf("template: multiple definition of template " + go::quote(m_tree->name));
  }
}

std::pair<std::unique_ptr<ListNode>, std::unique_ptr<Node>> Parser::item_list() {
  auto list = std::make_unique<ListNode>(peek_non_space().pos, m_t);
  while (peek_non_space().type != ItemType::eof) {
    auto n = text_or_action();
    if (n->type == NodeType::end || n->type == NodeType::else_) {
      return {std::move(list), std::move(n)};
    }
    list->nodes.push_back(std::move(n));
  }
  errorf("unexpected EOF");
}

std::unique_ptr<Node> Parser::text_or_action() {
  Item token = next_non_space();
  switch (token.type) {
  case ItemType::text:
    return std::make_unique<TextNode>(token.pos, m_t, token.val);
  case ItemType::left_delim: {
    m_action_line = token.line;
    auto n = action();
    m_action_line = 0;
    return n;
  }
  default:
    unexpected(token, "input");
  }
}

std::unique_ptr<Node> Parser::action() {
  Item token = next_non_space();
  switch (token.type) {
  case ItemType::block:
    return block_control();
  case ItemType::break_:
    return loop_control(NodeType::break_, token.pos, token.line);
  case ItemType::continue_:
    return loop_control(NodeType::continue_, token.pos, token.line);
  case ItemType::else_:
    return else_control();
  case ItemType::end:
    return end_control();
  case ItemType::if_:
    return branch(NodeType::if_, true, "if");
  case ItemType::range:
    return branch(NodeType::range, false, "range");
  case ItemType::template_:
    return template_control();
  case ItemType::with:
    return branch(NodeType::with, false, "with");
  default:
    break;
  }
  backup();
  Item first = peek();
  std::size_t pos = first.pos;
  int line = first.line;
  return std::make_unique<ActionNode>(pos, m_t, line, pipeline("command", ItemType::right_delim));
}

std::unique_ptr<Node> Parser::loop_control(NodeType type, std::size_t pos, int line) {
  std::string_view name = type == NodeType::break_ ? "break" : "continue";
  Item token = next_non_space();
  if (token.type != ItemType::right_delim) {
    unexpected(token, "{{" + std::string(name) + "}}");
  }
  if (m_range_depth == 0) {
    errorf("{{" + std::string(name) + "}} outside {{range}}");
  }
  return std::make_unique<LoopControlNode>(type, pos, m_t, line);
}

std::unique_ptr<PipeNode> Parser::pipeline(std::string_view context, ItemType end) {
  Item token = peek_non_space();
  auto pipe = std::make_unique<PipeNode>(token.pos, m_t, token.line);
  for (;;) {
    Item v = peek_non_space();
    if (v.type != ItemType::variable) {
      break;
    }
    next();
    // Space is a token, so in "$x foo" we must read past it to see that $x is an argument rather
    // than a declaration; remember it to push it back.
    Item token_after_variable = peek();
    Item nxt = peek_non_space();
    if (nxt.type == ItemType::assign || nxt.type == ItemType::declare) {
      pipe->is_assign = nxt.type == ItemType::assign;
      next_non_space();
      pipe->decl.push_back(std::make_unique<VariableNode>(v.pos, m_t, split_dots(v.val)));
      m_vars.emplace_back(v.val);
      break;
    }
    if (nxt.type == ItemType::chr && nxt.val == ",") {
      next_non_space();
      pipe->decl.push_back(std::make_unique<VariableNode>(v.pos, m_t, split_dots(v.val)));
      m_vars.emplace_back(v.val);
      if (context == "range" && pipe->decl.size() < 2) {
        switch (peek_non_space().type) {
        case ItemType::variable:
        case ItemType::right_delim:
        case ItemType::right_paren:
          continue; // second initialized variable in a range pipeline
        default:
          errorf("range can only initialize variables");
        }
      }
      errorf("too many declarations in " + std::string(context));
    }
    if (token_after_variable.type == ItemType::space) {
      backup3(std::move(v), std::move(token_after_variable));
    } else {
      backup2(std::move(v));
    }
    break;
  }
  for (;;) {
    Item t = next_non_space();
    if (t.type == end) {
      check_pipeline(*pipe, context);
      return pipe;
    }
    switch (t.type) {
    case ItemType::boolean:
    case ItemType::char_constant:
    case ItemType::complex:
    case ItemType::dot:
    case ItemType::field:
    case ItemType::identifier:
    case ItemType::number:
    case ItemType::nil:
    case ItemType::raw_string:
    case ItemType::string:
    case ItemType::variable:
    case ItemType::left_paren:
      backup();
      pipe->cmds.push_back(command());
      break;
    default:
      unexpected(t, context);
    }
  }
}

void Parser::check_pipeline(const PipeNode& pipe, std::string_view context) {
  if (pipe.cmds.empty()) {
    errorf("missing value for " + std::string(context));
  }
  for (std::size_t i = 1; i < pipe.cmds.size(); ++i) {
    switch (pipe.cmds[i]->args[0]->type) {
    case NodeType::boolean:
    case NodeType::dot:
    case NodeType::nil:
    case NodeType::number:
    case NodeType::string:
      errorf("non executable command in pipeline stage " + std::to_string(i + 1));
    default:
      break;
    }
  }
}

Control Parser::parse_control(bool allow_else_if, std::string_view context) {
  // An {{else if}} chain nests too: each link is parsed inside the previous one.
  NestingLevel level(m_env, [this] { too_deep(); });
  std::size_t vars_mark = m_vars.size();
  Control c;
  c.pipe = pipeline(context, ItemType::right_delim);
  if (context == "range") {
    ++m_range_depth;
  }
  auto [list, next_node] = item_list();
  c.list = std::move(list);
  if (context == "range") {
    --m_range_depth;
  }
  if (next_node->type == NodeType::else_) {
    bool done = false;
    // "{{else if ...}}" is read as "{{else}}{{if ...}}" whose {{end}} is shared.
    if (allow_else_if && peek().type == ItemType::if_) {
      next();
      c.else_list = std::make_unique<ListNode>(next_node->pos, m_t);
      c.else_list->nodes.push_back(branch(NodeType::if_, true, "if"));
      done = true;
    }
    if (!done) {
      auto [else_list, end] = item_list();
      c.else_list = std::move(else_list);
      if (end->type != NodeType::end) {
        errorf("expected end; found " + node_string(*end));
      }
    }
  }
  c.pos = c.pipe->pos;
  c.line = c.pipe->line;
  m_vars.resize(vars_mark);
  return c;
}

std::unique_ptr<Node> Parser::branch(NodeType type, bool allow_else_if, std::string_view context) {
  Control c = parse_control(allow_else_if, context);
  auto n = std::make_unique<BranchNode>(type, c.pos, m_t, c.line);
  n->pipe = std::move(c.pipe);
  n->list = std::move(c.list);
  n->else_list = std::move(c.else_list);
  return n;
}

std::unique_ptr<Node> Parser::end_control() {
  return std::make_unique<EndNode>(expect(ItemType::right_delim, "end").pos, m_t);
}

std::unique_ptr<Node> Parser::else_control() {
  Item p = peek_non_space();
  if (p.type == ItemType::if_) {
    return std::make_unique<ElseNode>(p.pos, m_t, p.line);
  }
  Item token = expect(ItemType::right_delim, "else");
  return std::make_unique<ElseNode>(token.pos, m_t, token.line);
}

std::unique_ptr<Node> Parser::block_control() {
  constexpr std::string_view context = "block clause";
  NestingLevel level(m_env, [this] { too_deep(); });
  Item token = next_non_space();
  std::string name = parse_template_name(token, context);
  auto pipe = pipeline(context, ItemType::right_delim);

  auto block = std::make_shared<Tree>();
  block->name = name;
  block->parse_name = m_t->parse_name;
  block->text = m_t->text;
  Parser sub(block, m_lex, m_set, m_env);
  auto [root, end] = sub.item_list();
  block->root = std::move(root);
  if (end->type != NodeType::end) {
    errorf("unexpected " + node_string(*end) + " in " + std::string(context));
  }
  sub.add();
  return std::make_unique<TemplateNode>(token.pos, m_t, token.line, name, std::move(pipe));
}

std::unique_ptr<Node> Parser::template_control() {
  constexpr std::string_view context = "template clause";
  Item token = next_non_space();
  std::string name = parse_template_name(token, context);
  std::unique_ptr<PipeNode> pipe;
  if (next_non_space().type != ItemType::right_delim) {
    backup();
    pipe = pipeline(context, ItemType::right_delim);
  }
  return std::make_unique<TemplateNode>(token.pos, m_t, token.line, name, std::move(pipe));
}

std::string Parser::parse_template_name(const Item& token, std::string_view context) {
  if (token.type == ItemType::string || token.type == ItemType::raw_string) {
    auto s = go::unquote(token.val);
    if (!s) {
      errorf("invalid syntax");
    }
    return *s;
  }
  unexpected(token, context);
}

std::unique_ptr<CommandNode> Parser::command() {
  auto cmd = std::make_unique<CommandNode>(peek_non_space().pos, m_t);
  for (;;) {
    peek_non_space();
    if (auto op = operand()) {
      cmd->args.push_back(std::move(op));
    }
    Item token = next();
    if (token.type == ItemType::space) {
      continue;
    }
    if (token.type == ItemType::right_delim || token.type == ItemType::right_paren) {
      backup();
    } else if (token.type != ItemType::pipe) {
      unexpected(token, "operand");
    }
    break;
  }
  if (cmd->args.empty()) {
    errorf("empty command");
  }
  return cmd;
}

std::unique_ptr<Node> Parser::operand() {
  auto node = term();
  if (!node) {
    return nullptr;
  }
  if (peek().type == ItemType::field) {
    auto chain = std::make_unique<ChainNode>(peek().pos, m_t, nullptr);
    NodeType term_type = node->type;
    std::string term_text = node_string(*node);
    chain->node = std::move(node);
    while (peek().type == ItemType::field) {
      chain->field.emplace_back(next().val.substr(1));
    }
    switch (term_type) {
    case NodeType::field:
      return std::make_unique<FieldNode>(
          chain->pos, m_t, split_dots(std::string_view(node_string(*chain)).substr(1)));
    case NodeType::variable:
      return std::make_unique<VariableNode>(chain->pos, m_t, split_dots(node_string(*chain)));
    case NodeType::boolean:
    case NodeType::string:
    case NodeType::number:
    case NodeType::nil:
    case NodeType::dot:
      errorf("unexpected . after term " + go::quote(term_text));
    default:
      return chain;
    }
  }
  return node;
}

std::unique_ptr<Node> Parser::term() {
  Item token = next_non_space();
  switch (token.type) {
  case ItemType::identifier: {
    if (!m_env.has_function(token.val)) {
      try {
        errorf("function " + go::quote(token.val) + " not defined");
      } catch (TemplateError& e) {
        if (auto near = closest_match(token.val, m_env.function_names)) {
          e.set_hint("did you mean " + go::quote(*near) + "?");
        }
        throw;
      }
    }
    return std::make_unique<IdentifierNode>(token.pos, m_t, std::string(token.val));
  }
  case ItemType::dot:
    return std::make_unique<DotNode>(token.pos, m_t);
  case ItemType::nil:
    return std::make_unique<NilNode>(token.pos, m_t);
  case ItemType::variable:
    return use_var(token.pos, token.val);
  case ItemType::field:
    return std::make_unique<FieldNode>(token.pos, m_t, split_dots(token.val.substr(1)));
  case ItemType::boolean:
    return std::make_unique<BoolNode>(token.pos, m_t, token.val == "true");
  case ItemType::char_constant:
  case ItemType::complex:
  case ItemType::number:
    return new_number(token);
  case ItemType::left_paren: {
    NestingLevel level(m_env, [this] { too_deep(); });
    return pipeline("parenthesized pipeline", ItemType::right_paren);
  }
  case ItemType::string:
  case ItemType::raw_string: {
    auto s = go::unquote(token.val);
    if (!s) {
      errorf("invalid syntax");
    }
    return std::make_unique<StringNode>(token.pos, m_t, std::string(token.val), std::move(*s));
  }
  default:
    break;
  }
  backup();
  return nullptr;
}

std::unique_ptr<Node> Parser::new_number(const Item& token) {
  std::string_view text = token.val;
  auto n = std::make_unique<NumberNode>(token.pos, m_t, std::string(text));
  if (token.type == ItemType::char_constant) {
    std::string_view rest = text.substr(1);
    auto r = go::unquote_char(rest, text[0]);
    if (!r) {
      errorf("invalid syntax");
    }
    if (rest != "'") {
      errorf("malformed character constant: " + std::string(text));
    }
    n->int64 = static_cast<std::int64_t>(*r);
    n->is_int = true;
    n->uint64 = *r;
    n->is_uint = true;
    n->float64 = static_cast<double>(*r);
    n->is_float = true;
    return n;
  }
  if (token.type == ItemType::complex || (!text.empty() && text.back() == 'i')) {
    errorf("complex constant " + std::string(text) + " is not supported");
  }
  go::NumError uerr = go::NumError::none;
  std::uint64_t u = go::parse_uint(text, 0, uerr);
  if (uerr == go::NumError::none) {
    n->is_uint = true;
    n->uint64 = u;
  }
  go::NumError ierr = go::NumError::none;
  std::int64_t i = go::parse_int(text, 0, ierr);
  if (ierr == go::NumError::none) {
    n->is_int = true;
    n->int64 = i;
    if (i == 0) {
      n->is_uint = true;
      n->uint64 = u;
    }
  }
  if (n->is_int) {
    n->is_float = true;
    n->float64 = static_cast<double>(n->int64);
  } else if (n->is_uint) {
    n->is_float = true;
    n->float64 = static_cast<double>(n->uint64);
  } else {
    go::NumError ferr = go::NumError::none;
    double f = go::parse_float(text, ferr);
    if (ferr == go::NumError::none) {
      if (text.find_first_of(".eEpP") == std::string_view::npos) {
        errorf("integer overflow: " + go::quote(text));
      }
      n->is_float = true;
      n->float64 = f;
      if (f >= -9223372036854775808.0 && f < 9223372036854775808.0 &&
          static_cast<double>(static_cast<std::int64_t>(f)) == f) {
        n->is_int = true;
        n->int64 = static_cast<std::int64_t>(f);
      }
      if (f >= 0 && f < 18446744073709551616.0 &&
          static_cast<double>(static_cast<std::uint64_t>(f)) == f) {
        n->is_uint = true;
        n->uint64 = static_cast<std::uint64_t>(f);
      }
    }
  }
  if (!n->is_int && !n->is_uint && !n->is_float) {
    errorf("illegal number syntax: " + go::quote(text));
  }
  return n;
}

std::unique_ptr<VariableNode> Parser::use_var(std::size_t pos, std::string_view name) {
  auto v = std::make_unique<VariableNode>(pos, m_t, split_dots(name));
  for (const auto& var : m_vars) {
    if (var == v->ident[0]) {
      return v;
    }
  }
  errorf("undefined variable " + go::quote(v->ident[0]));
}

} // namespace

void parse_into(TreeSet& set, const std::string& name, std::shared_ptr<const std::string> text,
                const std::function<bool(std::string_view)>& has_function,
                const std::vector<std::string>& function_names) {
  Env env{has_function, function_names};
  auto tree = std::make_shared<Tree>();
  tree->name = name;
  tree->parse_name = name;
  tree->text = text;
  Lexer lex(*text, !has_function("break"), !has_function("continue"));
  Parser p(tree, lex, set, env);
  p.parse();
  p.add();
}

} // namespace herald::tmpl
