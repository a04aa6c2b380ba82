#pragma once

#include "herald/tmpl/value.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace herald::tmpl {

/// confd's memkv.Store: the key/value snapshot confd's template functions read, indexed so that
/// every lookup costs O(log n + matches) instead of memkv's scan of every key per call (which
/// makes confd quadratic). Results keep memkv's exact semantics, ordering and quirks.
class KvStore {
public:
  KvStore() = default;

  /// Sets `key` to `value` (memkv Set).
  void set(std::string key, std::string value);
  /// Removes `key` if present (memkv Del).
  void erase(std::string_view key);
  /// Removes every key (memkv Purge).
  void clear();
  /// Number of keys.
  std::size_t size() const noexcept { return m_entries.size(); }

  /// The memkv.KVPair of `key`, or nullopt when absent.
  std::optional<Value> get(std::string_view key) const;
  /// The value of `key`, or nullopt when absent.
  std::optional<std::string> value(std::string_view key) const;
  /// True when `key` exists.
  bool exists(std::string_view key) const { return m_entries.contains(key); }

  /// memkv GetAll: the pairs whose key matches the path.Match `pattern`, sorted by key
  /// (a memkv.KVPairs). Throws go::BadPattern for a malformed pattern when the store has keys.
  Value get_all(std::string_view pattern) const;
  /// memkv GetAllValues: the values of get_all(pattern), sorted as strings (a []string).
  Value get_all_values(std::string_view pattern) const;
  /// memkv List (`ls`): the names directly below `path` (keys and directories), sorted.
  Value list(std::string_view path) const;
  /// memkv ListDir (`lsdir`): the directories directly below `path`, sorted.
  Value list_dir(std::string_view path) const;

private:
  struct Entry {
    Value pair;  // memkv.KVPair{Key, Value}
    Value value; // the value as a string Value
  };

  void list_exact(std::string_view path, bool dirs_only, bool all_keys,
                  std::set<std::string, std::less<>>& names) const;

  // Sorted by key: a path's subtree is one range, and a whole child subtree can be skipped with
  // one lower_bound, so ls/lsdir cost O(children * log n) rather than a visit of every key.
  std::map<std::string, Entry, std::less<>> m_entries;
  // Keys that path.Clean would change ("/a//b", "/a/"): memkv's term rules differ from a plain
  // prefix test for them, so they take the exact, slow path. Registries rarely have any.
  std::set<std::string, std::less<>> m_unclean;
};

} // namespace herald::tmpl
