#include "herald/scheduler/fleet/fleet_scheduler.hpp"

#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/fleet/placement.hpp"
#include "herald/fleet/unit_name.hpp"
#include "herald/units/fleet_options.hpp"
#include "herald/units/quote.hpp"
#include "herald/units/unit_file.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <optional>
#include <tuple>

namespace herald::scheduler::fleet {

namespace hf = herald::fleet;

namespace {

constexpr const char* k_image_key = "X-Herald-Image";
constexpr const char* k_host_port_key = "X-Herald-Host-Port";

/// The last value of [Unit] `key`, "" when absent.
std::string unit_value(const std::vector<hf::UnitOption>& options, std::string_view key) {
  auto values = hf::option_values(options, "Unit", key);
  return values.empty() ? std::string() : values.back();
}

/// Inserts `option` after the last option of its section (at the end when there is none).
void insert_option(std::vector<hf::UnitOption>& options, hf::UnitOption option) {
  auto last = std::find_if(options.rbegin(), options.rend(),
                           [&](const hf::UnitOption& o) { return o.section == option.section; });
  options.insert(last == options.rend() ? options.end() : last.base(), std::move(option));
}

/// Appends `words` (each quoted as one Exec= argument) to the [Service] ExecStart= of `options`.
void append_to_exec_start(std::vector<hf::UnitOption>& options,
                          const std::vector<std::string>& words, std::string_view unit) {
  if (words.empty()) {
    return;
  }
  for (auto& option : options) {
    if (option.section == "Service" && option.name == "ExecStart") {
      for (const auto& word : words) {
        option.value += " " + units::exec_argument(word);
      }
      return;
    }
  }
  throw Error(ErrorKind::data,
              fmt::format("the unit template of {} has no ExecStart= to pass arguments to", unit));
}

std::vector<hf::UnitOption> options_of(const units::GeneratedUnit& unit) {
  return units::to_fleet_options(units::UnitFile::parse(unit.text, unit.name));
}

/// The flags of the sidekick's `herald announce` that the unit template does not write.
std::vector<std::string> sidekick_flags(const InstanceSpec& spec, bool json_value) {
  std::vector<std::string> out;
  if (spec.health) {
    const HealthCheck& h = *spec.health;
    out.insert(out.end(), {"--check-interval", format_duration(h.interval), "--check-timeout",
                           format_duration(h.timeout), "--rise", std::to_string(h.rise), "--fall",
                           std::to_string(h.fall)});
  }
  for (const auto& tag : spec.routing.tags) {
    out.insert(out.end(), {"--tag", tag});
  }
  if (!spec.routing.meta.empty() && !json_value) {
    out.insert(out.end(), {"--value", "json"});
  }
  for (const auto& [key, value] : spec.routing.meta) {
    out.insert(out.end(), {"--meta", key + "=" + value});
  }
  if (!spec.registry_url.empty()) {
    out.insert(out.end(), {"--registry", spec.registry_url});
  }
  if (!spec.registry_prefix.empty()) {
    out.insert(out.end(), {"--prefix", spec.registry_prefix});
  }
  return out;
}

std::string machine_ip_of(const std::string& id, const std::vector<hf::Machine>& machines) {
  for (const auto& machine : machines) {
    if (machine.id == id) {
      return machine.primary_ip;
    }
  }
  return {};
}

/// State and detail from what systemd reports on the machine, given fleet's desired state.
std::pair<State, std::string> from_systemd(const hf::UnitState& state, hf::DesiredState desired) {
  std::string detail = state.active_state + "/" + state.sub_state;
  const std::string& active = state.active_state;
  if (active == "failed") {
    return {State::failed, detail};
  }
  if (desired != hf::DesiredState::launched) {
    bool down = active == "inactive";
    return {down ? State::stopped : State::stopping, detail};
  }
  if (active == "active" || active == "reloading") {
    return {State::running, detail};
  }
  if (active == "activating" || active == "inactive") {
    return {State::starting, detail};
  }
  if (active == "deactivating") {
    return {State::stopping, detail};
  }
  return {State::unknown, escape_control(detail)};
}

} // namespace

std::string instance_unit(const InstanceName& name) {
  return name.app + "@" + name.instance + ".service";
}

std::string sidekick_unit(const InstanceName& name) {
  return name.app + "-discovery@" + name.instance + ".service";
}

std::vector<SpecUnits> spec_units(const InstanceSpec& spec, const units::UnitTemplates& templates,
                                  const units::HostPaths& paths) {
  units::AppSpec app;
  app.app = spec.app;
  app.image = spec.image;
  app.port = spec.container_port;
  app.host_port = spec.host_port;
  if (!spec.host_ip.empty()) {
    app.host_ip = spec.host_ip;
  }
  app.domain = spec.routing.domain;
  app.path = spec.routing.path;
  app.env = spec.env;
  app.conflicts = spec.placement.spread;
  app.machine_of = spec.placement.machine_of;
  app.metadata = spec.placement.metadata;
  if (spec.health) {
    app.health_path = spec.health->http_path;
  }
  std::vector<hf::UnitOption> app_options;
  std::vector<hf::UnitOption> sidekick_options;
  const std::string app_template = spec.app + "@.service";
  const std::string sidekick_template = spec.app + "-discovery@.service";
  for (const auto& unit : units::generate_app(app, templates, paths)) {
    if (unit.name == app_template) {
      app_options = options_of(unit);
    } else if (unit.name == sidekick_template) {
      sidekick_options = options_of(unit);
    }
  }
  if (app_options.empty() || sidekick_options.empty()) {
    throw Error(ErrorKind::internal, fmt::format("the unit generator wrote no {} or {}",
                                                 app_template, sidekick_template));
  }

  append_to_exec_start(app_options, spec.command, app_template);
  for (const auto& glob : spec.placement.conflicts) {
    insert_option(app_options, {"X-Fleet", "Conflicts", glob});
  }
  insert_option(app_options, {"Unit", k_spec_key, spec.spec_hash});
  insert_option(app_options, {"Unit", k_image_key, spec.image});
  if (spec.host_port) {
    insert_option(app_options, {"Unit", k_host_port_key, std::to_string(*spec.host_port)});
  }

  bool json_value = false;
  for (const auto& option : sidekick_options) {
    if (option.section == "Service" && option.name == "ExecStart") {
      json_value = option.value.find("--value json") != std::string::npos;
    }
  }
  append_to_exec_start(sidekick_options, sidekick_flags(spec, json_value), sidekick_template);

  const InstanceName name = spec.name();
  return {{app_template, app_options},
          {sidekick_template, sidekick_options},
          {instance_unit(name), app_options},
          {sidekick_unit(name), sidekick_options}};
}

Instance instance_of(const hf::Unit& unit, const std::vector<hf::UnitState>& states,
                     const std::vector<hf::Machine>& machines, const std::vector<hf::Unit>& units) {
  Instance out;
  auto info = hf::parse_unit_name(unit.name);
  if (info) {
    out.app = info->prefix;
    out.instance = info->instance;
  }
  out.id = unit.name;
  out.spec_hash = unit_value(unit.options, k_spec_key);
  out.image = unit_value(unit.options, k_image_key);

  const hf::UnitState* state = nullptr;
  for (const auto& entry : states) {
    if (entry.name == unit.name && (state == nullptr || entry.machine_id == unit.machine_id)) {
      state = &entry;
    }
  }
  out.machine = state != nullptr ? state->machine_id : unit.machine_id;
  out.machine_ip = machine_ip_of(out.machine, machines);

  if (unit.desired_state == hf::DesiredState::inactive) {
    out.state = State::stopped;
    out.detail = "inactive (submitted, not loaded)";
  } else if (state != nullptr) {
    std::tie(out.state, out.detail) = from_systemd(*state, unit.desired_state);
  } else if (out.machine.empty()) {
    out.state = State::pending;
    out.detail = "no machine: " + hf::unschedulable_reason(unit, machines, units)
                                      .value_or("waiting for fleet to schedule it");
  } else if (unit.desired_state == hf::DesiredState::launched) {
    out.state = State::starting;
    out.detail = "launched, not yet reported by its machine";
  } else {
    out.state = State::stopped;
    out.detail = "loaded";
  }

  std::string host_port = unit_value(unit.options, k_host_port_key);
  if (out.state == State::running && !host_port.empty() && !out.machine_ip.empty()) {
    HostPort address;
    if (try_parse_host_port(out.machine_ip + ":" + host_port, address)) {
      out.address = address;
    }
  }
  return out;
}

FleetScheduler::FleetScheduler(std::unique_ptr<hf::Connection> connection,
                               units::UnitTemplates templates, units::HostPaths paths)
    : m_connection(std::move(connection)), m_client(m_connection->client()),
      m_templates(std::move(templates)), m_paths(std::move(paths)) {}

std::string FleetScheduler::describe() const {
  return "fleet at " + m_connection->describe();
}

std::vector<Instance> FleetScheduler::list(std::string_view app) {
  std::vector<hf::Unit> units = m_client.list_units();
  std::vector<hf::UnitState> states = m_client.list_states();
  std::vector<hf::Machine> machines = m_client.list_machines();
  std::vector<Instance> out;
  for (const auto& unit : units) {
    auto info = hf::parse_unit_name(unit.name);
    if (!info || !info->is_instance() || info->suffix != "service" ||
        (!app.empty() && info->prefix != app) || unit_value(unit.options, k_spec_key).empty()) {
      continue;
    }
    out.push_back(instance_of(unit, states, machines, units));
  }
  std::sort(out.begin(), out.end(), instance_order);
  return out;
}

void FleetScheduler::start(const InstanceSpec& spec) {
  validate(spec);
  std::vector<SpecUnits> wanted = spec_units(spec, m_templates, m_paths);
  const InstanceName name = spec.name();
  // fleet answers 400 (or 409) for a unit it will not take, such as requirements that cannot
  // be met together; the templates carry the instance's options, so a refused spec is refused
  // at the first PUT, before anything of it changed.
  auto put = [&](const SpecUnits& unit, std::optional<hf::DesiredState> desired) {
    try {
      m_client.put_unit(unit.name, {unit.options, desired});
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::data) {
        throw;
      }
      throw Error(ErrorKind::failed, fmt::format("{}: fleet refused {}: {}",
                                                 escape_control(name.str()), unit.name, e.what()));
    }
  };
  // The templates: what `fleetctl list-unit-files` shows and `fleetctl start APP@N` would use.
  for (std::size_t i = 0; i < 2; ++i) {
    const SpecUnits& unit = wanted[i];
    auto have = m_client.get_unit(unit.name);
    if (!have || hf::normalize_options(have->options) != hf::normalize_options(unit.options)) {
      put(unit, std::nullopt);
    }
  }
  // The instance and its sidekick, with their own options: an instance made from an older spec
  // is rewritten in place (fleet stops it, replaces the unit and starts it again); one of the
  // same spec only gets its desired state.
  for (std::size_t i = 2; i < wanted.size(); ++i) {
    put(wanted[i], hf::DesiredState::launched);
  }
}

