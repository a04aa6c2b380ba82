#pragma once

#include "herald/launch/policy.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace herald::launch {

/// The launcher's counters in the Prometheus text exposition format (version 0.0.4):
/// herald_launch_launches_total{result="ok|failed"}, herald_launch_refusals_total{reason},
/// the gauge herald_launch_starts_in_flight and the histogram
/// herald_launch_start_duration_seconds. Thread safe.
class Metrics {
public:
  /// A start finished, well or not, after `duration`.
  void launched(bool ok, std::chrono::steady_clock::duration duration);
  /// A request was refused for `reason`.
  void refused(Reason reason);
  /// A start began (+1) or ended (-1): the starts-in-flight gauge.
  void add_in_flight(int delta);

  /// Everything, as GET /metrics answers it (Content-Type: text/plain; version=0.0.4).
  std::string text() const;

  /// The histogram's upper bounds in seconds (without +Inf).
  static constexpr std::array<double, 11> k_buckets = {0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600};

private:
  mutable std::mutex m_mutex;
  std::uint64_t m_ok = 0;
  std::uint64_t m_failed = 0;
  std::array<std::uint64_t, 7> m_refusals{};
  std::int64_t m_in_flight = 0;
  std::array<std::uint64_t, k_buckets.size()> m_bucket_counts{};
  std::uint64_t m_count = 0;
  double m_sum = 0;
};

} // namespace herald::launch
