#include "herald/tmpl/exec.hpp"

#include "herald/core/size.hpp"
#include "herald/tmpl/format.hpp"
#include "herald/tmpl/go_strconv.hpp"
#include "herald/tmpl/go_time.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace herald::tmpl {
namespace {

// The arguments of a command as Go passes them around: args[0] is the function, field or
// variable itself and is never evaluated as an argument. `data` may be null when size <= 1 (Go's
// evalArg passes []parse.Node{n} only for its length).
struct Args {
  const std::unique_ptr<Node>* data = nullptr;
  std::size_t size = 0;

  const Node* operator[](std::size_t i) const { return data[i].get(); }
};

Args args_of(const CommandNode& cmd) {
  return Args{cmd.args.data(), cmd.args.size()};
}

const GoType& any_type() {
  static const GoType t = GoType::any();
  return t;
}

bool is_unnamed_type(const std::string& name) {
  return name.starts_with("[]") || name.starts_with("map[") || name.starts_with("*") ||
         name.starts_with("struct");
}

bool assignable(const Value& v, const GoType& t) {
  switch (t.base()) {
  case GoType::Base::any:
  case GoType::Base::reflect_value:
    return true;
  case GoType::Base::string:
    return v.kind() == Kind::string;
  case GoType::Base::integer:
    return v.kind() == Kind::integer && v.int_type() == IntType::go_int;
  case GoType::Base::boolean:
    return v.kind() == Kind::boolean;
  case GoType::Base::float64:
    return v.kind() == Kind::floating;
  case GoType::Base::named: {
    if (v.kind() == Kind::invalid || v.kind() == Kind::nil) {
      return false;
    }
    std::string type = v.type_name();
    if (type == t.name()) {
      return true;
    }
    return is_unnamed_type(t.name()) && v.underlying_type_name() == t.name();
  }
  }
  return false;
}

bool can_be_nil(const GoType& t) {
  switch (t.base()) {
  case GoType::Base::any:
  case GoType::Base::reflect_value:
    return true;
  case GoType::Base::named:
    return t.name().starts_with("[]") || t.name().starts_with("map[") || t.name().starts_with("*");
  default:
    return false;
  }
}

Value zero_of(const GoType& t) {
  switch (t.base()) {
  case GoType::Base::reflect_value:
    return Value();
  case GoType::Base::named:
    if (t.name().starts_with("[]")) {
      return Value::list({}, t.name());
    }
    if (t.name().starts_with("map[")) {
      return Value::map({}, t.name());
    }
    return Value::nil();
  default:
    return Value::nil();
  }
}

bool is_hex_int(std::string_view s) {
  return s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
         s.find_first_of("pP") == std::string_view::npos;
}

// Methods of the Go types herald's values stand for (reflect's MethodByName).
std::optional<Function> find_method(const Value& receiver, std::string_view name) {
  if (receiver.kind() == Kind::time) {
    TimeValue t = receiver.as_time();
    auto int_method = [](std::int64_t v, IntType type) {
      return Function(Signature{},
                      [v, type](std::span<const Value>) { return Value::integer(v, type); });
    };
    go::CivilTime c = go::civil(t);
    if (name == "Format") {
      return Function(Signature{{GoType::string()}, {}}, [t](std::span<const Value> a) {
        return Value(go::format_time(t, a[0].as_string()));
      });
    }
    if (name == "String") {
      return Function(Signature{},
                      [t](std::span<const Value>) { return Value(go::time_string(t)); });
    }
    if (name == "UTC") {
      return Function(Signature{}, [t](std::span<const Value>) {
        TimeValue u = go::time_utc(t);
        u.monotonic = false;
        return Value::time(u);
      });
    }
    if (name == "Local") {
      return Function(Signature{}, [t](std::span<const Value>) {
        TimeValue u = go::time_local(t);
        u.monotonic = false;
        return Value::time(u);
      });
    }
    if (name == "Unix") {
      return int_method(t.unix_seconds, IntType::go_int64);
    }
    if (name == "UnixMilli") {
      return int_method(t.unix_seconds * 1000 + t.nanoseconds / 1000000, IntType::go_int64);
    }
    if (name == "UnixNano") {
      return int_method(t.unix_seconds * 1000000000 + t.nanoseconds, IntType::go_int64);
    }
    if (name == "Year") {
      return int_method(c.year, IntType::go_int);
    }
    if (name == "YearDay") {
      return int_method(c.yday, IntType::go_int);
    }
    if (name == "Day") {
      return int_method(c.day, IntType::go_int);
    }
    if (name == "Hour") {
      return int_method(c.hour, IntType::go_int);
    }
    if (name == "Minute") {
      return int_method(c.minute, IntType::go_int);
    }
    if (name == "Second") {
      return int_method(c.second, IntType::go_int);
    }
    if (name == "Nanosecond") {
      return int_method(t.nanoseconds, IntType::go_int);
    }
    return std::nullopt;
  }
  if (receiver.kind() == Kind::record && name == "Depth" &&
      receiver.type_name() == "memkv.KVPair") {
    const Value* key = receiver.find("Key");
    std::int64_t depth = 0;
    if (key != nullptr) {
      for (char ch : key->as_string()) {
        depth += ch == '/' ? 1 : 0;
      }
    }
    return Function(Signature{}, [depth](std::span<const Value>) { return Value(depth); });
  }
  if (receiver.kind() == Kind::list && name == "Len" && receiver.type_name() == "memkv.KVPairs") {
    auto n = static_cast<std::int64_t>(receiver.size());
    return Function(Signature{}, [n](std::span<const Value>) { return Value(n); });
  }
  return std::nullopt;
}

// What every State of one execution shares: the limits and how close it is to them.
struct Limits {
  std::size_t output_end; ///< out.size() must stay at or below this
  std::size_t max_output; ///< for the message
  std::uint64_t steps_left;
  std::uint64_t max_steps; ///< for the message
  int depth = 0;           ///< template calls and control structures open right now
};

// One execution: Go's exec.state.
class State {
public:
  State(std::string& out, const TreeSet& set, const FuncMap& funcs, const Tree* tmpl,
        std::string name, Limits& limits)
      : m_out(out), m_set(set), m_funcs(funcs), m_tmpl(tmpl), m_name(std::move(name)),
        m_limits(limits) {}

