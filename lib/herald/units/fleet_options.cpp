#include "herald/units/fleet_options.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace herald::units {

std::vector<fleet::UnitOption> to_fleet_options(const UnitFile& file) {
  std::vector<fleet::UnitOption> options;
  for (const UnitSection& section : file.sections) {
    for (const UnitOption& option : section.options) {
      if (option.value.find('\n') != std::string::npos) {
        throw Error(ErrorKind::data,
                    fmt::format("{}= of [{}] holds a newline, which fleet refuses: join the lines",
                                option.name, section.name));
      }
      options.push_back(fleet::UnitOption{section.name, option.name, option.value});
    }
  }
  return options;
}

UnitFile from_fleet_options(const std::vector<fleet::UnitOption>& options) {
  UnitFile file;
  for (const fleet::UnitOption& option : options) {
    auto it = std::find_if(file.sections.begin(), file.sections.end(),
                           [&](const UnitSection& s) { return s.name == option.section; });
    if (it == file.sections.end()) {
      file.sections.push_back(UnitSection{option.section, {}, std::nullopt, {}, 0});
      it = std::prev(file.sections.end());
    }
    UnitOption added;
    added.name = option.name;
    added.value = option.value;
    it->options.push_back(std::move(added));
  }
  file.emit(); // validates every name and value, naming the first that cannot be written
  return file;
}

} // namespace herald::units
