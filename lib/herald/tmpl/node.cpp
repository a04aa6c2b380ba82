#include "herald/tmpl/node.hpp"

#include "herald/tmpl/go_strconv.hpp"

namespace herald::tmpl {
namespace {

void write_pipe(std::string& out, const PipeNode& p) {
  if (!p.decl.empty()) {
    bool first = true;
    for (const auto& v : p.decl) {
      if (!first) {
        out += ", ";
      }
      first = false;
      write_node(out, *v);
    }
    out += " := ";
  }
  bool first = true;
  for (const auto& c : p.cmds) {
    if (!first) {
      out += " | ";
    }
    first = false;
    write_node(out, *c);
  }
}

void write_joined(std::string& out, const std::vector<std::string>& ident, bool leading_dot) {
  for (std::size_t i = 0; i < ident.size(); ++i) {
    if (i > 0 || leading_dot) {
      out += '.';
    }
    out += ident[i];
  }
}

} // namespace

void write_node(std::string& out, const Node& n) {
  switch (n.type) {
  case NodeType::text:
    out += static_cast<const TextNode&>(n).text;
    return;
  case NodeType::action:
    out += "{{";
    write_pipe(out, *static_cast<const ActionNode&>(n).pipe);
    out += "}}";
    return;
  case NodeType::boolean:
    out += static_cast<const BoolNode&>(n).value ? "true" : "false";
    return;
  case NodeType::chain: {
    const auto& c = static_cast<const ChainNode&>(n);
    if (c.node->type == NodeType::pipe) {
      out += '(';
      write_node(out, *c.node);
      out += ')';
    } else {
      write_node(out, *c.node);
    }
    for (const auto& f : c.field) {
      out += '.';
      out += f;
    }
    return;
  }
  case NodeType::command: {
    const auto& c = static_cast<const CommandNode&>(n);
    for (std::size_t i = 0; i < c.args.size(); ++i) {
      if (i > 0) {
        out += ' ';
      }
      if (c.args[i]->type == NodeType::pipe) {
        out += '(';
        write_node(out, *c.args[i]);
        out += ')';
        continue;
      }
      write_node(out, *c.args[i]);
    }
    return;
  }
  case NodeType::dot:
    out += '.';
    return;
  case NodeType::else_:
    out += "{{else}}";
    return;
  case NodeType::end:
    out += "{{end}}";
    return;
  case NodeType::field:
    write_joined(out, static_cast<const FieldNode&>(n).ident, true);
    return;
  case NodeType::identifier:
    out += static_cast<const IdentifierNode&>(n).ident;
    return;
  case NodeType::if_:
  case NodeType::range:
  case NodeType::with: {
    const auto& b = static_cast<const BranchNode&>(n);
    out += "{{";
    out += n.type == NodeType::if_ ? "if" : (n.type == NodeType::range ? "range" : "with");
    out += ' ';
    write_pipe(out, *b.pipe);
    out += "}}";
    write_node(out, *b.list);
    if (b.else_list) {
      out += "{{else}}";
      write_node(out, *b.else_list);
    }
    out += "{{end}}";
    return;
  }
  case NodeType::list:
    for (const auto& child : static_cast<const ListNode&>(n).nodes) {
      write_node(out, *child);
    }
    return;
  case NodeType::nil:
    out += "nil";
    return;
  case NodeType::number:
    out += static_cast<const NumberNode&>(n).text;
    return;
  case NodeType::pipe:
    write_pipe(out, static_cast<const PipeNode&>(n));
    return;
  case NodeType::string:
    out += static_cast<const StringNode&>(n).quoted;
    return;
  case NodeType::template_: {
    const auto& t = static_cast<const TemplateNode&>(n);
    out += "{{template ";
    out += go::quote(t.name);
    if (t.pipe) {
      out += ' ';
      write_pipe(out, *t.pipe);
    }
    out += "}}";
    return;
  }
  case NodeType::variable:
    write_joined(out, static_cast<const VariableNode&>(n).ident, false);
    return;
  case NodeType::comment:
    out += "{{/* */}}";
    return;
  case NodeType::break_:
    out += "{{break}}";
    return;
  case NodeType::continue_:
    out += "{{continue}}";
    return;
  }
}

std::string node_string(const Node& n) {
  std::string out;
  write_node(out, n);
  return out;
}

bool is_empty_tree(const Node* n) {
  if (n == nullptr) {
    return true;
  }
  switch (n->type) {
  case NodeType::comment:
    return true;
  case NodeType::list:
    for (const auto& child : static_cast<const ListNode*>(n)->nodes) {
      if (!is_empty_tree(child.get())) {
        return false;
      }
    }
    return true;
  case NodeType::text: {
    std::string_view t = static_cast<const TextNode*>(n)->text;
    return t.find_first_not_of(" \t\r\n\v\f") == std::string_view::npos;
  }
  default:
    return false;
  }
}

} // namespace herald::tmpl