  void run(const Value& data) {
    m_vars.push_back({"$", data});
    if (m_tmpl == nullptr || !m_tmpl->root) {
      errorf(go::quote(m_name) + " is an incomplete or empty template");
    }
    walk(data, m_tmpl->root.get());
  }

private:
  enum class Flow { normal, break_loop, continue_loop };

  /// One level of Limits::depth for its lifetime: each level is a few recursive calls, and a
  /// template calling itself multiplies the nesting of its body. Parenthesized pipelines need no
  /// count here: they nest within one action, which the parser's bound already covers.
  class Nested {
  public:
    explicit Nested(State& state) : m_depth(state.m_limits.depth) {
      if (m_depth >= k_max_exec_depth) {
        state.errorf("exceeded maximum template depth (" + std::to_string(k_max_exec_depth) + ")");
      }
      ++m_depth;
    }
    ~Nested() { --m_depth; }
    Nested(const Nested&) = delete;
    Nested& operator=(const Nested&) = delete;

  private:
    int& m_depth;
  };

  /// Counts `n` steps of work against ExecOptions::max_steps.
  void charge(std::uint64_t n) {
    if (n >= m_limits.steps_left) {
      errorf("execution took more than " + std::to_string(m_limits.max_steps) +
             " steps (nodes visited and values made): a runaway loop?");
    }
    m_limits.steps_left -= n;
  }

  /// Fails the execution once the output outgrew ExecOptions::max_output.
  void check_output() const {
    if (m_out.size() > m_limits.output_end) {
      errorf("output larger than " + format_size(m_limits.max_output) +
             " (raise the limit if this is intended)");
    }
  }

  // Names point into the parse tree (or are "$"), which outlives the execution.
  struct Variable {
    std::string_view name;
    Value value;
  };

  void at(const Node* n) { m_node = n; }
  [[noreturn]] void errorf(const std::string& message) const;

  void push(std::string_view name, const Value& v) { m_vars.push_back({name, v}); }
  std::size_t mark() const { return m_vars.size(); }
  void pop(std::size_t mark) { m_vars.resize(mark); }
  void set_var(const std::string& name, const Value& v);
  void set_top_var(std::size_t n, const Value& v) { m_vars[m_vars.size() - n].value = v; }
  const Value& var_value(const std::string& name) const;

