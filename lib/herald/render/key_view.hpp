#pragma once

#include "herald/registry/registry.hpp"
#include "herald/tmpl/kv_store.hpp"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace herald::render {

/// The keys a group of resources sees (same prefix, same keys), indexed once into the KvStore
/// their templates read and then kept current from watch events, so that a change costs a map
/// update rather than a re-read and re-index of the registry (confd re-reads and scans every key
/// per `gets`). Keys are stored as confd stores them: the registry key with `prefix` cut off
/// (path.Join("/", strings.TrimPrefix(key, prefix))).
class KeyView {
public:
  /// A view of `registry_keys` (directories in the registry) with `prefix` stripped.
  KeyView(std::string prefix, std::vector<std::string> registry_keys);

  /// The prefix stripped from keys.
  const std::string& prefix() const { return m_prefix; }
  /// The registry directories this view holds.
  const std::vector<std::string>& registry_keys() const { return m_registry_keys; }

  /// True when `key` lies under one of registry_keys().
  bool covers(std::string_view key) const;

  /// Replaces the contents with the keys of `snapshot` it covers (sorted input: one binary search
  /// per registry key).
  void load(const registry::Snapshot& snapshot);

  /// Applies one watch event; returns true when it concerned this view.
  bool apply(const registry::Event& event);

  /// The store templates read. Its address stays the same for the life of the view.
  std::shared_ptr<const tmpl::KvStore> store() const { return m_store; }

  /// How many keys the view holds now.
  std::size_t size() const { return m_store->size(); }

  /// How many of them the route model reads as routable instances (registry::instance_at below
  /// one of registry_keys() with a valid address): what the drop guard counts.
  std::size_t instance_count() const { return m_instances.size(); }

  /// The keys in an instance's place (DIR/APP/LEAF) whose value fails the trust model's rule,
  /// with why: the instance views skip them. Keyed by registry key.
  const std::map<std::string, std::string, std::less<>>& skipped() const { return m_skipped; }

  /// The key a template sees for the registry key `key`.
  std::string template_key(std::string_view key) const;

private:
  /// Files `kv` under m_instances or m_skipped (or neither).
  void classify(const registry::KeyValue& kv);

  std::string m_prefix;
  std::vector<std::string> m_registry_keys;
  std::shared_ptr<tmpl::KvStore> m_store;
  std::set<std::string, std::less<>> m_instances;
  std::map<std::string, std::string, std::less<>> m_skipped;
};

/// The deepest directory holding every one of `keys` ("/services/web" and "/services/clusters"
/// -> "/services"; one key -> itself), so a single list or watch covers them all.
std::string common_parent(const std::vector<std::string>& keys);

} // namespace herald::render
