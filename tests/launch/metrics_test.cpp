#include "herald/launch/metrics.hpp"

#include <doctest/doctest.h>
#include <regex>
#include <sstream>

using namespace herald::launch;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("launch");

namespace {

/// Each line of `text` as the Prometheus text exposition format (0.0.4) allows it.
void check_exposition(const std::string& text) {
  static const std::regex k_comment(R"(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+)");
  static const std::regex k_sample(
      R"([a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")"
      R"((,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*\})? )"
      R"(([-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?|\+Inf|-Inf|NaN))");
  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    INFO(line);
    CHECK((std::regex_match(line, k_comment) || std::regex_match(line, k_sample)));
  }
}

} // namespace

TEST_CASE("launch metrics are Prometheus text with every series") {
  Metrics metrics;
  check_exposition(metrics.text());
  metrics.launched(true, 1500ms);
  metrics.launched(false, 42s);
  metrics.refused(Reason::not_allowed);
  metrics.refused(Reason::not_allowed);
  metrics.refused(Reason::cap);
  metrics.add_in_flight(2);
  auto text = metrics.text();
  check_exposition(text);
  CHECK(text.find("herald_launch_launches_total{result=\"ok\"} 1\n") != std::string::npos);
  CHECK(text.find("herald_launch_launches_total{result=\"failed\"} 1\n") != std::string::npos);
  CHECK(text.find("herald_launch_refusals_total{reason=\"not_allowed\"} 2\n") != std::string::npos);
  CHECK(text.find("herald_launch_refusals_total{reason=\"cap\"} 1\n") != std::string::npos);
  CHECK(text.find("herald_launch_refusals_total{reason=\"bad_name\"} 0\n") != std::string::npos);
  CHECK(text.find("herald_launch_starts_in_flight 2\n") != std::string::npos);
  CHECK(text.find("herald_launch_start_duration_seconds_bucket{le=\"1\"} 0\n") !=
        std::string::npos);
  CHECK(text.find("herald_launch_start_duration_seconds_bucket{le=\"2\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("herald_launch_start_duration_seconds_bucket{le=\"60\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("herald_launch_start_duration_seconds_bucket{le=\"+Inf\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("herald_launch_start_duration_seconds_sum 43.5\n") != std::string::npos);
  CHECK(text.find("herald_launch_start_duration_seconds_count 2\n") != std::string::npos);
}

TEST_SUITE_END();
