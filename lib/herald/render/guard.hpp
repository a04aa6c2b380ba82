#pragma once

#include "herald/core/error.hpp"

#include <cstddef>
#include <optional>
#include <string>

namespace herald::render {

/// How far a render may shrink what the previous one routed to. A flapping registry (TTLs lapsing
/// during a network blip) must not empty the router: confd overwrote nginx with an empty config in
/// exactly that case.
struct DropPolicy {
  /// Refuse a render that removes more than this share (percent) of the instances the previous
  /// render had. 100 turns the check off.
  double max_drop_percent = 50.0;
  /// Install a render made from an empty snapshot over a non-empty dest.
  bool allow_empty = false;
};

/// Whether a render may be installed, and why not.
struct DropVerdict {
  bool allowed = true;
  std::string reason; ///< why it was refused, for the log line; "" when allowed
};

/// Judges a render of `current` instances (keys under the resource's keys) against the previous
/// installed render's `previous` count (nullopt: none yet in this process) and whether dest holds
/// anything now. An empty snapshot over a non-empty dest needs allow_empty (which then also
/// permits the 100% drop); otherwise a drop above max_drop_percent of `previous` is refused.
DropVerdict judge_drop(std::optional<std::size_t> previous, std::size_t current,
                       bool dest_has_content, const DropPolicy& policy);

} // namespace herald::render