hf::Unit FleetScheduler::existing(const InstanceName& name) {
  auto unit = m_client.get_unit(instance_unit(name));
  if (!unit || unit_value(unit->options, k_spec_key).empty()) {
    throw Error(ErrorKind::not_found,
                fmt::format("no instance {} on {} (no unit {} made by herald)",
                            escape_control(name.str()), describe(), instance_unit(name)));
  }
  return *unit;
}

bool FleetScheduler::stop(const InstanceName& name, std::chrono::seconds /*grace*/) {
  hf::Unit unit = existing(name);
  if (unit.desired_state != hf::DesiredState::launched) {
    return false;
  }
  // The sidekick first: it withdraws the instance before the container stops.
  if (m_client.get_unit(sidekick_unit(name))) {
    m_client.put_unit(sidekick_unit(name), {std::nullopt, hf::DesiredState::loaded});
  }
  m_client.put_unit(unit.name, {std::nullopt, hf::DesiredState::loaded});
  return true;
}

bool FleetScheduler::withdraw(const InstanceName& name) {
  hf::Unit unit = existing(name);
  auto sidekick = m_client.get_unit(sidekick_unit(name));
  if (unit.desired_state != hf::DesiredState::launched || !sidekick ||
      sidekick->desired_state != hf::DesiredState::launched) {
    return false;
  }
  // Stopped, the sidekick deregisters the instance; the app keeps serving what is on its way.
  m_client.put_unit(sidekick->name, {std::nullopt, hf::DesiredState::loaded});
  return true;
}