  Flow walk(const Value& dot, const Node* node);
  Flow walk_if_or_with(NodeType type, const Value& dot, const BranchNode& b);
  Flow walk_range(const Value& dot, const BranchNode& r);
  void walk_template(const Value& dot, const TemplateNode& t);
  void print_value(const Node* n, const Value& v);

  Value eval_pipeline(const Value& dot, const PipeNode* pipe);
  void not_a_function(Args args, const Value* final) const;
  Value eval_command(const Value& dot, const CommandNode& cmd, const Value* final);
  Value ideal_constant(const NumberNode& n);
  Value eval_field_node(const Value& dot, const FieldNode& field, Args args, const Value* final);
  Value eval_chain_node(const Value& dot, const ChainNode& chain, Args args, const Value* final);
  Value eval_variable_node(const Value& dot, const VariableNode& v, Args args, const Value* final);
  Value eval_field_chain(const Value& dot, Value receiver, const Node& node,
                         std::span<const std::string> ident, Args args, const Value* final);
  Value eval_function(const Value& dot, const IdentifierNode& node, const Node& cmd, Args args,
                      const Value* final);
  Value eval_field(const Value& dot, const std::string& field_name, const Node& node, Args args,
                   const Value* final, const Value& receiver);
  Value eval_call(const Value& dot, const Function& fn, bool is_builtin, const Node& node,
                  const std::string& name, Args args, const Value* final);
  Value validate_type(const Value& value, const GoType* type);
  Value eval_arg(const Value& dot, const GoType* type, const Node* n);
  Value eval_empty_interface(const Value& dot, const Node* n);

