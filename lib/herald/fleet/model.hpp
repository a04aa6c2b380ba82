#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::fleet {

/// One line of a unit file as fleet's API carries it: `[section] name=value`. The units/ model
/// converts its unit files to and from a list of these.
struct UnitOption {
  std::string section; ///< "Unit", "Service", "X-Fleet"
  std::string name;    ///< "ExecStart"
  std::string value;   ///< one line: fleet refuses values with a newline

  friend bool operator==(const UnitOption&, const UnitOption&) = default;
};

/// The state fleet is asked to bring a unit to (fleetctl: submit = inactive, load = loaded,
/// start = launched, stop = loaded, unload = inactive).
enum class DesiredState { inactive, loaded, launched };

/// "inactive", "loaded", "launched".
std::string_view to_string(DesiredState state);

/// The DesiredState named `text`; nullopt for anything else (fleetd does not check this on an
/// existing unit and then breaks it: see reference/fleet-api.md, so herald checks it).
std::optional<DesiredState> parse_desired_state(std::string_view text);

/// A unit as GET /fleet/v1/units returns it.
struct Unit {
  std::string name;
  std::vector<UnitOption> options;
  DesiredState desired_state = DesiredState::inactive;
  /// The agent's job state; fleet leaves it out for a global unit's item GET.
  std::optional<DesiredState> current_state;
  /// The machine it is scheduled to; empty when unscheduled (and always for a global unit).
  std::string machine_id;
};

/// What systemd reports for a unit on one machine (GET /fleet/v1/state): one per unit per machine
/// where an agent has it loaded.
struct UnitState {
  std::string name;
  std::string hash; ///< SHA-1 of the unit file the agent runs (unit_hash())
  std::string machine_id;
  std::string load_state;   ///< systemdLoadState: "loaded", "not-found", ...
  std::string active_state; ///< systemdActiveState: "active", "activating", "failed", ...
  std::string sub_state;    ///< systemdSubState: "running", "dead", "start-pre", ...
};

/// A machine of the cluster (GET /fleet/v1/machines).
struct Machine {
  std::string id;                              ///< 32 hex digits
  std::string primary_ip;                      ///< may be empty
  std::map<std::string, std::string> metadata; ///< sorted by key

  /// The first 8 characters of the id, as fleetctl shows it.
  std::string short_id() const { return id.substr(0, 8); }
};

/// One page of a collection and the token for the next one (empty on the last page).
template <typename Item> struct Page {
  std::vector<Item> items;
  std::string next_page_token;
};

/// Decoders of fleet's JSON answers. An empty collection is `{}` (the array key is absent);
/// fields fleet omits stay empty. Anything that is not fleet's shape is Error(data) naming
/// `what` ("GET /fleet/v1/units").
Unit decode_unit(const nlohmann::json& json, std::string_view what);
Page<Unit> decode_unit_page(std::string_view body, std::string_view what);
Page<UnitState> decode_state_page(std::string_view body, std::string_view what);
Page<Machine> decode_machine_page(std::string_view body, std::string_view what);
Unit decode_unit_body(std::string_view body, std::string_view what);

/// fleet's own error text from an error body `{"error":{"code":N,"message":"..."}}`; empty when
/// the body is not that (or the message is empty, as in every fleet 500).
std::string error_message(std::string_view body);

/// The options as fleetd stores them: grouped by section in the order each section first
/// appears, the order within a section kept (so GET may differ in order from what was sent).
std::vector<UnitOption> normalize_options(const std::vector<UnitOption>& options);

/// The unit file fleet builds from `options` (go-systemd's serializer): per section
/// `[Section]\n`, then `Name=Value\n` per option, a blank line between sections. This is what
/// `fleetctl cat` prints and what unit_hash() hashes.
std::string serialize_unit_file(const std::vector<UnitOption>& options);

/// The unit hash fleet reports in /state and fleetctl list-unit-files shows (7 digits there):
/// SHA-1 hex of serialize_unit_file(). A template and its instances share it.
std::string unit_hash(const std::vector<UnitOption>& options);

/// `value` on one line, as systemd reads a continued line: a backslash before a newline becomes
/// a space, each newline joins the next line with its leading whitespace dropped. fleetd refuses
/// values with a newline ("unexpected newline encountered while parsing option name").
std::string join_continuation_lines(std::string_view value);

/// The values of option `name` in section `section`, in order.
std::vector<std::string> option_values(const std::vector<UnitOption>& options,
                                       std::string_view section, std::string_view name);

} // namespace herald::fleet
