#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace herald {

/// Parses a duration the way Go's time.ParseDuration and systemd do for the common cases:
/// "45s", "1m30s", "250ms", "2h", "1.5s"; a bare number is seconds ("60"). Negative or
/// malformed input throws Error(usage) naming `what` (the flag) and the text.
std::chrono::milliseconds parse_duration(std::string_view text, std::string_view what);

/// Formats a duration compactly: "45s", "1m30s", "250ms", "2h0m0s" style trimmed ("2h").
std::string format_duration(std::chrono::milliseconds d);

} // namespace herald
