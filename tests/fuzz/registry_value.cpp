// A registry value as anyone with write access may store it ("host:port" or the JSON form),
// decoded alone and as an instance of a snapshot the way route ls and render read it.
#include "fuzz.hpp"
#include "herald/registry/layout.hpp"

#include <string>

using namespace herald::registry;

HERALD_FUZZ_TARGET(registry_value) {
  std::string_view value = herald::fuzz::text_of(data, size);
  herald::fuzz::expect_data_errors([&] { decode_value(value); });
  herald::fuzz::expect_data_errors([&] {
    Snapshot snapshot;
    for (const char* key : {"/services/web/api", "/services/web/api/api@1"}) {
      KeyValue kv;
      kv.key = key;
      kv.value = std::string(value);
      snapshot.entries.push_back(std::move(kv));
    }
    instances_from_snapshot(snapshot, InstanceQuery{});
  });
  return 0;
}
