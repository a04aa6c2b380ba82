#include "herald/render/guard.hpp"

#include <fmt/format.h>

namespace herald::render {

DropVerdict judge_drop(std::optional<std::size_t> previous, std::size_t current,
                       bool dest_has_content, const DropPolicy& policy) {
  if (current == 0) {
    if (dest_has_content && !policy.allow_empty) {
      return {false, "the snapshot has no instances; refusing to replace a non-empty config with "
                     "an empty render (pass --allow-empty if the service really is gone)"};
    }
    return {};
  }
  if (!previous || *previous == 0 || current >= *previous) {
    return {};
  }
  std::size_t dropped = *previous - current;
  double share = 100.0 * static_cast<double>(dropped) / static_cast<double>(*previous);
  if (share > policy.max_drop_percent) {
    return {false, fmt::format("the render drops {} of the {} instances the previous one had "
                               "({:.0f}% > --max-drop {:g}%); keeping the current config until "
                               "the registry settles (raise --max-drop to accept it)",
                               dropped, *previous, share, policy.max_drop_percent)};
  }
  return {};
}

} // namespace herald::render
