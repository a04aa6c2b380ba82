// Docker Engine API answers: inspect, list, version, create, errors, and the events stream.
#include "fuzz.hpp"
#include "herald/docker/model.hpp"

using namespace herald::docker;

HERALD_FUZZ_TARGET(docker_json) {
  std::string_view text = herald::fuzz::text_of(data, size);
  herald::fuzz::expect_data_errors([&] { parse_container(text); });
  herald::fuzz::expect_data_errors([&] { parse_container_list(text); });
  herald::fuzz::expect_data_errors([&] { parse_version(text); });
  herald::fuzz::expect_data_errors([&] { parse_create_response(text); });
  error_message(text);
  herald::fuzz::for_each_line(text, [](std::string_view line) {
    herald::fuzz::expect_data_errors([&] { parse_event(line); });
  });
  return 0;
}
