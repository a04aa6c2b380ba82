#include "herald/fleet/model.hpp"

#include "herald/core/error.hpp"
#include "herald/core/sha1.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace herald::fleet {

namespace {

using nlohmann::json;

constexpr std::size_t k_max_body = 64 << 20;
// fleet's documents nest four levels deep (page, unit, options, option); more is not fleet.
constexpr int k_max_depth = 8;

[[noreturn]] void bad_shape(std::string_view what, std::string_view why) {
  throw Error(ErrorKind::data, fmt::format("fleet answered {} with {}", what, why));
}

json parse_body(std::string_view body, std::string_view what) {
  if (body.size() > k_max_body) {
    bad_shape(what, fmt::format("a body of {} bytes, more than herald reads", body.size()));
  }
  bool too_deep = false;
  auto limit = [&too_deep](int depth, json::parse_event_t, json&) {
    too_deep = too_deep || depth > k_max_depth;
    return !too_deep;
  };
  json j;
  try {
    j = json::parse(body, limit);
  } catch (const json::parse_error& e) {
    bad_shape(what, fmt::format("a body that is not JSON ({})", e.what()));
  }
  if (too_deep) {
    bad_shape(what, fmt::format("JSON nested deeper than {} levels", k_max_depth));
  }
  return j;
}

/// The string member `key`, "" when absent; a member of another type is bad data.
std::string string_member(const json& object, const char* key, std::string_view what) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return {};
  }
  if (!it->is_string()) {
    bad_shape(what, fmt::format("a non-string \"{}\"", key));
  }
  return it->get<std::string>();
}

const json* array_member(const json& object, const char* key, std::string_view what) {
  if (!object.is_object()) {
    bad_shape(what, "a body that is not a JSON object");
  }
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return nullptr; // fleet's empty collection: {}
  }
  if (!it->is_array()) {
    bad_shape(what, fmt::format("\"{}\" that is not an array", key));
  }
  return &*it;
}

DesiredState state_member(const std::string& text, const char* key, std::string_view what) {
  auto state = parse_desired_state(text);
  if (!state) {
    bad_shape(what, fmt::format("an unknown {} \"{}\"", key, text));
  }
  return *state;
}

UnitState decode_state(const json& j, std::string_view what) {
  if (!j.is_object()) {
    bad_shape(what, "a state that is not an object");
  }
  UnitState state;
  state.name = string_member(j, "name", what);
  state.hash = string_member(j, "hash", what);
  state.machine_id = string_member(j, "machineID", what);
  state.load_state = string_member(j, "systemdLoadState", what);
  state.active_state = string_member(j, "systemdActiveState", what);
  state.sub_state = string_member(j, "systemdSubState", what);
  return state;
}

Machine decode_machine(const json& j, std::string_view what) {
  if (!j.is_object()) {
    bad_shape(what, "a machine that is not an object");
  }
  Machine machine;
  machine.id = string_member(j, "id", what);
  machine.primary_ip = string_member(j, "primaryIP", what);
  if (auto it = j.find("metadata"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) {
      bad_shape(what, "machine metadata that is not an object");
    }
    for (const auto& [key, value] : it->items()) {
      if (!value.is_string()) {
        bad_shape(what, fmt::format("a non-string value for metadata key \"{}\"", key));
      }
      machine.metadata[key] = value.get<std::string>();
    }
  }
  return machine;
}

template <typename Item, typename Decode>
Page<Item> decode_page(std::string_view body, const char* key, std::string_view what,
                       Decode decode) {
  json j = parse_body(body, what);
  Page<Item> page;
  if (const json* items = array_member(j, key, what)) {
    page.items.reserve(items->size());
    for (const json& item : *items) {
      page.items.push_back(decode(item, what));
    }
  }
  page.next_page_token = string_member(j, "nextPageToken", what);
  return page;
}

} // namespace

std::string_view to_string(DesiredState state) {
  switch (state) {
  case DesiredState::inactive:
    return "inactive";
  case DesiredState::loaded:
    return "loaded";
  case DesiredState::launched:
    return "launched";
  }
  return "inactive";
}

std::optional<DesiredState> parse_desired_state(std::string_view text) {
  if (text == "inactive") {
    return DesiredState::inactive;
  }
  if (text == "loaded") {
    return DesiredState::loaded;
  }
  if (text == "launched") {
    return DesiredState::launched;
  }
  return std::nullopt;
}

