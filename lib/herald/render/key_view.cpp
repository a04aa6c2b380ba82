#include "herald/render/key_view.hpp"

#include "herald/core/strings.hpp"
#include "herald/registry/layout.hpp"
#include "herald/render/resource.hpp"

#include <algorithm>

namespace herald::render {

KeyView::KeyView(std::string prefix, std::vector<std::string> registry_keys)
    : m_prefix(std::move(prefix)), m_registry_keys(std::move(registry_keys)),
      m_store(std::make_shared<tmpl::KvStore>()) {}

bool KeyView::covers(std::string_view key) const {
  return std::any_of(m_registry_keys.begin(), m_registry_keys.end(),
                     [&](const std::string& dir) { return registry::key_in_dir(key, dir); });
}

std::string KeyView::template_key(std::string_view key) const {
  if (key.starts_with(m_prefix)) {
    key.remove_prefix(m_prefix.size());
  }
  return join_key("/", key);
}

namespace {

/// "/services/web" for "/services/web/app"; "" once nothing is left.
std::string_view parent_dir(std::string_view dir) {
  while (!dir.empty() && dir.back() == '/') {
    dir.remove_suffix(1);
  }
  auto slash = dir.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : dir.substr(0, slash);
}

} // namespace

void KeyView::classify(const registry::KeyValue& kv) {
  m_instances.erase(kv.key);
  m_skipped.erase(kv.key);
  for (const auto& dir : m_registry_keys) {
    auto instance = registry::instance_at(dir, kv);
    if (instance && instance->address) {
      m_instances.insert(kv.key);
      return;
    }
    // A resource may read one app (--keys /services/web/APP) or one instance's key, below the
    // directory its template's `routes` reads: its instances are then in the route model of the
    // parent or grandparent. Counted there only when routable: a malformed key is reported
    // where the resource's own directory places it (a parent would take /services/domain read
    // from /services for an instance of an app "services").
    if (registry::key_in_dir(kv.key, dir)) {
      std::string_view up = dir;
      for (int level = 0; level < 2 && !(up = parent_dir(up)).empty(); ++level) {
        auto outer = registry::instance_at(up, kv);
        if (outer && outer->address) {
          m_instances.insert(kv.key);
          return;
        }
      }
    }
    if (!instance) {
      continue;
    }
    // DIR/APP/LEAF is an instance's place whatever its value; a malformed DIR/APP is just some
    // other key (/services/domain below /services).
    std::string_view root = dir;
    while (!root.empty() && root.back() == '/') {
      root.remove_suffix(1);
    }
    std::string_view rest = std::string_view(kv.key).substr(root.size());
    if (std::count(rest.begin(), rest.end(), '/') >= 2) {
      m_skipped.insert_or_assign(kv.key, instance->problem);
      return;
    }
  }
}

void KeyView::load(const registry::Snapshot& snapshot) {
  m_store->clear();
  m_instances.clear();
  m_skipped.clear();
  const auto& entries = snapshot.entries;
  for (const auto& dir : m_registry_keys) {
    auto it = std::lower_bound(
        entries.begin(), entries.end(), dir,
        [](const registry::KeyValue& kv, const std::string& key) { return kv.key < key; });
    for (; it != entries.end() && it->key.starts_with(dir == "/" ? "" : dir); ++it) {
      if (registry::key_in_dir(it->key, dir)) {
        m_store->set(template_key(it->key), it->value);
        classify(*it);
      }
    }
  }
}

bool KeyView::apply(const registry::Event& event) {
  if (!covers(event.kv.key)) {
    return false;
  }
  if (event.type == registry::Event::Type::put) {
    m_store->set(template_key(event.kv.key), event.kv.value);
    classify(event.kv);
  } else {
    m_store->erase(template_key(event.kv.key));
    m_instances.erase(event.kv.key);
    m_skipped.erase(event.kv.key);
  }
  return true;
}

std::string common_parent(const std::vector<std::string>& keys) {
  if (keys.empty()) {
    return "/";
  }
  std::vector<std::string> common;
  bool first = true;
  for (const auto& key : keys) {
    std::vector<std::string> segments;
    for (auto& s : split(join_key(key, ""), '/')) {
      if (!s.empty()) {
        segments.push_back(std::move(s));
      }
    }
    if (first) {
      common = std::move(segments);
      first = false;
      continue;
    }
    std::size_t n = 0;
    while (n < common.size() && n < segments.size() && common[n] == segments[n]) {
      ++n;
    }
    common.resize(n);
  }
  std::string out;
  for (const auto& s : common) {
    out += "/" + s;
  }
  return out.empty() ? "/" : out;
}

} // namespace herald::render
