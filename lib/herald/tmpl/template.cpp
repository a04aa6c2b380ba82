#include "herald/tmpl/template.hpp"

#include "herald/tmpl/exec.hpp"
#include "herald/tmpl/go_strconv.hpp"
#include "herald/tmpl/parser.hpp"

#include <atomic>

namespace herald::tmpl {

struct Template::Set {
  TreeSet trees;
  // The size of the last output: the next execution reserves it, so rendering a big config
  // again does not regrow (and recopy) the output buffer a dozen times.
  mutable std::atomic<std::size_t> last_output_size{0};
};

Template Template::parse(std::string name, std::string_view text, FuncMap funcs) {
  auto set = std::make_shared<Set>();
  auto fm = std::make_shared<const FuncMap>(std::move(funcs));
  const FuncMap& builtins = builtin_funcs();
  std::vector<std::string> names;
  for (const auto& [n, f] : *fm) {
    names.push_back(n);
  }
  for (const auto& [n, f] : builtins) {
    names.push_back(n);
  }
  auto has_function = [&](std::string_view n) {
    return fm->find(n) != fm->end() || builtins.find(n) != builtins.end();
  };
  parse_into(set->trees, name, std::make_shared<const std::string>(text), has_function, names);
  Template t;
  t.m_set = std::move(set);
  t.m_funcs = std::move(fm);
  t.m_name = std::move(name);
  return t;
}

void Template::execute(std::string& out, const Value& data, const ExecOptions& options) const {
  auto it = m_set->trees.find(m_name);
  std::size_t start = out.size();
  out.reserve(start + m_set->last_output_size.load(std::memory_order_relaxed));
  execute_tree(out, m_set->trees, it == m_set->trees.end() ? nullptr : it->second.get(), m_name,
               *m_funcs, data, options);
  m_set->last_output_size.store(out.size() - start, std::memory_order_relaxed);
}

std::string Template::execute(const Value& data, const ExecOptions& options) const {
  std::string out;
  execute(out, data, options);
  return out;
}

void Template::execute_template(std::string& out, std::string_view name, const Value& data,
                                const ExecOptions& options) const {
  auto it = m_set->trees.find(name);
  if (it == m_set->trees.end()) {
    throw TemplateError("template: no template " + go::quote(name) + " associated with template " +
                            go::quote(m_name),
                        m_name, 0, -1);
  }
  execute_tree(out, m_set->trees, it->second.get(), it->second->name, *m_funcs, data, options);
}

Template Template::with_funcs(FuncMap funcs) const {
  Template t = *this;
  t.m_funcs = std::make_shared<const FuncMap>(std::move(funcs));
  return t;
}

bool Template::defines(std::string_view name) const {
  return m_set->trees.find(name) != m_set->trees.end();
}

std::vector<std::string> Template::template_names() const {
  std::vector<std::string> names;
  for (const auto& [n, t] : m_set->trees) {
    names.push_back(n);
  }
  return names;
}

} // namespace herald::tmpl
