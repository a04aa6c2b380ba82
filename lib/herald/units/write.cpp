#include "herald/units/write.hpp"

#include "herald/core/error.hpp"
#include "herald/core/file.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <system_error>

namespace herald::units {

namespace fs = std::filesystem;

std::string_view to_string(WriteOutcome outcome) {
  switch (outcome) {
  case WriteOutcome::created:
    return "created";
  case WriteOutcome::updated:
    return "updated";
  case WriteOutcome::unchanged:
    return "unchanged";
  }
  return "?";
}

namespace {

/// systemd reads unit files of any size, but one herald wrote is a page; anything near this is
/// not a unit file.
constexpr std::size_t k_max_unit_file = 1 << 20;

} // namespace

std::vector<WrittenUnit> write_units(const std::string& dir,
                                     const std::vector<GeneratedUnit>& units, bool dry_run) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw Error(ErrorKind::config, fmt::format("{} is not a directory", dir));
  }
  std::vector<WrittenUnit> results;
  for (const GeneratedUnit& unit : units) {
    WrittenUnit result;
    result.path = (fs::path(dir) / unit.name).string();
    // A link is refused, not replaced: a unit linked to /dev/null is masked on purpose.
    result.previous = read_file(result.path, k_max_unit_file, "unit file", Links::refuse);
    result.outcome = !result.previous                ? WriteOutcome::created
                     : *result.previous == unit.text ? WriteOutcome::unchanged
                                                     : WriteOutcome::updated;
    results.push_back(std::move(result));
  }
  if (dry_run) {
    return results;
  }
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) {
      throw Error(ErrorKind::config,
                  fmt::format("cannot create the directory {}: {}", dir, ec.message()));
    }
  }
  // Stage every changed file before replacing any, so a failure leaves all of them as they were.
  std::vector<StagedFile> staged;
  for (std::size_t i = 0; i < units.size(); ++i) {
    if (results[i].outcome != WriteOutcome::unchanged) {
      staged.emplace_back(results[i].path, units[i].text, FileAttributes{}, "unit gen");
    }
  }
  for (StagedFile& file : staged) {
    file.commit();
  }
  return results;
}

} // namespace herald::units
