#pragma once

// The parse tree of a template, as Go's text/template/parse/node.go defines it. Internal to tmpl/.

#include "herald/tmpl/value.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace herald::tmpl {

struct Tree;

/// The kinds of parse-tree nodes.
enum class NodeType {
  text,
  action,
  boolean,
  chain,
  command,
  dot,
  else_,
  end,
  field,
  identifier,
  if_,
  list,
  nil,
  number,
  pipe,
  range,
  string,
  template_,
  variable,
  with,
  comment,
  break_,
  continue_
};

/// A node of the parse tree: its type, byte position in the source and owning tree.
struct Node {
  Node(NodeType t, std::size_t p, const Tree* tr) : type(t), pos(p), tree(tr) {}
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  NodeType type;
  std::size_t pos;
  const Tree* tree;
};

/// A sequence of nodes.
struct ListNode : Node {
  ListNode(std::size_t p, const Tree* t) : Node(NodeType::list, p, t) {}
  std::vector<std::unique_ptr<Node>> nodes;
};

/// Plain text.
struct TextNode : Node {
  TextNode(std::size_t p, const Tree* t, std::string_view s)
      : Node(NodeType::text, p, t), text(s) {}
  std::string_view text; ///< points into the tree's source text
};

struct CommandNode;
struct VariableNode;

/// A pipeline with optional declarations: `$x := cmd | cmd`.
struct PipeNode : Node {
  PipeNode(std::size_t p, const Tree* t, int l) : Node(NodeType::pipe, p, t), line(l) {}
  int line;
  bool is_assign = false;
  std::vector<std::unique_ptr<VariableNode>> decl;
  std::vector<std::unique_ptr<CommandNode>> cmds;
};

/// A non-control action such as a field evaluation: `{{pipeline}}`.
struct ActionNode : Node {
  ActionNode(std::size_t p, const Tree* t, int l, std::unique_ptr<PipeNode> pp)
      : Node(NodeType::action, p, t), line(l), pipe(std::move(pp)) {}
  int line;
  std::unique_ptr<PipeNode> pipe;
};

/// One command of a pipeline: a function, field or value and its arguments.
struct CommandNode : Node {
  CommandNode(std::size_t p, const Tree* t) : Node(NodeType::command, p, t) {}
  std::vector<std::unique_ptr<Node>> args;
};

/// A function name.
struct IdentifierNode : Node {
  IdentifierNode(std::size_t p, const Tree* t, std::string s)
      : Node(NodeType::identifier, p, t), ident(std::move(s)) {}
  std::string ident;
};

/// A variable with optional field chain: `$x.a.b`.
struct VariableNode : Node {
  VariableNode(std::size_t p, const Tree* t, std::vector<std::string> i)
      : Node(NodeType::variable, p, t), ident(std::move(i)) {}
  std::vector<std::string> ident;
};

/// The cursor `.`.
struct DotNode : Node {
  DotNode(std::size_t p, const Tree* t) : Node(NodeType::dot, p, t) {}
};

/// The untyped `nil`.
struct NilNode : Node {
  NilNode(std::size_t p, const Tree* t) : Node(NodeType::nil, p, t) {}
};

/// A field chain on dot: `.a.b`.
struct FieldNode : Node {
  FieldNode(std::size_t p, const Tree* t, std::vector<std::string> i)
      : Node(NodeType::field, p, t), ident(std::move(i)) {}
  std::vector<std::string> ident;
};

/// A term followed by field accesses: `(pipe).a.b`.
struct ChainNode : Node {
  ChainNode(std::size_t p, const Tree* t, std::unique_ptr<Node> n)
      : Node(NodeType::chain, p, t), node(std::move(n)) {}
  std::unique_ptr<Node> node;
  std::vector<std::string> field;
};

/// A boolean constant.
struct BoolNode : Node {
  BoolNode(std::size_t p, const Tree* t, bool v) : Node(NodeType::boolean, p, t), value(v) {}
  bool value;
};

/// A numeric constant, held under every type that can represent it (Go's ideal constants).
struct NumberNode : Node {
  NumberNode(std::size_t p, const Tree* t, std::string s)
      : Node(NodeType::number, p, t), text(std::move(s)) {}
  bool is_int = false;
  bool is_uint = false;
  bool is_float = false;
  bool is_complex = false;
  std::int64_t int64 = 0;
  std::uint64_t uint64 = 0;
  double float64 = 0;
  std::string text;
};

/// A string constant: its source spelling and its value.
struct StringNode : Node {
  StringNode(std::size_t p, const Tree* t, std::string q, std::string v)
      : Node(NodeType::string, p, t), quoted(std::move(q)), value(std::move(v)) {}
  std::string quoted;
  Value value;
};

/// `{{end}}`; never in a finished tree.
struct EndNode : Node {
  EndNode(std::size_t p, const Tree* t) : Node(NodeType::end, p, t) {}
};

/// `{{else}}`; never in a finished tree.
struct ElseNode : Node {
  ElseNode(std::size_t p, const Tree* t, int l) : Node(NodeType::else_, p, t), line(l) {}
  int line;
};

/// if, range and with.
struct BranchNode : Node {
  BranchNode(NodeType kind, std::size_t p, const Tree* t, int l) : Node(kind, p, t), line(l) {}
  int line;
  std::unique_ptr<PipeNode> pipe;
  std::unique_ptr<ListNode> list;
  std::unique_ptr<ListNode> else_list;
};

/// `{{template "name" pipeline}}`.
struct TemplateNode : Node {
  TemplateNode(std::size_t p, const Tree* t, int l, std::string n, std::unique_ptr<PipeNode> pp)
      : Node(NodeType::template_, p, t), line(l), name(std::move(n)), pipe(std::move(pp)) {}
  int line;
  std::string name;
  std::unique_ptr<PipeNode> pipe;
};

/// `{{break}}` / `{{continue}}`.
struct LoopControlNode : Node {
  LoopControlNode(NodeType kind, std::size_t p, const Tree* t, int l) : Node(kind, p, t), line(l) {}
  int line;
};

/// One parsed template: its name, the name of the top-level template it was parsed from (for
/// error messages), the source text and the root list.
struct Tree {
  std::string name;
  std::string parse_name;
  std::shared_ptr<const std::string> text;
  std::unique_ptr<ListNode> root;
};

/// All templates of one parse, by name.
using TreeSet = std::map<std::string, std::shared_ptr<Tree>, std::less<>>;

/// Appends the source form of `n`, as Go's Node.String() gives it (used in error messages).
void write_node(std::string& out, const Node& n);

/// The source form of `n`.
std::string node_string(const Node& n);

/// True when `n` holds only space and comments (Go's parse.IsEmptyTree).
bool is_empty_tree(const Node* n);

} // namespace herald::tmpl
