#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace herald::render {

/// `--wait MIN[:MAX]`: after a change, wait until nothing changed for MIN, but never longer than
/// MAX after the first change of the burst (consul-template's `wait`).
struct WaitSpec {
  std::chrono::milliseconds min{0};
  std::chrono::milliseconds max{0};
};

/// Parses "MIN" or "MIN:MAX" (durations: "2s", "500ms:5s"; a bare number is seconds). MAX
/// defaults to 4 x MIN as in consul-template. Error(usage) naming --wait when malformed or when
/// MAX < MIN.
WaitSpec parse_wait(std::string_view text);

/// Collects the changes of a burst and says when to render: MIN after the last change, at most
/// MAX after the first. Pure: the caller passes the time, so it is tested without sleeping.
class Debouncer {
public:
  using Clock = std::chrono::steady_clock;

  explicit Debouncer(WaitSpec spec) : m_spec(spec) {}

  /// Records a change seen at `now`.
  void change(Clock::time_point now);
  /// True when a change is waiting to be rendered.
  bool pending() const { return m_first.has_value(); }
  /// When the pending changes are due (only meaningful while pending()).
  Clock::time_point due() const;
  /// True when pending and `now` has reached due().
  bool ready(Clock::time_point now) const { return pending() && now >= due(); }
  /// Forgets the burst (after rendering it).
  void clear();

private:
  WaitSpec m_spec;
  std::optional<Clock::time_point> m_first;
  Clock::time_point m_last{};
};

} // namespace herald::render
