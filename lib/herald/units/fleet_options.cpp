#include "herald/units/fleet_options.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace herald::units {

std::vector<FleetOption> to_fleet_options(const UnitFile& file) {
  std::vector<FleetOption> options;
  for (const UnitSection& section : file.sections) {
    for (const UnitOption& option : section.options) {
      if (option.value.find('\n') != std::string::npos) {
        throw Error(ErrorKind::data,
                    fmt::format("{}= of [{}] holds a newline, which fleet refuses: join the lines",
                                option.name, section.name));
      }
      options.push_back(FleetOption{section.name, option.name, option.value});
    }
  }
  return options;
}

UnitFile from_fleet_options(const std::vector<FleetOption>& options) {
  UnitFile file;
  for (const FleetOption& option : options) {
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

nlohmann::json fleet_options_json(const std::vector<FleetOption>& options) {
  nlohmann::json array = nlohmann::json::array();
  for (const FleetOption& option : options) {
    array.push_back({{"section", option.section}, {"name", option.name}, {"value", option.value}});
  }
  return array;
}

std::vector<FleetOption> parse_fleet_options_json(const nlohmann::json& options) {
  if (!options.is_array()) {
    throw Error(ErrorKind::data, "fleet options: expected a JSON array of {section, name, value}");
  }
  std::vector<FleetOption> parsed;
  parsed.reserve(options.size());
  for (std::size_t i = 0; i < options.size(); ++i) {
    const nlohmann::json& item = options[i];
    auto field = [&](const char* key) -> std::string {
      if (!item.is_object() || !item.contains(key) || !item[key].is_string()) {
        throw Error(ErrorKind::data,
                    fmt::format("fleet options: item {} has no string \"{}\"", i, key));
      }
      return item[key].get<std::string>();
    };
    parsed.push_back(FleetOption{field("section"), field("name"), field("value")});
  }
  return parsed;
}

std::string fleet_serialize(const std::vector<FleetOption>& options) {
  return from_fleet_options(options).emit();
}

} // namespace herald::units
