#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace herald {

/// A file descriptor closed on destruction.
class FileDescriptor {
public:
  explicit FileDescriptor(int fd) : m_fd(fd) {}
  ~FileDescriptor();
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  /// The descriptor (-1 once closed).
  int get() const { return m_fd; }
  /// Closes now, returning what close() returns (an error there matters for a written file).
  int close();

private:
  int m_fd;
};

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

/// Mode and owner a staged file gets.
struct FileAttributes {
  mode_t mode = 0644;
  std::optional<uid_t> uid; ///< unchanged when unset
  std::optional<gid_t> gid; ///< unchanged when unset
};

/// New contents for `dest`, written to a temp file beside it (same directory, so the rename is
/// atomic; a leading dot keeps it out of globs such as nginx's `include conf.d/*.conf`) and
/// fsync'd. commit() renames it over dest, so readers see the old file or the new one, never
/// part of either; until then dest is untouched, and the temp file is removed on destruction.
class StagedFile {
public:
  /// Stages `content`. `label` starts every error message ("nginx.toml", "unit gen"). Errors:
  /// Error(config) when dest's directory is missing or not writable, Error(temporary) for a
  /// full disk or an I/O error.
  StagedFile(std::string dest, std::string_view content, const FileAttributes& attributes = {},
             std::string label = {});
  ~StagedFile();
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;
  StagedFile(StagedFile&& other) noexcept;
  StagedFile& operator=(StagedFile&&) = delete;

  /// The temp file (for a check command to read before commit()).
  const std::string& path() const { return m_path; }
  /// The file it replaces.
  const std::string& dest() const { return m_dest; }

  /// Renames the temp file over dest. No directory fsync: after a crash dest is the previous
  /// complete file or the new one. Error(config) when the rename fails.
  void commit();

private:
  std::string m_dest;
  std::string m_label;
  std::string m_path; ///< empty once committed or moved from
};

} // namespace herald