  std::string& m_out;
  const TreeSet& m_set;
  const FuncMap& m_funcs;
  const Tree* m_tmpl;
  std::string m_name;
  Limits& m_limits;
  const Node* m_node = nullptr;
  std::vector<Variable> m_vars;
};

void State::errorf(const std::string& message) const {
  if (m_node == nullptr) {
    throw TemplateError("template: " + m_name + ": " + message, m_name, 0, -1);
  }
  const Tree* tree = m_node->tree != nullptr ? m_node->tree : m_tmpl;
  std::string_view text = *tree->text;
  std::size_t pos = std::min(m_node->pos, text.size());
  std::string_view before = text.substr(0, pos);
  auto nl = before.rfind('\n');
  std::size_t col = nl == std::string_view::npos ? pos : pos - (nl + 1);
  int line = 1;
  for (char c : before) {
    line += c == '\n' ? 1 : 0;
  }
  std::string location = tree->parse_name + ":" + std::to_string(line) + ":" + std::to_string(col);
  throw TemplateError("template: " + location + ": executing " + go::quote(m_name) + " at <" +
                          node_string(*m_node) + ">: " + message,
                      tree->parse_name, line, static_cast<int>(col));
}

void State::set_var(const std::string& name, const Value& v) {
  for (auto it = m_vars.rbegin(); it != m_vars.rend(); ++it) {
    if (it->name == name) {
      it->value = v;
      return;
    }
  }
  errorf("undefined variable: " + name);
}

const Value& State::var_value(const std::string& name) const {
  for (auto it = m_vars.rbegin(); it != m_vars.rend(); ++it) {
    if (it->name == name) {
      return it->value;
    }
  }
  errorf("undefined variable: " + name);
}

State::Flow State::walk(const Value& dot, const Node* node) {
  at(node);
  charge(1);
  switch (node->type) {
  case NodeType::action: {
    const auto& a = static_cast<const ActionNode&>(*node);
    // Variables declared here persist until the enclosing {{end}}; a declaration prints nothing.
    Value val = eval_pipeline(dot, a.pipe.get());
    if (a.pipe->decl.empty()) {
      print_value(node, val);
    }
    return Flow::normal;
  }
  case NodeType::break_:
    return Flow::break_loop;
  case NodeType::continue_:
    return Flow::continue_loop;
  case NodeType::comment:
    return Flow::normal;
  case NodeType::if_:
  case NodeType::with:
    return walk_if_or_with(node->type, dot, static_cast<const BranchNode&>(*node));
  case NodeType::list:
    for (const auto& child : static_cast<const ListNode&>(*node).nodes) {
      Flow f = walk(dot, child.get());
      if (f != Flow::normal) {
        return f;
      }
    }
    return Flow::normal;
  case NodeType::range:
    return walk_range(dot, static_cast<const BranchNode&>(*node));
  case NodeType::template_:
    walk_template(dot, static_cast<const TemplateNode&>(*node));
    return Flow::normal;
  case NodeType::text:
    m_out += static_cast<const TextNode&>(*node).text;
    check_output();
    return Flow::normal;
  default:
    errorf("unknown node: " + node_string(*node));
  }
}

State::Flow State::walk_if_or_with(NodeType type, const Value& dot, const BranchNode& b) {
  Nested level(*this);
  std::size_t m = mark();
  Value val = eval_pipeline(dot, b.pipe.get());
  Flow f = Flow::normal;
  if (val.truthy()) {
    f = walk(type == NodeType::with ? val : dot, b.list.get());
  } else if (b.else_list) {
    f = walk(dot, b.else_list.get());
  }
  pop(m);
  return f;
}

State::Flow State::walk_range(const Value& dot, const BranchNode& r) {
  at(&r);
  Nested level(*this);
  std::size_t outer = mark();
  Value val = eval_pipeline(dot, r.pipe.get());
  std::size_t m = mark(); // the top of the stack before any variable of the body
  const auto& decl = r.pipe->decl;
  auto one_iteration = [&](const Value& index, const Value& elem) {
    if (!decl.empty()) {
      if (r.pipe->is_assign) {
        set_var(decl[0]->ident[0], decl.size() > 1 ? index : elem);
      } else {
        set_top_var(1, elem);
      }
    }
    if (decl.size() > 1) {
      if (r.pipe->is_assign) {
        set_var(decl[1]->ident[0], elem);
      } else {
        set_top_var(2, index);
      }
    }
    Flow f = walk(elem, r.list.get());
    pop(m);
    return f;
  };
  bool iterated = false;
  switch (val.kind()) {
  case Kind::list: {
    // Index afresh each time: a body may reverse or sort the slice in place, as in Go.
    for (std::size_t i = 0; i < val.items().size(); ++i) {
      iterated = true;
      Value elem = val.items()[i];
      if (one_iteration(Value(static_cast<std::int64_t>(i)), elem) == Flow::break_loop) {
        break;
      }
    }
    break;
  }
  case Kind::map:
    for (const auto& [key, value] : val.entries()) {
      iterated = true;
      if (one_iteration(Value(key), value) == Flow::break_loop) {
        break;
      }
    }
    break;
  case Kind::invalid:
    break; // acts like an empty map
  default: {
    std::array<Value, 1> args{val};
    errorf("range can't iterate over " + sprint(args));
  }
  }
  if (!iterated && r.else_list) {
    walk(dot, r.else_list.get());
  }
  pop(outer);
  return Flow::normal;
}

void State::walk_template(const Value& dot, const TemplateNode& t) {
  at(&t);
  auto it = m_set.find(t.name);
  if (it == m_set.end() || !it->second->root) {
    errorf("template " + go::quote(t.name) + " not defined");
  }
  Nested level(*this);
  // Variables declared by the pipeline persist; the called template sees none of ours.
  Value new_dot = eval_pipeline(dot, t.pipe.get());
  State sub(m_out, m_set, m_funcs, it->second.get(), it->second->name, m_limits);
  sub.m_vars.push_back({"$", new_dot});
  sub.walk(new_dot, it->second->root.get());
}

void State::print_value(const Node* n, const Value& v) {
  at(n);
  if (!v.valid()) {
    m_out += "<no value>";
  } else if (v.is_pointer()) {
    // printableValue dereferences a pointer before fmt sees it.
    std::string type = v.type_name();
    append_print(m_out, Value::record(type.substr(1), v.entries()));
  } else {
    append_print(m_out, v);
  }
  check_output();
}

Value State::eval_pipeline(const Value& dot, const PipeNode* pipe) {
  if (pipe == nullptr) {
    return Value();
  }
  at(pipe);
  Value value;
  bool first = true;
  for (const auto& cmd : pipe->cmds) {
    Value prev = std::move(value);
    value = eval_command(dot, *cmd, first ? nullptr : &prev);
    first = false;
    // An interface{} result is unwrapped: nil becomes no value.
    if (value.kind() == Kind::nil) {
      value = Value();
    } else if (value.boxed()) {
      value = value.unbox();
    }
  }
  for (const auto& var : pipe->decl) {
    if (pipe->is_assign) {
      set_var(var->ident[0], value);
    } else {
      push(var->ident[0], value);
    }
  }
  return value;
}

void State::not_a_function(Args args, const Value* final) const {
  if (args.size > 1 || final != nullptr) {
    errorf("can't give argument to non-function " + node_string(*args[0]));
  }
}

Value State::eval_command(const Value& dot, const CommandNode& cmd, const Value* final) {
  const Node* first = cmd.args[0].get();
  Args args = args_of(cmd);
  switch (first->type) {
  case NodeType::field:
    return eval_field_node(dot, static_cast<const FieldNode&>(*first), args, final);
  case NodeType::chain:
    return eval_chain_node(dot, static_cast<const ChainNode&>(*first), args, final);
  case NodeType::identifier:
    return eval_function(dot, static_cast<const IdentifierNode&>(*first), cmd, args, final);
  case NodeType::pipe:
    not_a_function(args, final);
    return eval_pipeline(dot, static_cast<const PipeNode*>(first));
  case NodeType::variable:
    return eval_variable_node(dot, static_cast<const VariableNode&>(*first), args, final);
  default:
    break;
  }
  at(first);
  not_a_function(args, final);
  switch (first->type) {
  case NodeType::boolean:
    return Value(static_cast<const BoolNode&>(*first).value);
  case NodeType::dot:
    return dot;
  case NodeType::nil:
    errorf("nil is not a command");
  case NodeType::number:
    return ideal_constant(static_cast<const NumberNode&>(*first));
  case NodeType::string:
    return static_cast<const StringNode&>(*first).value;
  default:
    errorf("can't evaluate command " + go::quote(node_string(*first)));
  }
}

Value State::ideal_constant(const NumberNode& n) {
  at(&n);
  if (n.is_float && !is_hex_int(n.text) && !n.text.starts_with('\'') &&
      n.text.find_first_of(".eEpP") != std::string::npos) {
    return Value(n.float64);
  }
  if (n.is_int) {
    return Value(n.int64);
  }
  if (n.is_uint) {
    errorf(n.text + " overflows int");
  }
  return Value();
}

Value State::eval_field_node(const Value& dot, const FieldNode& field, Args args,
                             const Value* final) {
  at(&field);
  return eval_field_chain(dot, dot, field, field.ident, args, final);
}

Value State::eval_chain_node(const Value& dot, const ChainNode& chain, Args args,
                             const Value* final) {
  at(&chain);
  if (chain.field.empty()) {
    errorf("internal error: no fields in evalChainNode");
  }
  if (chain.node->type == NodeType::nil) {
    errorf("indirection through explicit nil in " + node_string(chain));
  }
  Value pipe = eval_arg(dot, nullptr, chain.node.get());
  return eval_field_chain(dot, pipe, chain, chain.field, args, final);
}

Value State::eval_variable_node(const Value& dot, const VariableNode& v, Args args,
                                const Value* final) {
  at(&v);
  Value value = var_value(v.ident[0]);
  if (v.ident.size() == 1) {
    not_a_function(args, final);
    return value;
  }
  return eval_field_chain(dot, value, v, std::span<const std::string>(v.ident).subspan(1), args,
                          final);
}

Value State::eval_field_chain(const Value& dot, Value receiver, const Node& node,
                              std::span<const std::string> ident, Args args, const Value* final) {
  std::size_t n = ident.size();
  for (std::size_t i = 0; i + 1 < n; ++i) {
    receiver = eval_field(dot, ident[i], node, Args{}, nullptr, receiver);
  }
  return eval_field(dot, ident[n - 1], node, args, final, receiver);
}

Value State::eval_function(const Value& dot, const IdentifierNode& node, const Node& cmd, Args args,
                           const Value* final) {
  at(&node);
  const std::string& name = node.ident;
  if (auto it = m_funcs.find(name); it != m_funcs.end()) {
    return eval_call(dot, it->second, false, cmd, name, args, final);
  }
  const FuncMap& builtins = builtin_funcs();
  if (auto it = builtins.find(name); it != builtins.end()) {
    return eval_call(dot, it->second, true, cmd, name, args, final);
  }
  errorf(go::quote(name) + " is not a defined function");
}

Value State::eval_field(const Value& dot, const std::string& field_name, const Node& node,
                        Args args, const Value* final, const Value& receiver) {
  if (!receiver.valid()) {
    return Value(); // a missing key's fields are missing too
  }
  auto type = [&receiver] {
    return receiver.boxed() ? std::string("interface {}") : receiver.type_name();
  };
  if (receiver.kind() == Kind::nil) {
    errorf("nil pointer evaluating " + type() + "." + field_name);
  }
  if (auto method = find_method(receiver, field_name)) {
    return eval_call(dot, *method, false, node, field_name, args, final);
  }
  bool has_args = args.size > 1 || final != nullptr;
  switch (receiver.kind()) {
  case Kind::record:
    if (const Value* field = receiver.find(field_name)) {
      if (has_args) {
        errorf(field_name + " has arguments but cannot be invoked as function");
      }
      return *field;
    }
    break;
  case Kind::map: {
    if (has_args) {
      errorf(field_name + " is not a method but has arguments");
    }
    const Value* v = receiver.find(field_name);
    return v != nullptr ? *v : Value();
  }
  default:
    break;
  }
  errorf("can't evaluate field " + field_name + " in type " + type());
}

Value State::eval_call(const Value& dot, const Function& fn, bool is_builtin, const Node& node,
                       const std::string& name, Args args, const Value* final) {
  if (args.size > 0) {
    args = Args{args.size > 1 ? args.data + 1 : nullptr, args.size - 1};
  }
  static const Signature k_untyped{{}, GoType::any()};
  const Signature& sig = fn.signature() ? *fn.signature() : k_untyped;
  std::size_t num_in = args.size + (final != nullptr ? 1 : 0);
  std::size_t num_fixed = args.size;
  if (sig.variadic) {
    num_fixed = sig.params.size();
    if (num_in < num_fixed) {
      errorf("wrong number of args for " + name + ": want at least " +
             std::to_string(sig.params.size()) + " got " + std::to_string(args.size));
    }
  } else if (num_in != sig.params.size()) {
    errorf("wrong number of args for " + name + ": want " + std::to_string(sig.params.size()) +
           " got " + std::to_string(num_in));
  }

  // and/or short-circuit: arguments are evaluated only until the result is known.
  if (is_builtin && (name == "and" || name == "or")) {
    const GoType& arg_type = sig.params[0];
    Value v;
    for (std::size_t i = 0; i < args.size; ++i) {
      v = eval_arg(dot, &arg_type, args[i]);
      if (v.truthy() == (name == "or")) {
        return v;
      }
    }
    if (final != nullptr) {
      v = validate_type(*final, &arg_type);
    }
    return v;
  }

  // Most calls take a few arguments: keep them off the heap.
  constexpr std::size_t k_inline_args = 6;
  std::array<Value, k_inline_args> inline_args;
  std::vector<Value> heap_args;
  if (num_in > k_inline_args) {
    heap_args.resize(num_in);
  }
  Value* argv_data = num_in > k_inline_args ? heap_args.data() : inline_args.data();
  std::size_t n = 0;
  std::size_t i = 0;
  for (; i < num_fixed && i < args.size; ++i) {
    argv_data[n++] = eval_arg(dot, &sig.params[i], args[i]);
  }
  if (sig.variadic) {
    for (; i < args.size; ++i) {
      argv_data[n++] = eval_arg(dot, &*sig.variadic, args[i]);
    }
  }
  if (final != nullptr) {
    const GoType* t = nullptr;
    if (sig.variadic) {
      t = num_in - 1 < num_fixed ? &sig.params[num_in - 1] : &*sig.variadic;
    } else {
      t = &sig.params[sig.params.size() - 1];
    }
    argv_data[n++] = validate_type(*final, t);
  }
  std::span<const Value> argv(argv_data, n);
  try {
    Value result = fn(argv);
    charge(result.size()); // a function's result is work: `seq 1 1000000` is a million steps
    return result;
  } catch (const TemplateError&) {
    throw;
  } catch (const std::exception& e) {
    at(&node);
    errorf("error calling " + name + ": " + e.what());
  }
}

Value State::validate_type(const Value& value, const GoType* type) {
  if (!value.valid()) {
    if (type == nullptr) {
      return Value();
    }
    if (can_be_nil(*type)) {
      return zero_of(*type);
    }
    errorf("invalid value; expected " + type->name());
  }
  if (type == nullptr || type->base() == GoType::Base::reflect_value ||
      type->base() == GoType::Base::any) {
    return value;
  }
  if (!assignable(value, *type)) {
    Value concrete = value.kind() == Kind::nil ? value : value.unbox();
    if (!assignable(concrete, *type)) {
      errorf("wrong type for value; expected " + type->name() + "; got " + concrete.type_name());
    }
    return concrete;
  }
  return value.unbox();
}

Value State::eval_arg(const Value& dot, const GoType* type, const Node* n) {
  at(n);
  static const Args k_self{nullptr, 1};
  switch (n->type) {
  case NodeType::dot:
    return validate_type(dot, type);
  case NodeType::nil:
    if (type == nullptr || can_be_nil(*type)) {
      return type == nullptr ? Value() : zero_of(*type);
    }
    errorf("cannot assign nil to " + type->name());
  case NodeType::field:
    return validate_type(eval_field_node(dot, static_cast<const FieldNode&>(*n), k_self, nullptr),
                         type);
  case NodeType::variable:
    return validate_type(
        eval_variable_node(dot, static_cast<const VariableNode&>(*n), Args{}, nullptr), type);
  case NodeType::pipe:
    return validate_type(eval_pipeline(dot, static_cast<const PipeNode*>(n)), type);
  case NodeType::identifier:
    return validate_type(
        eval_function(dot, static_cast<const IdentifierNode&>(*n), *n, Args{}, nullptr), type);
  case NodeType::chain:
    return validate_type(eval_chain_node(dot, static_cast<const ChainNode&>(*n), Args{}, nullptr),
                         type);
  default:
    break;
  }
  const GoType& t = type != nullptr ? *type : any_type();
  switch (t.base()) {
  case GoType::Base::boolean:
    if (n->type == NodeType::boolean) {
      return Value(static_cast<const BoolNode&>(*n).value);
    }
    errorf("expected bool; found " + node_string(*n));
  case GoType::Base::float64:
    if (n->type == NodeType::number && static_cast<const NumberNode&>(*n).is_float) {
      return Value(static_cast<const NumberNode&>(*n).float64);
    }
    errorf("expected float; found " + node_string(*n));
  case GoType::Base::integer:
    if (n->type == NodeType::number && static_cast<const NumberNode&>(*n).is_int) {
      return Value(static_cast<const NumberNode&>(*n).int64);
    }
    errorf("expected integer; found " + node_string(*n));
  case GoType::Base::any:
  case GoType::Base::reflect_value:
    return eval_empty_interface(dot, n);
  case GoType::Base::string:
    if (n->type == NodeType::string) {
      return static_cast<const StringNode&>(*n).value;
    }
    errorf("expected string; found " + node_string(*n));
  case GoType::Base::named:
    break;
  }
  errorf("can't handle " + node_string(*n) + " for arg of type " + t.name());
}

Value State::eval_empty_interface(const Value& dot, const Node* n) {
  at(n);
  switch (n->type) {
  case NodeType::boolean:
    return Value(static_cast<const BoolNode&>(*n).value);
  case NodeType::dot:
    return dot;
  case NodeType::field:
    return eval_field_node(dot, static_cast<const FieldNode&>(*n), Args{}, nullptr);
  case NodeType::identifier:
    return eval_function(dot, static_cast<const IdentifierNode&>(*n), *n, Args{}, nullptr);
  case NodeType::nil:
    errorf("evalEmptyInterface: nil (can't happen)");
  case NodeType::number:
    return ideal_constant(static_cast<const NumberNode&>(*n));
  case NodeType::string:
    return static_cast<const StringNode&>(*n).value;
  case NodeType::variable:
    return eval_variable_node(dot, static_cast<const VariableNode&>(*n), Args{}, nullptr);
  case NodeType::pipe:
    return eval_pipeline(dot, static_cast<const PipeNode*>(n));
  default:
    errorf("can't handle assignment of " + node_string(*n) + " to empty interface argument");
  }
}

} // namespace

void execute_tree(std::string& out, const TreeSet& set, const Tree* tree, const std::string& name,
                  const FuncMap& funcs, const Value& data, const ExecOptions& options) {
  Limits limits{out.size() + options.max_output, options.max_output, options.max_steps,
                options.max_steps};
  if (limits.output_end < out.size()) {
    limits.output_end = static_cast<std::size_t>(-1); // "no limit" given as SIZE_MAX
  }
  State state(out, set, funcs, tree, name, limits);
  state.run(data);
}

} // namespace herald::tmpl
