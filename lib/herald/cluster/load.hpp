#pragma once

// Reading a cluster file (YAML) into a ClusterSpec. The parse is total: every key and value is
// checked before anything is returned, so a caller never acts on half a file.

#include "herald/cluster/spec.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace herald::cluster {

/// How the parser reaches the files a cluster file names (env files, unit files).
struct LoadOptions {
  /// The contents of `path` (already resolved against the cluster file's directory), or
  /// nullopt when it does not exist; may throw herald::Error. Default: read it from disk
  /// (at most 1 MiB).
  std::function<std::optional<std::string>(const std::string& path)> read_file;
};

/// Parses the text of a cluster file called `name` (its directory is where relative paths
/// start). The first problem, in file order, is an Error with one line
/// "NAME:LINE:COLUMN: KEY.PATH: what is wrong; what is expected": ErrorKind::data (exit 65) for
/// text that is no YAML (DESIGN.md: bad input data), ErrorKind::config (exit 78) for YAML that
/// is no valid cluster (an unknown key with "did you mean ...", a bad value with its expected
/// form, a duplicate key, a conflict between entries).
ClusterSpec parse_cluster(std::string_view text, const std::string& name,
                          const LoadOptions& options = {});

/// parse_cluster() of the file at `path`; Error(config) when it cannot be read.
ClusterSpec load_cluster_file(const std::string& path, const LoadOptions& options = {});

/// The file's canonical YAML: every key with its value (defaults written out), in the order of
/// herald-cluster(5), env files and unit files inlined. Parsing it gives the same spec (and the
/// same hashes).
std::string dump_cluster(const ClusterSpec& spec);

} // namespace herald::cluster
