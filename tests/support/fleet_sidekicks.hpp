#pragma once

#include "herald/registry/registry.hpp"
#include "support/fleet_double.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace herald::test {

/// Plays the discovery sidekicks of a fleet cluster, which nobody runs on the fleet double's
/// fake machines. Every `poll` it reads the double's units, /state and machines (plain HTTP,
/// not herald's client) and does what `herald announce` in APP-discovery@N.service would:
/// while the sidekick and its APP@N.service are active/running on one machine, APP@N is
/// registered (a lease of `ttl`, refreshed) at that machine's IP and the instance's port
/// (X-Herald-Host-Port, else 30000+N); when the sidekick stops, it deregisters (SIGTERM). A
/// machine marked lost runs nothing: its sidekicks neither refresh nor deregister, so their keys
/// expire after the TTL, as they would in etcd. Stops its thread when destroyed.
class FleetSidekicks {
public:
  struct Options {
    std::string prefix = "/services/web"; ///< the key prefix the sidekicks write under
    std::chrono::seconds ttl{1};
    std::chrono::milliseconds poll{20};
  };

  /// Starts polling `fleet` and writing `registry` (both must outlive this object; `registry`
  /// must be safe to use from another thread, as registry::memory::MemoryRegistry is).
  FleetSidekicks(const FleetDouble& fleet, registry::Registry& registry, Options options);
  FleetSidekicks(const FleetDouble& fleet, registry::Registry& registry)
      : FleetSidekicks(fleet, registry, Options{}) {}
  ~FleetSidekicks();
  FleetSidekicks(const FleetSidekicks&) = delete;
  FleetSidekicks& operator=(const FleetSidekicks&) = delete;

  /// APP@N never registers from now on (its health check never passes).
  void never(const std::string& instance);
  /// The machine's fleetd dies: the double keeps it listed for `ttl_seconds` (its agent TTL)
  /// and its sidekicks stop at once, leaving their keys to expire.
  void lose_machine(const std::string& machine_id, double ttl_seconds);
  /// What went wrong in the polling thread (a double that stopped answering, ...), for the test
  /// to CHECK empty.
  std::vector<std::string> errors() const;
  /// How many registrations it wrote so far (first registrations and re-registrations).
  int registrations() const;

private:
  void run();
  void step();

  const FleetDouble& m_fleet;
  registry::Registry& m_registry;
  Options m_options;
  mutable std::mutex m_mutex;
  std::set<std::string> m_never;
  std::set<std::string> m_lost;
  std::vector<std::string> m_errors;
  int m_registrations = 0;
  /// APP@N -> machine id, for what it keeps registered.
  std::map<std::string, std::pair<std::string, registry::Registration>> m_live;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
};

} // namespace herald::test
