#include "herald/render/template_file.hpp"

#include "herald/core/file.hpp"
#include "herald/render/route_funcs.hpp"
#include "herald/tmpl/funcs_confd.hpp"
#include "herald/tmpl/funcs_consul.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>

namespace herald::render {

namespace {

[[noreturn]] void rethrow_template_error(const TemplateResource& resource,
                                         const tmpl::TemplateError& e) {
  std::string message = fmt::format("{}: {}", resource.name, e.what());
  if (!e.hint().empty()) {
    message += fmt::format(" ({})", e.hint());
  }
  throw Error(ErrorKind::data, message);
}

} // namespace

tmpl::Template load_template(const TemplateResource& resource,
                             std::shared_ptr<const tmpl::KvStore> store,
                             std::shared_ptr<tmpl::ServiceSource> services,
                             std::shared_ptr<RouteReads> reads) {
  std::optional<std::string> text =
      read_file(resource.src, k_max_template_size, fmt::format("{}: template", resource.name));
  if (!text) {
    throw Error(ErrorKind::config, fmt::format("{}: cannot read template {}: {}", resource.name,
                                               resource.src, std::strerror(ENOENT)));
  }
  // confd names the template after the file (template.New(filepath.Base(src))), which is the
  // name Go's error messages carry.
  std::string name = std::filesystem::path(resource.src).filename().string();
  try {
    tmpl::FuncMap funcs = tmpl::confd_funcs(store);
    tmpl::add_consul_funcs(funcs, *text, store, std::move(services));
    add_route_funcs(funcs, std::move(store), std::move(reads));
    return tmpl::Template::parse(name, *text, std::move(funcs));
  } catch (const tmpl::TemplateError& e) {
    rethrow_template_error(resource, e);
  }
}

std::string execute_template(const TemplateResource& resource, const tmpl::Template& templ,
                             const tmpl::ExecOptions& options) {
  std::string out;
  execute_template(resource, templ, out, options);
  return out;
}

void execute_template(const TemplateResource& resource, const tmpl::Template& templ,
                      std::string& out, const tmpl::ExecOptions& options) {
  out.clear();
  try {
    templ.execute(out, tmpl::Value(), options);
  } catch (const tmpl::TemplateError& e) {
    rethrow_template_error(resource, e);
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("{}: {}", resource.name, e.what()));
  }
}

} // namespace herald::render