bool FleetScheduler::remove(const InstanceName& name) {
  auto unit = m_client.get_unit(instance_unit(name));
  if (unit && unit_value(unit->options, k_spec_key).empty()) {
    throw Error(ErrorKind::failed,
                fmt::format("{} on {} was not made by herald (it has no {}=): destroy it with "
                            "'herald unit destroy' if it is meant to go",
                            unit->name, describe(), k_spec_key));
  }
  bool sidekick = m_client.delete_unit(sidekick_unit(name));
  bool instance = m_client.delete_unit(instance_unit(name));
  return instance || sidekick;
}

std::vector<std::string> FleetScheduler::logs(const InstanceName& name, std::size_t /*lines*/) {
  existing(name);
  return {};
}

std::vector<Machine> FleetScheduler::machines() {
  std::vector<Machine> out;
  for (const auto& machine : m_client.list_machines()) {
    out.push_back({machine.id, machine.short_id(), machine.primary_ip, machine.metadata});
  }
  return out;
}

UnitInfo unit_info_of(const hf::Unit& unit, const std::vector<hf::UnitState>& states,
                      const std::vector<hf::Machine>& machines,
                      const std::vector<hf::Unit>& units) {
  UnitInfo out;
  out.name = unit.name;
  out.text = hf::serialize_unit_file(hf::normalize_options(unit.options));
  out.owner = unit_value(unit.options, k_cluster_unit_key);
  auto global = hf::option_values(unit.options, "X-Fleet", "Global");
  out.global = !global.empty() && (global.back() == "true" || global.back() == "True");
  // A machine still running the unit file it had before a replacement is not running this one.
  const std::string hash = hf::unit_hash(unit.options);
  auto outdated = [&](const std::string& machine) {
    return std::any_of(states.begin(), states.end(), [&](const hf::UnitState& state) {
      return state.name == unit.name && state.machine_id == machine && state.hash != hash;
    });
  };
  if (!out.global) {
    // One place, as an instance has it.
    Instance seen = instance_of(unit, states, machines, units);
    out.state = seen.state;
    out.detail = seen.detail;
    if (out.state == State::running && outdated(seen.machine)) {
      out.state = State::starting;
      out.detail = "being replaced: " + seen.detail + " is the previous unit file";
    }
    if (!seen.machine.empty()) {
      out.placements.push_back({seen.machine, out.state, out.detail});
    }
    return out;
  }
  for (const auto& state : states) {
    if (state.name == unit.name) {
      auto [placed, detail] = from_systemd(state, unit.desired_state);
      if (placed == State::running && state.hash != hash) {
        placed = State::starting;
        detail = "being replaced: " + detail + " is the previous unit file";
      }
      out.placements.push_back({state.machine_id, placed, detail});
    }
  }
  std::sort(out.placements.begin(), out.placements.end(),
            [](const auto& a, const auto& b) { return a.machine < b.machine; });
  if (unit.desired_state == hf::DesiredState::inactive) {
    out.state = State::stopped;
    out.detail = "inactive (submitted, not loaded)";
    return out;
  }
  if (out.placements.empty()) {
    out.state = unit.desired_state == hf::DesiredState::launched ? State::pending : State::stopped;
    out.detail = "on no machine yet";
    return out;
  }
  std::size_t running = 0;
  out.state = State::running;
  for (const auto& place : out.placements) {
    if (place.state == State::running) {
      ++running;
    } else if (out.state == State::running || place.state == State::failed) {
      out.state = place.state;
      out.detail = place.machine.substr(0, 8) + ": " + place.detail;
    }
  }
  if (out.state == State::running) {
    out.detail = fmt::format("running on {} machine(s)", running);
  }
  return out;
}

