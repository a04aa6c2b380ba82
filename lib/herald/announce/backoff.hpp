#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace herald::announce {

/// Capped, jittered exponential backoff for retrying a lost registry: each delay is drawn from
/// [d/2, d] (so a fleet of sidekicks does not retry in lockstep) and d doubles up to `cap`.
class Backoff {
public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap,
          std::uint32_t seed = std::random_device{}());

  /// The delay before the next attempt.
  std::chrono::milliseconds next();

  /// Starts again from the initial delay (after a success).
  void reset() { m_current = m_initial; }

private:
  std::chrono::milliseconds m_initial;
  std::chrono::milliseconds m_cap;
  std::chrono::milliseconds m_current;
  std::minstd_rand m_random;
};

} // namespace herald::announce
