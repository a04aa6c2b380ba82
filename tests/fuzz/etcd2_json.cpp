// etcd v2's keys API answers: a node, a recursive listing, a watch and an error body.
#include "fuzz.hpp"
#include "herald/registry/etcd2/keys_api.hpp"

using namespace herald::registry::etcd2;

HERALD_FUZZ_TARGET(etcd2_json) {
  std::string_view text = herald::fuzz::text_of(data, size);
  herald::fuzz::expect_data_errors([&] { parse_node_response(text); });
  herald::fuzz::expect_data_errors([&] { parse_list_response(text); });
  herald::fuzz::expect_data_errors([&] { parse_watch_response(text, 7); });
  herald::fuzz::expect_data_errors([&] { parse_api_error(text); });
  return 0;
}