std::vector<UnitInfo> FleetScheduler::list_units() {
  std::vector<hf::Unit> units = m_client.list_units();
  std::vector<hf::UnitState> states = m_client.list_states();
  std::vector<hf::Machine> machines = m_client.list_machines();
  std::vector<UnitInfo> out;
  for (const auto& unit : units) {
    if (!unit_value(unit.options, k_cluster_unit_key).empty()) {
      out.push_back(unit_info_of(unit, states, machines, units));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

void FleetScheduler::put_unit(const UnitSpec& unit) {
  if (auto problem = hf::unit_name_problem(unit.name)) {
    throw Error(ErrorKind::usage,
                fmt::format("invalid unit name {}: {}", herald::quoted(unit.name), *problem));
  }
  std::vector<hf::UnitOption> options =
      units::to_fleet_options(units::UnitFile::parse(unit.text, unit.name));
  if (unit_value(options, k_cluster_unit_key).empty()) {
    throw Error(ErrorKind::internal, fmt::format("{} carries no {}= line: herald would not know it "
                                                 "as its own",
                                                 herald::quoted(unit.name), k_cluster_unit_key));
  }
  auto have = m_client.get_unit(unit.name);
  if (have && unit_value(have->options, k_cluster_unit_key).empty()) {
    throw Error(ErrorKind::failed,
                fmt::format("{} on {} was not made by herald (it has no {}=): herald leaves it "
                            "alone; destroy it with 'herald unit destroy' or rename the unit in "
                            "the cluster file",
                            herald::quoted(unit.name), describe(), k_cluster_unit_key));
  }
  bool same = have && hf::normalize_options(have->options) == hf::normalize_options(options);
  if (same && have->desired_state == hf::DesiredState::launched) {
    return;
  }
  try {
    m_client.put_unit(unit.name,
                      {same ? std::nullopt : std::optional(options), hf::DesiredState::launched});
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::data) {
      throw;
    }
    throw Error(ErrorKind::failed,
                fmt::format("fleet refused {}: {}", herald::quoted(unit.name), e.what()));
  }
}

bool FleetScheduler::remove_unit(const std::string& name) {
  auto unit = m_client.get_unit(name);
  if (!unit) {
    return false;
  }
  if (unit_value(unit->options, k_cluster_unit_key).empty()) {
    throw Error(ErrorKind::failed,
                fmt::format("{} on {} was not made by herald (it has no {}=): herald leaves it "
                            "alone",
                            herald::quoted(name), describe(), k_cluster_unit_key));
  }
  return m_client.delete_unit(name);
}

} // namespace herald::scheduler::fleet
