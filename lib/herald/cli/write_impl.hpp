#pragma once

#include <iosfwd>
#include <string_view>

namespace herald::cli {

/// Writes `text` to `out`; Error(internal) naming the cause ("No space left on device") when the
/// stream fails, so that `herald route ls > /dev/full` exits 1 instead of 0.
void write_checked(std::ostream& out, std::string_view text);

/// Flushes `out`, with write_checked()'s error when that fails.
void flush_checked(std::ostream& out);

} // namespace herald::cli
