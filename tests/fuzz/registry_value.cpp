// A registry value as anyone with write access may store it ("host:port" or the JSON form),
// decoded alone and as an instance of a snapshot the way route ls and render read it.
// Properties: a value with an address passes the trust model's rule, and encoding it again (as
// host:port and as JSON) decodes to the same instance; an instance without an address says why.
#include "fuzz.hpp"
#include "herald/core/address.hpp"
#include "herald/registry/layout.hpp"

#include <string>

using namespace herald::registry;

namespace {

void check_round_trip(const DecodedValue& decoded) {
  if (!decoded.address) {
    HERALD_FUZZ_CHECK(!decoded.problem.empty());
    return;
  }
  HERALD_FUZZ_CHECK(decoded.problem.empty());
  HERALD_FUZZ_CHECK(herald::is_valid_host(decoded.address->host));
  HERALD_FUZZ_CHECK(decoded.address->port != 0);
  HERALD_FUZZ_CHECK(!labels_problem(decoded.tags, decoded.meta));

  DecodedValue plain = decode_value(encode_value(ValueFormat::hostport, *decoded.address));
  HERALD_FUZZ_CHECK(plain.address && *plain.address == *decoded.address);

  DecodedValue json =
      decode_value(encode_value(ValueFormat::json, *decoded.address, decoded.tags, decoded.meta));
  HERALD_FUZZ_CHECK(json.address && *json.address == *decoded.address);
  HERALD_FUZZ_CHECK(json.tags == decoded.tags);
  HERALD_FUZZ_CHECK(json.meta == decoded.meta);
}

} // namespace

HERALD_FUZZ_TARGET(registry_value) {
  std::string_view value = herald::fuzz::text_of(data, size);
  herald::fuzz::expect_data_errors([&] { check_round_trip(decode_value(value)); });
  herald::fuzz::expect_data_errors([&] {
    Snapshot snapshot;
    for (const char* key : {"/services/web/api", "/services/web/api/api@1"}) {
      KeyValue kv;
      kv.key = key;
      kv.value = std::string(value);
      snapshot.entries.push_back(std::move(kv));
    }
    for (const auto& instance : instances_from_snapshot(snapshot, InstanceQuery{})) {
      HERALD_FUZZ_CHECK(instance.address.has_value() == instance.problem.empty());
      HERALD_FUZZ_CHECK(instance.value == value);
    }
  });
  return 0;
}
