#include "herald/launch/metrics.hpp"

#include <fmt/format.h>

namespace herald::launch {

void Metrics::launched(bool ok, std::chrono::steady_clock::duration duration) {
  double seconds = std::chrono::duration<double>(duration).count();
  std::lock_guard lock(m_mutex);
  ++(ok ? m_ok : m_failed);
  for (std::size_t i = 0; i < k_buckets.size(); ++i) {
    if (seconds <= k_buckets[i]) {
      ++m_bucket_counts[i];
    }
  }
  ++m_count;
  m_sum += seconds;
}

void Metrics::refused(Reason reason) {
  auto i = static_cast<std::size_t>(reason);
  std::lock_guard lock(m_mutex);
  if (i < m_refusals.size()) {
    ++m_refusals[i];
  }
}

void Metrics::add_in_flight(int delta) {
  std::lock_guard lock(m_mutex);
  m_in_flight += delta;
}

std::string Metrics::text() const {
  std::lock_guard lock(m_mutex);
  std::string out;
  auto add = [&out](std::string_view line) {
    out += line;
    out += '\n';
  };
  add("# HELP herald_launch_launches_total Apps started on demand, by result.");
  add("# TYPE herald_launch_launches_total counter");
  add(fmt::format("herald_launch_launches_total{{result=\"ok\"}} {}", m_ok));
  add(fmt::format("herald_launch_launches_total{{result=\"failed\"}} {}", m_failed));
  add("# HELP herald_launch_refusals_total Requests refused, by reason.");
  add("# TYPE herald_launch_refusals_total counter");
  for (std::size_t i = 0; i < m_refusals.size(); ++i) {
    add(fmt::format("herald_launch_refusals_total{{reason=\"{}\"}} {}",
                    to_string(static_cast<Reason>(i)), m_refusals[i]));
  }
  add("# HELP herald_launch_starts_in_flight Starts begun and not finished.");
  add("# TYPE herald_launch_starts_in_flight gauge");
  add(fmt::format("herald_launch_starts_in_flight {}", m_in_flight));
  add("# HELP herald_launch_start_duration_seconds How long starts took, failed ones too.");
  add("# TYPE herald_launch_start_duration_seconds histogram");
  for (std::size_t i = 0; i < k_buckets.size(); ++i) {
    add(fmt::format("herald_launch_start_duration_seconds_bucket{{le=\"{}\"}} {}", k_buckets[i],
                    m_bucket_counts[i]));
  }
  add(fmt::format("herald_launch_start_duration_seconds_bucket{{le=\"+Inf\"}} {}", m_count));
  add(fmt::format("herald_launch_start_duration_seconds_sum {}", m_sum));
  add(fmt::format("herald_launch_start_duration_seconds_count {}", m_count));
  return out;
}

} // namespace herald::launch
