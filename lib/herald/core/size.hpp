#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace herald {

/// Parses a byte count as systemd and coreutils write one: a whole number with an optional
/// binary unit, "K", "M", "G" (also "KiB", "MiB", "GiB", "k", "KB"...: always powers of 1024),
/// "B" or nothing for bytes ("64M", "512MiB", "1G", "4096"). Zero, a fraction, a negative or
/// malformed count throws Error(usage) naming `what` (the flag) and the text.
std::size_t parse_size(std::string_view text, std::string_view what);

/// "64 MiB", "1 GiB", "512 KiB" when `bytes` is a whole number of the unit, else "N bytes".
std::string format_size(std::size_t bytes);

} // namespace herald
