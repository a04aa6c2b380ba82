#include "herald/core/file.hpp"

#include "herald/core/error.hpp"
#include "herald/core/size.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace herald {

namespace {

/// Closes a descriptor on every path.
class OpenFile {
public:
  explicit OpenFile(int fd) : m_fd(fd) {}
  ~OpenFile() { ::close(m_fd); }
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  int get() const { return m_fd; }

private:
  int m_fd;
};

[[noreturn]] void not_regular(std::string_view what, const std::string& path, mode_t mode) {
  throw Error(ErrorKind::config,
              fmt::format("{}: {} is {}, not a regular file: herald reads and writes only "
                          "regular files",
                          what, path, file_type_name(mode)));
}

} // namespace

const char* file_type_name(mode_t mode) {
  if (S_ISREG(mode)) {
    return "a regular file";
  }
  if (S_ISDIR(mode)) {
    return "a directory";
  }
  if (S_ISFIFO(mode)) {
    return "a FIFO";
  }
  if (S_ISCHR(mode)) {
    return "a character device";
  }
  if (S_ISBLK(mode)) {
    return "a block device";
  }
  if (S_ISSOCK(mode)) {
    return "a socket";
  }
  if (S_ISLNK(mode)) {
    return "a symbolic link";
  }
  return "not a file";
}

std::optional<std::string> read_file(const std::string& path, std::size_t max_size,
                                     std::string_view what, Links links) {
  int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  if (links == Links::refuse) {
    flags |= O_NOFOLLOW;
  }
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) {
      return std::nullopt;
    }
    struct stat info {};
    if (err == ELOOP && links == Links::refuse && ::lstat(path.c_str(), &info) == 0) {
      not_regular(what, path, info.st_mode);
    }
    throw Error(ErrorKind::config,
                fmt::format("{}: cannot read {}: {}", what, path, std::strerror(err)));
  }
  OpenFile file(fd);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    throw Error(ErrorKind::config,
                fmt::format("{}: cannot stat {}: {}", what, path, std::strerror(errno)));
  }
  if (!S_ISREG(info.st_mode)) {
    not_regular(what, path, info.st_mode);
  }
  auto too_large = [&] {
    throw Error(ErrorKind::config,
                fmt::format("{}: {} is larger than {}", what, path, format_size(max_size)));
  };
  if (static_cast<std::size_t>(info.st_size) > max_size) {
    too_large();
  }
  std::string out;
  // One allocation for the size fstat reported; a file that grows meanwhile is still bounded.
  out.resize(static_cast<std::size_t>(info.st_size) + 1);
  std::size_t used = 0;
  while (true) {
    if (used == out.size()) {
      if (used > max_size) {
        too_large();
      }
      out.resize(std::min(max_size + 1, std::max<std::size_t>(used * 2, 4096)));
    }
    ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw Error(ErrorKind::config,
                  fmt::format("{}: cannot read {}: {}", what, path, std::strerror(errno)));
    }
    if (n == 0) {
      break;
    }
    used += static_cast<std::size_t>(n);
  }
  if (used > max_size) {
    too_large();
  }
  out.resize(used);
  return out;
}

} // namespace herald
