#pragma once

// herald's implementation of Go's text/template (as of Go 1.19, the version confd 0.17 was built
// with): parse a template text against a set of functions, then execute it over a Value tree.

#include "herald/core/error.hpp"
#include "herald/tmpl/value.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace herald::tmpl {

/// A template error worded exactly as Go words it ("template: NAME:LINE:COL: ..."), with the
/// location kept apart for callers that show the offending line.
class TemplateError : public herald::Error {
public:
  TemplateError(const std::string& message, std::string template_name, int line, int column)
      : herald::Error(ErrorKind::data, message), m_template_name(std::move(template_name)),
        m_line(line), m_column(column) {}

  /// The name of the template the location refers to.
  const std::string& template_name() const noexcept { return m_template_name; }
  /// 1-based line, 0 when unknown.
  int line() const noexcept { return m_line; }
  /// 0-based byte column as Go counts it; -1 when Go gives none (parse errors).
  int column() const noexcept { return m_column; }
  /// A suggestion ("did you mean \"getv\"?"), empty when there is none; not part of what().
  const std::string& hint() const noexcept { return m_hint; }
  /// Sets the suggestion.
  void set_hint(std::string hint) { m_hint = std::move(hint); }

private:
  std::string m_template_name;
  int m_line;
  int m_column;
  std::string m_hint;
};

/// A Go parameter type a template function declares, so that the engine converts and checks its
/// arguments as Go's reflection-based calls do (constants typed by the parameter, "wrong type for
/// value; expected string; got int", ...).
class GoType {
public:
  /// How an argument is matched against the parameter.
  enum class Base : std::uint8_t {
    any,           ///< interface{}: anything, missing values become nil
    reflect_value, ///< reflect.Value (Go's builtins): anything, missing values stay missing
    string,
    integer, ///< int
    boolean,
    float64,
    named ///< a slice, map or struct type, matched by its Go name ("[]string")
  };

  /// interface{}.
  static GoType any() { return GoType(Base::any, "interface {}"); }
  /// reflect.Value.
  static GoType reflect_value() { return GoType(Base::reflect_value, "reflect.Value"); }
  /// string.
  static GoType string() { return GoType(Base::string, "string"); }
  /// int.
  static GoType integer() { return GoType(Base::integer, "int"); }
  /// bool.
  static GoType boolean() { return GoType(Base::boolean, "bool"); }
  /// float64.
  static GoType float64() { return GoType(Base::float64, "float64"); }
  /// A composite type spelled as Go spells it ("[]string", "[]memkv.KVPair").
  static GoType named(std::string name) { return GoType(Base::named, std::move(name)); }

  /// How arguments are matched.
  Base base() const noexcept { return m_base; }
  /// The Go spelling, for error messages.
  const std::string& name() const noexcept { return m_name; }

private:
  GoType(Base b, std::string n) : m_base(b), m_name(std::move(n)) {}
  Base m_base;
  std::string m_name;
};

/// The parameters of a template function: fixed ones, then an optional variadic element type.
struct Signature {
  std::vector<GoType> params;
  std::optional<GoType> variadic;
};

/// A function callable from templates. It receives its evaluated arguments and returns one value;
/// to fail it throws (the engine reports "error calling NAME: <what()>", as Go does for a
/// function's error result).
class Function {
public:
  /// The callable type.
  using Callable = std::function<Value(std::span<const Value>)>;

  /// A function taking any number of arguments of any type.
  Function(Callable fn) : m_fn(std::move(fn)) {}
  /// A function whose arguments are checked against `signature` before the call.
  Function(Signature signature, Callable fn)
      : m_fn(std::move(fn)), m_signature(std::move(signature)) {}

  /// Calls the function.
  Value operator()(std::span<const Value> args) const { return m_fn(args); }
  /// The declared signature, if any.
  const std::optional<Signature>& signature() const noexcept { return m_signature; }

private:
  Callable m_fn;
  std::optional<Signature> m_signature;
};

/// Functions by the name templates call them with.
using FuncMap = std::map<std::string, Function, std::less<>>;

/// How deeply a template may nest parenthesized pipelines, {{if}}, {{range}}, {{with}} (each
/// {{else if}} counting as one more) and {{block}}: each level is a few recursive calls of the
/// parser, so a bound turns a hostile or broken template into an error naming its line instead
/// of a stack overflow. Go stops at 10000 parentheses (on a growable goroutine stack) and has no
/// bound on control structures.
inline constexpr int k_max_parse_depth = 500;

/// How deeply an execution may nest template calls and control structures together ("exceeded
/// maximum template depth"): a template calling itself multiplies the nesting of its body. Go
/// counts only template calls, up to 100000. Measured with clang -O1 and AddressSanitizer (the
/// fuzz build) on an 8 MiB stack, a template call and an {{if}} take about 10 KiB: 900 such
/// pairs overflowed, 700 did not. 500 levels plus 500 parentheses below them fit with room.
inline constexpr int k_max_exec_depth = 500;

/// The default bound of ExecOptions::max_output: far above any real router config (a
/// 10 000-app nginx config is about 4 MiB), far below what would exhaust memory.
inline constexpr std::size_t k_default_max_output = std::size_t{64} << 20;

/// The default bound of ExecOptions::max_steps: a render of 10 000 apps takes a few million.
inline constexpr std::uint64_t k_default_max_steps = 1'000'000'000;

/// Limits of one execution.
struct ExecOptions {
  /// The most bytes the execution may write; one byte more fails it with an error naming the
  /// action that crossed the bound, before the whole output is held in memory.
  std::size_t max_output = k_default_max_output;
  /// The most work the execution may do, counted as nodes visited plus the elements (or bytes)
  /// of every function result: `{{range seq 1 1000000}}{{range seq 1 1000000}}` fails after a
  /// while instead of spinning for days.
  std::uint64_t max_steps = k_default_max_steps;
};

/// A parsed template together with the templates it defines ({{define}}, {{block}}).
/// Copies share the parsed trees; a Template is immutable and may be executed concurrently.
class Template {
public:
  /// Parses `text` as the template `name`. Function names are checked against `funcs` and Go's
  /// builtins. Throws TemplateError ("template: NAME:LINE: ...") on a syntax error.
  static Template parse(std::string name, std::string_view text, FuncMap funcs = {});

  /// Executes the template with `data` as dot, appending the output to `out`. Throws
  /// TemplateError ("template: NAME:LINE:COL: executing ...") when execution fails; `out` then
  /// holds the partial output.
  void execute(std::string& out, const Value& data, const ExecOptions& options = {}) const;

  /// Executes the template and returns the output.
  std::string execute(const Value& data, const ExecOptions& options = {}) const;

  /// Executes the associated template `name` (a {{define}}d one, or this one).
  void execute_template(std::string& out, std::string_view name, const Value& data,
                        const ExecOptions& options = {}) const;

  /// The same parsed templates bound to other implementations of the functions (for instance the
  /// confd functions over a newer snapshot). Names missing from `funcs` fail when called.
  Template with_funcs(FuncMap funcs) const;

  /// The name given to parse().
  const std::string& name() const noexcept { return m_name; }

  /// True when a template called `name` is defined in this set.
  bool defines(std::string_view name) const;

  /// The names of all templates of the set, sorted.
  std::vector<std::string> template_names() const;

private:
  struct Set;
  Template() = default;

  std::shared_ptr<const Set> m_set;
  std::shared_ptr<const FuncMap> m_funcs;
  std::string m_name;
};

} // namespace herald::tmpl
