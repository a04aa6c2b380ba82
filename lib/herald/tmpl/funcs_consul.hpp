#pragma once

#include "herald/tmpl/kv_store.hpp"
#include "herald/tmpl/template.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace herald::tmpl {

/// One instance of a service as consul-template's `service` shows it (dependency.HealthService).
struct ServiceInstance {
  std::string id;                ///< .ID (Consul service ID, APP@INSTANCE for herald's instances)
  std::string name;              ///< .Name (the app)
  std::string address;           ///< .Address
  int port = 0;                  ///< .Port
  std::vector<std::string> tags; ///< .Tags, in any order (sorted when shown)
  std::map<std::string, std::string> meta; ///< .Meta / .ServiceMeta
  std::string node;                        ///< .Node ("" outside Consul)
  std::string status = "passing";          ///< passing, warning, critical or unknown

  friend bool operator==(const ServiceInstance&, const ServiceInstance&) = default;
};

/// Where the service functions read instances from. tmpl knows nothing of registries: render
/// implements this over Registry::instances() and loads it before each render, so a template
/// never triggers a registry request (or a registry error) while it executes.
class ServiceSource {
public:
  virtual ~ServiceSource() = default;
  /// Every known instance of every service, healthy or not, as of the last load.
  virtual const std::vector<ServiceInstance>& service_instances() const = 0;
  /// Told once per loaded template that calls `service` or `services`, so the source keeps the
  /// instances loaded (and watched) only when some template reads them.
  virtual void subscribe() = 0;
};

/// True when `text` calls one of consul-template's own functions (service services key
/// keyOrDefault keyExists tree); such a template is read with consul-template's `ls` and
/// `contains` instead of confd's functions of the same names.
bool uses_consul_template(std::string_view text);

/// True when `text` calls `service` or `services`.
bool uses_service_functions(std::string_view text);

/// consul-template's Consul functions with its semantics: `service "[TAG.]NAME" ["any" |
/// "passing,warning,..."]` (sorted by node then ID, passing only by default), `services`
/// (sorted by name, tags merged and sorted), and over `store` (keys as confd stores them, so
/// "a/b" and "/a/b" both read "/a/b"): `key` (a missing key is an error: consul-template would
/// wait for it), `keyOrDefault`, `keyExists`, `ls` (direct children that are keys) and `tree`
/// (every key below), each pair with .Key relative to the prefix, .Value and .Path.
/// `consul_template_flavor` adds consul-template's `ls` and `contains` (contains VALUE LIST);
/// without it confd's `ls` and `contains` stay in charge.
FuncMap consul_funcs(std::shared_ptr<const KvStore> store, std::shared_ptr<ServiceSource> services,
                     bool consul_template_flavor);

/// Adds the Consul functions for a template `text` to `funcs` (confd's set): the flavor follows
/// uses_consul_template(text), and `services` is subscribed when the text calls service functions.
/// Outside the flavor, `ls` of a relative path ("service/haproxy", which confd always finds empty)
/// is consul-template's and `ls "/a"` stays confd's. A null `services` gives an empty catalog.
void add_consul_funcs(FuncMap& funcs, std::string_view text, std::shared_ptr<const KvStore> store,
                      std::shared_ptr<ServiceSource> services);

} // namespace herald::tmpl
