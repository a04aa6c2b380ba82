#pragma once

#include "herald/core/name.hpp"
#include "herald/registry/registry.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::registry {

/// The default root of instance keys.
inline constexpr std::string_view k_default_prefix = "/services/web";

/// True when `key` lies under `dir` read as a directory: `dir` itself or anything below "dir/"
/// ("/services/web" holds "/services/web/a", not "/services/web2"). Trailing '/' on `dir` are
/// ignored; "" and "/" hold every key. Every backend lists and watches by this rule, so an etcd3
/// or Consul prefix reads as an etcd2 directory does, and render matches changes to its keys.
bool key_in_dir(std::string_view key, std::string_view dir);

/// `prefix` without its trailing '/' ("/services/web/" -> "/services/web", "/" -> ""): the form
/// every key built from a prefix starts with.
std::string_view without_trailing_slashes(std::string_view prefix);

/// `{prefix}/{app}/{app}@{instance}`: "/services/web/web/web@1". A trailing '/' on prefix is
/// ignored.
std::string instance_key(std::string_view prefix, const InstanceName& name);

/// Where registrators announce themselves (announce/registrator_presence.hpp): a root of herald's
/// own, outside the instance prefixes, so that nothing that reads a prefix sees these keys: not
/// route ls, not the `routes` function of the bundled templates, not confd's `ls`/`lsdir` over
/// `/services/web` (which would take any directory below it for an app and give a router an
/// empty upstream), and no watch of the prefix wakes for them.
inline constexpr std::string_view k_registrators_root = "/herald/registrators";

/// The presence key of the registrator of `node` that follows Docker engine `engine_id` and
/// registers under `prefix`: `/herald/registrators{prefix}/{engine_id}/{node}`
/// ("/herald/registrators/services/web/5D3Y:...:QX7K/node-1"; a trailing '/' on prefix is
/// ignored). `engine_id` and `node` are valid name parts (core/name.hpp). The key lies at least
/// three levels below `/`, `/herald` and the root, deeper than the route model reads, so even a
/// listing of those is no instance.
std::string registrator_key(std::string_view prefix, std::string_view engine_id,
                            std::string_view node);

/// True when instances under `prefix` and the registrators' keys would mix: the prefix holds the
/// registrators' root ("/", "/herald") or lies inside it.
bool mixes_with_registrators(std::string_view prefix);

/// Expands a --key template: "{app}", "{instance}" and "{name}" (APP@INSTANCE) are replaced,
/// e.g. "/services/clusters/{app}". Throws Error(usage) for an unknown placeholder or a key that
/// does not start with '/'.
std::string expand_key_template(std::string_view templ, const InstanceName& name);

/// How announce writes an instance's value.
enum class ValueFormat {
  hostport, ///< "10.0.0.5:3000": what every existing confd template expects
  json      ///< {"host":"10.0.0.5","port":3000,"tags":[...],"meta":{...}}
};

/// Parses "hostport" / "json"; Error(usage) otherwise.
ValueFormat parse_value_format(std::string_view text);

/// The value announce stores for an instance.
std::string encode_value(ValueFormat format, const HostPort& address,
                         const std::vector<std::string>& tags = {},
                         const std::map<std::string, std::string>& meta = {});

/// What a stored value says; readers accept both forms. `address` is nullopt when the value is
/// neither a valid host:port nor the JSON form, or when its host, tags or meta fail the trust
/// model's rule (core/address.hpp); `problem` then says why (the instance is shown flagged and no
/// template sees it). A decoded value with an address encodes back (either format) to itself.
struct DecodedValue {
  std::optional<HostPort> address;
  std::vector<std::string> tags;
  std::map<std::string, std::string> meta;
  std::string problem; ///< "" when address is set
};
DecodedValue decode_value(std::string_view value);

/// Why `tags` or `meta` would not survive the trust model's rule (tag_problem, meta_key_problem,
/// meta_value_problem in core/address.hpp), or nullopt when every one does.
std::optional<std::string> labels_problem(const std::vector<std::string>& tags,
                                          const std::map<std::string, std::string>& meta);

/// Applies the trust model's rule to a whole instance: app and instance names (systemd unit-name
/// characters), address, tags and meta. When one fails, `address` is reset and `problem` says
/// why, so every reader (route ls, render's views) treats it as malformed.
void check_instance(Instance& instance);

/// The instance `kv` is in the route model below `root`: `{root}/{app}/{leaf}` (leaf "app@N" or any
/// leaf: the leaf is the instance) or `{root}/{app}` (the single-key layout, instance ""), checked
/// with check_instance (a malformed one has no address). nullopt for any other key.
std::optional<Instance> instance_at(std::string_view root, const KeyValue& kv);

/// The instances held in an etcd snapshot, recognising both layouts:
/// `{prefix}/{app}/{app}@{instance}` (and any `{prefix}/{app}/{leaf}`: the leaf is the instance)
/// and the single-key `/services/clusters/{app}` (a key directly under the prefix: instance "").
/// Every key present is `passing`; ttl_left comes from KeyValue::ttl. Sorted by app, instance;
/// filtered by query.apps.
std::vector<Instance> instances_from_snapshot(const Snapshot& snapshot, const InstanceQuery& query);

/// The health as route ls, its JSON and the `service` template function spell it: "passing",
/// "warning", "critical", "unknown".
const char* health_name(Instance::Health health);

} // namespace herald::registry
