#include "herald/units/unit_templates.hpp"

#include "herald/core/error.hpp"
#include "herald/units/quote.hpp"
#include "herald/units/unit_file.hpp"
#include "herald/units/unit_name.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <system_error>

namespace herald::units {

namespace fs = std::filesystem;

namespace {

tmpl::Function string_function(std::string (*fn)(std::string_view)) {
  return tmpl::Function(tmpl::Signature{{tmpl::GoType::string()}, std::nullopt},
                        [fn](std::span<const tmpl::Value> args) -> tmpl::Value {
                          return tmpl::Value(fn(args[0].as_string()));
                        });
}

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(ErrorKind::config, fmt::format("cannot read unit template {}", path.string()));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

} // namespace

const tmpl::FuncMap& unit_template_funcs() {
  static const tmpl::FuncMap funcs = [] {
    tmpl::FuncMap map;
    map.emplace("execArg", string_function(&exec_argument));
    map.emplace("systemdQuote", string_function(&quote_word));
    map.emplace("escapeSpecifiers", string_function(&escape_specifiers));
    map.emplace("envWord",
                tmpl::Function(
                    tmpl::Signature{{tmpl::GoType::string(), tmpl::GoType::string()}, std::nullopt},
                    [](std::span<const tmpl::Value> args) -> tmpl::Value {
                      return tmpl::Value(
                          environment_word(args[0].as_string(), args[1].as_string()));
                    }));
    return map;
  }();
  return funcs;
}

UnitTemplates::UnitTemplates(std::string override_dir) : m_override_dir(std::move(override_dir)) {
  std::error_code ec;
  if (!m_override_dir.empty() && !fs::is_directory(m_override_dir, ec)) {
    throw Error(ErrorKind::config,
                fmt::format("unit template directory {} does not exist", m_override_dir));
  }
}

std::pair<std::string, std::string> UnitTemplates::load(std::string_view name) const {
  if (!m_override_dir.empty()) {
    fs::path path = fs::path(m_override_dir) / name;
    std::error_code ec;
    if (fs::exists(path, ec)) {
      return {read_text_file(path), path.string()};
    }
  }
  for (const EmbeddedFile& file : builtin_unit_templates()) {
    if (file.name == name) {
      return {std::string(file.contents), fmt::format("built-in {}", name)};
    }
  }
  throw Error(ErrorKind::config, fmt::format("no unit template {}", name));
}

std::string UnitTemplates::render(std::string_view name, const tmpl::Value& data,
                                  std::string_view unit_name) const {
  auto [text, origin] = load(name);
  std::string unit;
  try {
    tmpl::Template templ = tmpl::Template::parse(std::string(name), text, unit_template_funcs());
    unit = templ.execute(data);
  } catch (const tmpl::TemplateError& e) {
    std::string hint = e.hint().empty() ? "" : " (" + e.hint() + ")";
    throw Error(ErrorKind::data, fmt::format("{}: {}{}", origin, e.what(), hint));
  }
  // The rendered unit must read back: a broken template fails here, not on a machine.
  try {
    UnitFile::parse(unit, unit_name);
  } catch (const ParseError& e) {
    throw Error(ErrorKind::data, fmt::format("{} (rendered from {})", e.what(), origin));
  }
  return unit;
}

std::vector<std::string> UnitTemplates::builtin_names() {
  std::vector<std::string> names;
  for (const EmbeddedFile& file : builtin_unit_templates()) {
    names.emplace_back(file.name);
  }
  return names;
}

} // namespace herald::units
