// Docker Engine API answers: inspect, list, version, create, errors, and the events stream.
// Properties: env and labels are found by the accessors that read them, a summary's name is its
// first name or short id, and an event's action splits into a trimmed base and detail.
#include "fuzz.hpp"
#include "herald/docker/model.hpp"

using namespace herald::docker;

namespace {

bool trimmed(std::string_view s) {
  return s.empty() || (s.front() != ' ' && s.back() != ' ');
}

} // namespace

HERALD_FUZZ_TARGET(docker_json) {
  std::string_view text = herald::fuzz::text_of(data, size);
  herald::fuzz::expect_data_errors([&] {
    Container c = parse_container(text);
    for (const auto& [key, value] : c.labels) {
      HERALD_FUZZ_CHECK(c.label(key) == value);
    }
    for (const auto& item : c.env) {
      auto eq = item.find('=');
      if (eq != std::string::npos && eq > 0) {
        HERALD_FUZZ_CHECK(c.env_value(item.substr(0, eq)).has_value());
      }
    }
  });
  herald::fuzz::expect_data_errors([&] {
    for (const auto& summary : parse_container_list(text)) {
      // The first name, else the short id: never more than Docker gave.
      HERALD_FUZZ_CHECK(summary.names.empty() ? summary.name() == summary.id.substr(0, 12)
                                              : summary.name() == summary.names.front());
    }
  });
  herald::fuzz::expect_data_errors([&] { parse_version(text); });
  herald::fuzz::expect_data_errors([&] { parse_create_response(text); });
  error_message(text);
  herald::fuzz::for_each_line(text, [](std::string_view line) {
    herald::fuzz::expect_data_errors([&] {
      Event e = parse_event(line);
      HERALD_FUZZ_CHECK(e.base_action.find(':') == std::string::npos);
      HERALD_FUZZ_CHECK(trimmed(e.base_action) && trimmed(e.detail));
      HERALD_FUZZ_CHECK(e.action.find(e.base_action) != std::string::npos);
      HERALD_FUZZ_CHECK(e.name() == e.attribute("name").value_or(""));
    });
  });
  return 0;
}
