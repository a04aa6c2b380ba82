#pragma once

// A cluster file's neighbours (env files, unit files) kept in memory for the tests.

#include "herald/cluster/load.hpp"

#include <map>
#include <optional>
#include <string>

namespace herald::cluster::test {

/// LoadOptions reading from `files` (path -> content; paths as the parser resolves them, e.g.
/// "dir/web.env" for a cluster file called "dir/cluster.yaml").
inline LoadOptions files(std::map<std::string, std::string> files) {
  LoadOptions options;
  options.read_file = [files = std::move(files)](const std::string& path) {
    auto it = files.find(path);
    return it == files.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  return options;
}

} // namespace herald::cluster::test
