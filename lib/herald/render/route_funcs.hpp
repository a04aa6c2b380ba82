#pragma once

#include "herald/tmpl/kv_store.hpp"
#include "herald/tmpl/template.hpp"

#include <memory>

namespace herald::render {

/// Whether a template called the instance functions in its last execution, so the loop reports
/// the keys they skipped only for templates that read instances.
struct RouteReads {
  bool called = false;
};

/// Adds the safe functions the bundled templates use instead of confd's raw ones (DESIGN.md,
/// "Trust model"), over `store` (keys as confd stores them):
/// - `routes "/services/web"`: the apps below the path with their instances, as the route model
///   reads them (`PATH/APP/APP@N`, any `PATH/APP/LEAF`, or `PATH/APP` holding host:port or the
///   JSON form), sorted by app then key. Each app is {Name, Instances}; each instance is {Key, ID
///   (APP@INSTANCE, or APP for a single key), App, Instance, Host, Port, Address (HOST:PORT, IPv6
///   in brackets), Tags, Meta}. An instance whose names, address, tags or meta fail the rule is
///   left out, and an app without instances is too, so nothing a template emits from it holds
///   router-config syntax.
/// - `safeGetv KEY DEFAULT`: the value of KEY ("/a/b", or "a/b" as consul-template writes it) when
///   it is a plain token (printable ASCII, no spaces, none of ; { } # " ' ` $ \), else DEFAULT.
/// `reads` (may be null) is marked when `routes` runs.
void add_route_funcs(tmpl::FuncMap& funcs, std::shared_ptr<const tmpl::KvStore> store,
                     std::shared_ptr<RouteReads> reads = nullptr);

} // namespace herald::render
