#include "herald/render/debounce.hpp"

#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace herald::render {

WaitSpec parse_wait(std::string_view text) {
  WaitSpec spec;
  auto colon = text.find(':');
  spec.min = parse_duration(text.substr(0, colon), "--wait");
  if (colon == std::string_view::npos) {
    spec.max = 4 * spec.min;
    return spec;
  }
  spec.max = parse_duration(text.substr(colon + 1), "--wait");
  if (spec.max < spec.min) {
    throw Error(ErrorKind::usage,
                fmt::format("--wait {}: MAX ({}) is shorter than MIN ({}): write --wait MIN:MAX "
                            "with MIN <= MAX",
                            text, format_duration(spec.max), format_duration(spec.min)));
  }
  return spec;
}

void Debouncer::change(Clock::time_point now) {
  if (!m_first) {
    m_first = now;
  }
  m_last = now;
}

Debouncer::Clock::time_point Debouncer::due() const {
  Clock::time_point first = m_first.value_or(m_last);
  return std::min(m_last + m_spec.min, first + m_spec.max);
}

void Debouncer::clear() {
  m_first.reset();
}

} // namespace herald::render
