#pragma once

#include "herald/render/resource.hpp"
#include "herald/render/route_funcs.hpp"
#include "herald/tmpl/funcs_consul.hpp"
#include "herald/tmpl/kv_store.hpp"
#include "herald/tmpl/template.hpp"

#include <cstddef>
#include <memory>
#include <string>

namespace herald::render {

/// The largest template file render reads: real ones are a few KiB.
inline constexpr std::size_t k_max_template_size = std::size_t{4} << 20;

/// Reads resource.src and parses it as confd does (Go text/template named after the file's base
/// name, confd's functions bound to `store`, plus consul-template's Consul functions over `store`
/// and `services`: tmpl::add_consul_funcs, and the safe instance functions of route_funcs.hpp,
/// which mark `reads`). A syntax error or an unknown function is
/// Error(data) "RESOURCE: template: NAME:LINE: ..." with the engine's "did you mean" hint; an
/// unreadable file, one that is not a regular file (a FIFO, /dev/zero) or one larger than
/// k_max_template_size is Error(config).
tmpl::Template load_template(const TemplateResource& resource,
                             std::shared_ptr<const tmpl::KvStore> store,
                             std::shared_ptr<tmpl::ServiceSource> services = nullptr,
                             std::shared_ptr<RouteReads> reads = nullptr);

/// Executes `templ` as confd does (dot is nil). An execution error (a missing key without
/// default, a failing function, output beyond options.max_output) is Error(data)
/// "RESOURCE: template: NAME:LINE:COL: ...".
std::string execute_template(const TemplateResource& resource, const tmpl::Template& templ,
                             const tmpl::ExecOptions& options = {});

/// execute_template() into `out` (cleared first), whose capacity a loop reuses from render to
/// render.
void execute_template(const TemplateResource& resource, const tmpl::Template& templ,
                      std::string& out, const tmpl::ExecOptions& options = {});

} // namespace herald::render
