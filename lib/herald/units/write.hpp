#pragma once

#include "herald/units/generate.hpp"

#include <optional>
#include <string>
#include <vector>

namespace herald::units {

/// What write_units() did (or, in a dry run, would do) to one file.
enum class WriteOutcome {
  created,  ///< there was no such file
  updated,  ///< the file held something else and was replaced
  unchanged ///< the file already held exactly this unit: not touched
};

/// "created", "updated", "unchanged".
std::string_view to_string(WriteOutcome outcome);

/// One file of write_units().
struct WrittenUnit {
  std::string path;
  WriteOutcome outcome = WriteOutcome::created;
  std::optional<std::string> previous; ///< the file's content before, when it existed
};

/// Writes `units` into `dir` (created when missing, unless `dry_run`) as DIR/NAME, mode 0644.
/// A file already holding exactly the unit is left alone (its mtime too); the others are all
/// staged beside their destination first and only then renamed over it, so an error (a
/// read-only directory, a full disk) leaves every file as it was. With `dry_run` nothing is
/// written; the outcomes say what would happen. Error(config) for a directory that cannot be
/// created or written.
std::vector<WrittenUnit> write_units(const std::string& dir,
                                     const std::vector<GeneratedUnit>& units, bool dry_run);

} // namespace herald::units
