#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace herald {

/// What a file of mode `mode` is, for messages: "a regular file", "a directory", "a FIFO",
/// "a character device", "a block device", "a socket", "a symbolic link".
const char* file_type_name(mode_t mode);

/// How read_file() treats the last component of the path.
enum class Links {
  follow, ///< a symbolic link is read through (a template or resource may be one)
  refuse  ///< a symbolic link is refused like any other file that is not regular
};

/// The content of the regular file at `path`, or nullopt when it does not exist. Anything else
/// (a FIFO, a device such as /dev/zero, a directory, a socket; a symbolic link with
/// Links::refuse) is refused without reading it: the file is opened non-blocking, so a FIFO
/// without a writer cannot hang the caller, and checked with fstat() before the first read.
/// More than `max_size` bytes is refused too (read at most max_size + 1). Errors are
/// Error(config) starting with `what` ("--template x.tmpl").
std::optional<std::string> read_file(const std::string& path, std::size_t max_size,
                                     std::string_view what, Links links = Links::follow);

} // namespace herald
