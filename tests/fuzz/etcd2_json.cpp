// etcd v2's keys API answers: a node, a recursive listing, a watch and an error body.
// Properties: a listing is sorted by key and the same on every parse; a single key reads the same
// as a node and as a listing; a watch batch never moves before the index it started after; an
// error body becomes a one-line message.
#include "fuzz.hpp"
#include "herald/registry/etcd2/keys_api.hpp"

#include <algorithm>

using namespace herald::registry::etcd2;

HERALD_FUZZ_TARGET(etcd2_json) {
  std::string_view text = herald::fuzz::text_of(data, size);
  herald::fuzz::expect_data_errors([&] {
    if (auto kv = parse_node_response(text)) {
      auto listed = parse_list_response(text);
      HERALD_FUZZ_CHECK(listed.size() == 1 && listed[0].key == kv->key &&
                        listed[0].value == kv->value && listed[0].ttl == kv->ttl);
    }
  });
  herald::fuzz::expect_data_errors([&] {
    auto keys = parse_list_response(text);
    HERALD_FUZZ_CHECK(std::is_sorted(keys.begin(), keys.end(),
                                     [](const auto& a, const auto& b) { return a.key < b.key; }));
    // The same body lists the same keys: nothing in the parse depends on state.
    auto again = parse_list_response(text);
    HERALD_FUZZ_CHECK(std::equal(
        keys.begin(), keys.end(), again.begin(), again.end(),
        [](const auto& a, const auto& b) { return a.key == b.key && a.value == b.value; }));
  });
  herald::fuzz::expect_data_errors([&] {
    auto batch = parse_watch_response(text, 7);
    HERALD_FUZZ_CHECK(batch.index >= 7);
    if (text.empty()) {
      HERALD_FUZZ_CHECK(batch.events.empty() && batch.index == 7);
    }
  });
  herald::fuzz::expect_data_errors([&] {
    if (auto error = parse_api_error(text)) {
      // What to_error builds from it is one line: the body's own text cannot add lines.
      std::string message = to_error("get", "/k", "http://127.0.0.1:2379", *error).what();
      HERALD_FUZZ_CHECK(message.find('\n') == std::string::npos);
    }
  });
  return 0;
}
