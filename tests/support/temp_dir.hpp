#pragma once

#include <string>

namespace herald::test {

/// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return m_path; }
  /// path() + "/" + name
  std::string file(const std::string& name) const { return m_path + "/" + name; }
  /// Writes `content` to file(name) and returns its path.
  std::string write(const std::string& name, const std::string& content) const;

private:
  std::string m_path;
};

/// The whole content of `path` ("" when unreadable).
std::string read_file(const std::string& path);

} // namespace herald::test
