#include "herald/core/file.hpp"

#include "herald/core/error.hpp"
#include "herald/core/size.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace herald {

namespace fs = std::filesystem;

namespace {

std::string directory_of(const std::string& dest) {
  fs::path parent = fs::path(dest).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

std::string prefixed(const std::string& label, const std::string& message) {
  return label.empty() ? message : label + ": " + message;
}

[[noreturn]] void not_regular(std::string_view what, const std::string& path, mode_t mode) {
  throw Error(ErrorKind::config,
              fmt::format("{}: {} is {}, not a regular file: herald reads and writes only "
                          "regular files",
                          what, path, file_type_name(mode)));
}

} // namespace

FileDescriptor::~FileDescriptor() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

int FileDescriptor::close() {
  int rc = ::close(m_fd);
  m_fd = -1;
  return rc;
}

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
  FileDescriptor file(fd);
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

StagedFile::StagedFile(std::string dest, std::string_view content, const FileAttributes& attributes,
                       std::string label)
    : m_dest(std::move(dest)), m_label(std::move(label)) {
  std::string templ = (fs::path(directory_of(m_dest)) /
                       ("." + fs::path(m_dest).filename().string() + ".herald-XXXXXX"))
                          .string();
  int fd = ::mkostemp(templ.data(), O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      throw Error(
          ErrorKind::config,
          prefixed(m_label, fmt::format("the directory of dest {} does not exist: create {} "
                                        "or fix dest",
                                        m_dest, directory_of(m_dest))));
    }
    throw Error(err == EACCES || err == EROFS || err == EPERM ? ErrorKind::config
                                                              : ErrorKind::temporary,
                prefixed(m_label, fmt::format("cannot create a temp file beside {}: {}", m_dest,
                                              std::strerror(err))));
  }
  m_path = templ;
  FileDescriptor file(fd);
  // A constructor that throws runs no destructor: the temp file is removed here on that path.
  auto fail = [&](const char* step) {
    int err = errno;
    ::unlink(m_path.c_str());
    throw Error(
        err == ENOSPC || err == EIO ? ErrorKind::temporary : ErrorKind::config,
        prefixed(m_label, fmt::format("cannot {} {}: {}", step, m_path, std::strerror(err))));
  };
  std::size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail("write");
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, attributes.mode) != 0) {
    fail("set the mode of");
  }
  if (attributes.uid || attributes.gid) {
    uid_t uid = attributes.uid.value_or(static_cast<uid_t>(-1));
    gid_t gid = attributes.gid.value_or(static_cast<gid_t>(-1));
    if (::fchown(fd, uid, gid) != 0) {
      fail("set the owner of");
    }
  }
  if (::fsync(fd) != 0) {
    fail("fsync");
  }
  if (file.close() != 0) {
    fail("close");
  }
}

StagedFile::~StagedFile() {
  if (!m_path.empty()) {
    ::unlink(m_path.c_str());
  }
}

StagedFile::StagedFile(StagedFile&& other) noexcept
    : m_dest(std::move(other.m_dest)), m_label(std::move(other.m_label)),
      m_path(std::move(other.m_path)) {
  other.m_path.clear();
}

void StagedFile::commit() {
  if (::rename(m_path.c_str(), m_dest.c_str()) != 0) {
    int err = errno;
    throw Error(ErrorKind::config,
                prefixed(m_label, fmt::format("cannot rename {} over {}: {}", m_path, m_dest,
                                              std::strerror(err))));
  }
  m_path.clear();
}

} // namespace herald
