// etcd v3's JSON gateway answers: every decoder on the same body, and the body's lines as watch
// stream messages. Properties: a decoded key and value, written back as the gateway's JSON (the
// put request herald sends), decode to themselves; every key sorts below its prefix's range end,
// so a prefix read holds the key itself.
#include "herald/registry/etcd3/etcd3_json.hpp"

#include "fuzz.hpp"

using namespace herald::registry::etcd3;

namespace {

void check_kv(const herald::registry::KeyValue& kv) {
  herald::registry::KeyValue again = parse_kv(put_request(kv.key, kv.value));
  HERALD_FUZZ_CHECK(again.key == kv.key);
  HERALD_FUZZ_CHECK(again.value == kv.value);
  std::string end = prefix_range_end(kv.key);
  HERALD_FUZZ_CHECK(end == std::string(1, '\0') || kv.key < end);
}

} // namespace

HERALD_FUZZ_TARGET(etcd3_json) {
  std::string_view text = herald::fuzz::text_of(data, size);
  herald::fuzz::expect_data_errors([&] {
    nlohmann::json body = parse_body(text, "a fuzzed request");
    herald::fuzz::expect_data_errors([&] {
      for (const auto& kv : parse_range(body).kvs) {
        check_kv(kv);
      }
    });
    herald::fuzz::expect_data_errors([&] { parse_delete(body); });
    herald::fuzz::expect_data_errors([&] { parse_txn(body); });
    herald::fuzz::expect_data_errors([&] { parse_lease_grant(body); });
    herald::fuzz::expect_data_errors([&] { parse_keepalive(body); });
    herald::fuzz::expect_data_errors([&] { parse_time_to_live(body); });
    herald::fuzz::expect_data_errors([&] { parse_authenticate(body); });
    herald::fuzz::expect_data_errors([&] { header_revision(body); });
  });
  herald::fuzz::for_each_line(text, [](std::string_view line) {
    herald::fuzz::expect_data_errors([&] { parse_watch_message(line); });
  });
  parse_gateway_error(text);
  gateway_prefix_for_version(text);
  return 0;
}
