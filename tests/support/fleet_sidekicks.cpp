#include "support/fleet_sidekicks.hpp"

#include "herald/announce/registration.hpp"
#include "herald/core/error.hpp"
#include "herald/registry/layout.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace herald::test {

namespace {

/// The items under `key` of one GET of `path` on the double; throws when it does not answer
/// 200 or pages (the tests stay far below fleetd's 100 per page).
nlohmann::json items(const FleetDouble& fleet, const std::string& path, const std::string& key) {
  HttpReply reply = fleet.get(path);
  if (reply.status != 200) {
    throw std::runtime_error("GET " + path + ": " + std::to_string(reply.status) + " " +
                             reply.body);
  }
  nlohmann::json body = nlohmann::json::parse(reply.body);
  if (body.contains("nextPageToken")) {
    throw std::runtime_error("GET " + path + " pages; FleetSidekicks reads one page");
  }
  return body.value(key, nlohmann::json::array());
}

bool runs(const nlohmann::json& state) {
  return state.value("systemdActiveState", "") == "active" &&
         state.value("systemdSubState", "") == "running";
}

} // namespace

FleetSidekicks::FleetSidekicks(const FleetDouble& fleet, registry::Registry& registry,
                               Options options)
    : m_fleet(fleet), m_registry(registry), m_options(std::move(options)) {
  m_thread = std::thread([this] { run(); });
}

FleetSidekicks::~FleetSidekicks() {
  m_stop = true;
  m_thread.join();
}

void FleetSidekicks::never(const std::string& instance) {
  std::lock_guard lock(m_mutex);
  m_never.insert(instance);
}

void FleetSidekicks::lose_machine(const std::string& machine_id, double ttl_seconds) {
  {
    std::lock_guard lock(m_mutex);
    m_lost.insert(machine_id);
  }
  m_fleet.control("lose-machine?id=" + machine_id + "&ttl=" + std::to_string(ttl_seconds));
}

std::vector<std::string> FleetSidekicks::errors() const {
  std::lock_guard lock(m_mutex);
  return m_errors;
}

int FleetSidekicks::registrations() const {
  std::lock_guard lock(m_mutex);
  return m_registrations;
}

void FleetSidekicks::run() {
  while (!m_stop) {
    try {
      step();
    } catch (const std::exception& e) {
      std::lock_guard lock(m_mutex);
      if (m_errors.size() < 10) {
        m_errors.emplace_back(e.what());
      }
    }
    std::this_thread::sleep_for(m_options.poll);
  }
}

void FleetSidekicks::step() {
  nlohmann::json units = items(m_fleet, "/fleet/v1/units", "units");
  nlohmann::json states = items(m_fleet, "/fleet/v1/state", "states");
  nlohmann::json machines = items(m_fleet, "/fleet/v1/machines", "machines");
  std::map<std::string, std::string> ip_of;
  for (const auto& machine : machines) {
    ip_of[machine.value("id", "")] = machine.value("primaryIP", "");
  }
  // unit -> machines where systemd runs it
  std::map<std::string, std::set<std::string>> running_on;
  for (const auto& state : states) {
    if (runs(state)) {
      running_on[state.value("name", "")].insert(state.value("machineID", ""));
    }
  }
  std::set<std::string> lost;
  std::set<std::string> never;
  {
    std::lock_guard lock(m_mutex);
    lost = m_lost;
    never = m_never;
  }

  // What the live sidekicks announce now: APP@N -> (machine, address).
  std::map<std::string, std::pair<std::string, HostPort>> wanted;
  for (const auto& unit : units) {
    std::string name = unit.value("name", "");
    const std::string marker = "-discovery@";
    std::size_t at = name.find(marker);
    if (at == std::string::npos || !name.ends_with(".service")) {
      continue;
    }
    std::string app = name.substr(0, at);
    std::string number = name.substr(at + marker.size(), name.size() - at - marker.size() -
                                                             std::string(".service").size());
    InstanceName instance{app, number};
    std::string app_unit = app + "@" + number + ".service";
    std::uint16_t port = static_cast<std::uint16_t>(30000 + std::stoi("0" + number) % 30000);
    for (const auto& other : units) {
      if (other.value("name", "") != app_unit) {
        continue;
      }
      for (const auto& option : other.value("options", nlohmann::json::array())) {
        if (option.value("section", "") == "Unit" &&
            option.value("name", "") == "X-Herald-Host-Port") {
          port = static_cast<std::uint16_t>(std::stoi(option.value("value", "0")));
        }
      }
    }
    for (const std::string& machine : running_on[name]) {
      if (lost.count(machine) == 0 && running_on[app_unit].count(machine) != 0 &&
          never.count(instance.str()) == 0 && !ip_of[machine].empty()) {
        wanted[instance.str()] = {machine, HostPort{ip_of[machine], port}};
      }
    }
  }

  std::lock_guard lock(m_mutex);
  // Sidekicks that stopped deregister; those of a lost machine just stop refreshing.
  for (auto it = m_live.begin(); it != m_live.end();) {
    auto found = wanted.find(it->first);
    bool same = found != wanted.end() && found->second.first == it->second.first &&
                found->second.second == it->second.second.address;
    if (same) {
      ++it;
      continue;
    }
    if (m_lost.count(it->second.first) == 0 && found == wanted.end()) {
      m_registry.deregister_instance(it->second.second);
    }
    it = m_live.erase(it);
  }
  for (const auto& [name, where] : wanted) {
    auto it = m_live.find(name);
    if (it != m_live.end()) {
      if (m_registry.refresh_instance(it->second.second) == registry::KeepAlive::lost) {
        m_registry.register_instance(it->second.second);
        ++m_registrations;
      }
      continue;
    }
    InstanceName instance = parse_instance_name(name);
    registry::Registration reg = announce::make_registration(
        instance, registry::instance_key(m_options.prefix, instance), where.second,
        registry::ValueFormat::hostport, {}, {}, m_options.ttl);
    m_registry.register_instance(reg);
    ++m_registrations;
    m_live.emplace(name, std::make_pair(where.first, std::move(reg)));
  }
}

} // namespace herald::test