Unit decode_unit(const json& j, std::string_view what) {
  if (!j.is_object()) {
    bad_shape(what, "a unit that is not an object");
  }
  Unit unit;
  unit.name = string_member(j, "name", what);
  if (unit.name.empty()) {
    bad_shape(what, "a unit without a name");
  }
  unit.desired_state = state_member(string_member(j, "desiredState", what), "desiredState", what);
  if (std::string current = string_member(j, "currentState", what); !current.empty()) {
    unit.current_state = state_member(current, "currentState", what);
  }
  unit.machine_id = string_member(j, "machineID", what);
  if (const json* options = array_member(j, "options", what)) {
    unit.options.reserve(options->size());
    for (const json& option : *options) {
      if (!option.is_object()) {
        bad_shape(what, fmt::format("an option of {} that is not an object", unit.name));
      }
      unit.options.push_back({string_member(option, "section", what),
                              string_member(option, "name", what),
                              string_member(option, "value", what)});
    }
  }
  return unit;
}

Unit decode_unit_body(std::string_view body, std::string_view what) {
  return decode_unit(parse_body(body, what), what);
}

Page<Unit> decode_unit_page(std::string_view body, std::string_view what) {
  return decode_page<Unit>(body, "units", what,
                           [](const json& j, std::string_view w) { return decode_unit(j, w); });
}

Page<UnitState> decode_state_page(std::string_view body, std::string_view what) {
  return decode_page<UnitState>(body, "states", what, decode_state);
}

Page<Machine> decode_machine_page(std::string_view body, std::string_view what) {
  return decode_page<Machine>(body, "machines", what, decode_machine);
}

std::string error_message(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_object()) {
    return {};
  }
  auto error = j.find("error");
  if (error == j.end() || !error->is_object()) {
    return {};
  }
  auto message = error->find("message");
  if (message == error->end() || !message->is_string()) {
    return {};
  }
  return message->get<std::string>();
}

std::vector<UnitOption> normalize_options(const std::vector<UnitOption>& options) {
  std::vector<std::string> sections;
  for (const UnitOption& option : options) {
    if (std::find(sections.begin(), sections.end(), option.section) == sections.end()) {
      sections.push_back(option.section);
    }
  }
  std::vector<UnitOption> out;
  out.reserve(options.size());
  for (const std::string& section : sections) {
    for (const UnitOption& option : options) {
      if (option.section == section) {
        out.push_back(option);
      }
    }
  }
  return out;
}

std::string serialize_unit_file(const std::vector<UnitOption>& options) {
  std::string out;
  bool first = true;
  std::string_view section;
  for (const UnitOption& option : normalize_options(options)) {
    if (first || option.section != section) {
      if (!first) {
        out += '\n';
      }
      out += '[';
      out += option.section;
      out += "]\n";
      section = option.section;
      first = false;
    }
    out += option.name;
    out += '=';
    out += option.value;
    out += '\n';
  }
  return out;
}

std::string unit_hash(const std::vector<UnitOption>& options) {
  return sha1_hex(serialize_unit_file(options));
}

std::string join_continuation_lines(std::string_view value) {
  if (value.find_first_of("\r\n") == std::string_view::npos) {
    return std::string(value);
  }
  std::string out;
  out.reserve(value.size());
  bool start_of_line = false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\r' && i + 1 < value.size() && value[i + 1] == '\n') {
      continue;
    }
    if (c == '\n' || c == '\r') {
      if (!out.empty() && out.back() == '\\') {
        out.back() = ' '; // systemd replaces the continuation backslash with a space
      } else {
        out += ' ';
      }
      start_of_line = true;
      continue;
    }
    if (start_of_line && (c == ' ' || c == '\t')) {
      continue;
    }
    start_of_line = false;
    out += c;
  }
  return out;
}

std::vector<std::string> option_values(const std::vector<UnitOption>& options,
                                       std::string_view section, std::string_view name) {
  std::vector<std::string> values;
  for (const UnitOption& option : options) {
    if (option.section == section && option.name == name) {
      values.push_back(option.value);
    }
  }
  return values;
}

} // namespace herald::fleet
