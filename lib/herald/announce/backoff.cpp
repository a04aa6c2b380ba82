#include "herald/announce/backoff.hpp"

#include <algorithm>

namespace herald::announce {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap,
                 std::uint32_t seed)
    : m_initial(std::max(std::chrono::milliseconds(1), std::min(initial, cap))),
      m_cap(std::max(cap, std::chrono::milliseconds(1))), m_current(m_initial), m_random(seed) {}

std::chrono::milliseconds Backoff::next() {
  auto high = m_current.count();
  std::uniform_int_distribution<long long> pick(std::max<long long>(high / 2, 1), high);
  std::chrono::milliseconds delay(pick(m_random));
  m_current = std::min(m_current * 2, m_cap);
  return delay;
}

} // namespace herald::announce
