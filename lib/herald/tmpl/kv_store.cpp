#include "herald/tmpl/kv_store.hpp"

#include "herald/tmpl/go_path.hpp"

#include <algorithm>
#include <iterator>

namespace herald::tmpl {
namespace {

std::vector<std::string> split_terms(std::string_view path) {
  std::string clean = go::path_clean(path);
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto slash = clean.find('/', start);
    if (slash == std::string::npos) {
      out.push_back(clean.substr(start));
      return out;
    }
    out.push_back(clean.substr(start, slash - start));
    start = slash + 1;
  }
}

std::string_view trim_prefix(std::string_view s, std::string_view prefix) {
  return s.starts_with(prefix) ? s.substr(prefix.size()) : s;
}

bool same_prefix_terms(const std::vector<std::string>& prefix,
                       const std::vector<std::string>& test) {
  return test.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), test.begin());
}

// The first key after every key that starts with `prefix` + name + "/".
std::string past_subtree(std::string_view prefix, std::string_view name) {
  std::string bound(prefix);
  bound += name;
  bound += static_cast<char>('/' + 1);
  return bound;
}

Value to_list(const std::set<std::string, std::less<>>& names) {
  std::vector<Value> out;
  out.reserve(names.size());
  for (const auto& n : names) {
    out.emplace_back(n);
  }
  return Value::list(std::move(out), "[]string");
}

} // namespace

void KvStore::set(std::string key, std::string value) {
  Entry e{Value::kv_pair(key, value), Value(value)};
  // A snapshot arrives sorted: hinting the end makes each insertion of a load O(1).
  auto hint = m_entries.end();
  if (!m_entries.empty() && std::prev(hint)->first >= key) {
    hint = m_entries.lower_bound(key);
  }
  bool inserted = hint == m_entries.end() || hint->first != key;
  auto it = inserted ? m_entries.emplace_hint(hint, std::move(key), std::move(e)) : hint;
  if (!inserted) {
    it->second = std::move(e);
  } else if (!go::path_is_clean(it->first)) {
    m_unclean.insert(it->first);
  }
}

void KvStore::erase(std::string_view key) {
  auto it = m_entries.find(key);
  if (it == m_entries.end()) {
    return;
  }
  if (auto u = m_unclean.find(key); u != m_unclean.end()) {
    m_unclean.erase(u);
  }
  m_entries.erase(it);
}

void KvStore::clear() {
  m_entries.clear();
  m_unclean.clear();
}

std::optional<Value> KvStore::get(std::string_view key) const {
  auto it = m_entries.find(key);
  if (it == m_entries.end()) {
    return std::nullopt;
  }
  return it->second.pair;
}

std::optional<std::string> KvStore::value(std::string_view key) const {
  auto it = m_entries.find(key);
  if (it == m_entries.end()) {
    return std::nullopt;
  }
  return it->second.value.as_string();
}

Value KvStore::get_all(std::string_view pattern) const {
  // memkv reports a malformed pattern from the first key it tries; with no key there is no error.
  if (!m_entries.empty() && !go::pattern_valid(pattern)) {
    throw go::BadPattern();
  }
  std::vector<Value> pairs;
  // Every matching key starts with the pattern's literal prefix: scan only that range.
  std::string_view prefix = go::pattern_literal_prefix(pattern);
  for (auto it = m_entries.lower_bound(prefix); it != m_entries.end(); ++it) {
    if (!std::string_view(it->first).starts_with(prefix)) {
      break;
    }
    if (go::path_match(pattern, it->first)) {
      pairs.push_back(it->second.pair);
    }
  }
  return Value::list(std::move(pairs), "memkv.KVPairs", "[]memkv.KVPair");
}

Value KvStore::get_all_values(std::string_view pattern) const {
  Value pairs = get_all(pattern);
  std::vector<Value> values;
  values.reserve(pairs.size());
  for (const auto& p : pairs.items()) {
    values.push_back(p.entries()[1].second);
  }
  std::sort(values.begin(), values.end(),
            [](const Value& a, const Value& b) { return a.as_string() < b.as_string(); });
  return Value::list(std::move(values), "[]string");
}

// memkv's List and ListDir predicates, applied literally to `all_keys` (every key) or to the
// unclean keys only.
void KvStore::list_exact(std::string_view path, bool dirs_only, bool all_keys,
                         std::set<std::string, std::less<>>& names) const {
  std::vector<std::string> prefix = split_terms(path);
  auto visit = [&](const std::string& key) {
    if (!dirs_only) {
      if (key == path) {
        names.insert(go::path_base(key));
        return;
      }
      if (same_prefix_terms(prefix, split_terms(go::path_dir(key)))) {
        std::string_view rest = trim_prefix(trim_prefix(key, path), "/");
        names.insert(std::string(rest.substr(0, rest.find('/'))));
      }
      return;
    }
    if (std::string_view(key).starts_with(path)) {
      std::vector<std::string> items = split_terms(go::path_dir(key));
      if (same_prefix_terms(prefix, items) && items.size() > prefix.size()) {
        names.insert(items[prefix.size()]);
      }
    }
  };
  if (all_keys) {
    for (const auto& [key, entry] : m_entries) {
      visit(key);
    }
  } else {
    for (const auto& key : m_unclean) {
      visit(key);
    }
  }
}

Value KvStore::list(std::string_view path) const {
  std::set<std::string, std::less<>> names;
  std::string clean = go::path_clean(path);
  bool root = clean == "/";
  // For clean keys memkv's rule is a prefix test on Clean(path) + "/", as long as `path` itself
  // strips off as Clean(path) does; anything else takes the literal route.
  std::string scan = root ? clean : clean + "/";
  if (clean == "." || (path != clean && path != scan)) {
    list_exact(path, false, true, names);
    return to_list(names);
  }
  if (auto it = m_entries.find(path); it != m_entries.end()) {
    names.insert(go::path_base(it->first));
  }
  for (auto it = m_entries.lower_bound(scan);
       it != m_entries.end() && it->first.starts_with(scan);) {
    const std::string& key = it->first;
    if (key == path || m_unclean.contains(key)) {
      ++it;
      continue;
    }
    std::string_view rest = std::string_view(key).substr(scan.size());
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) {
      names.emplace(rest);
      ++it;
      continue;
    }
    std::string_view child = rest.substr(0, slash);
    if (!root) {
      names.emplace(child); // below the root memkv keeps deeper keys too: their first segment
    }
    it = m_entries.lower_bound(past_subtree(scan, child));
  }
  list_exact(path, false, false, names);
  return to_list(names);
}

Value KvStore::list_dir(std::string_view path) const {
  std::set<std::string, std::less<>> names;
  std::string clean = go::path_clean(path);
  std::string scan = clean + "/";
  if (clean == "/" || clean == ".") {
    // Clean keys never satisfy memkv's term test against the root or "." (see list_exact).
    list_exact(path, true, false, names);
    return to_list(names);
  }
  if (path != clean && path != scan) {
    list_exact(path, true, true, names);
    return to_list(names);
  }
  for (auto it = m_entries.lower_bound(scan);
       it != m_entries.end() && it->first.starts_with(scan);) {
    std::string_view rest = std::string_view(it->first).substr(scan.size());
    auto slash = rest.find('/');
    if (slash == std::string_view::npos || m_unclean.contains(it->first)) {
      ++it;
      continue;
    }
    std::string_view child = rest.substr(0, slash);
    names.emplace(child);
    it = m_entries.lower_bound(past_subtree(scan, child));
  }
  list_exact(path, true, false, names);
  return to_list(names);
}

} // namespace herald::tmpl
