#pragma once

// A RouteView for the cluster tests that follows the memory scheduler's journal (apply_test,
// launch_test).

#include "herald/cluster/apply.hpp"
#include "herald/scheduler/memory/memory_scheduler.hpp"

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace herald::cluster::test {

/// The router's view as a registry would give it: every running instance is registered at
/// once (unless told otherwise) and leaves when withdrawn, until it is started again. Records
/// how many web instances were routable at each look, so a test can check none was missing.
class JournalRoutes final : public RouteView {
public:
  explicit JournalRoutes(scheduler::memory::MemoryScheduler& scheduler) : m_scheduler(scheduler) {}

  std::set<std::string> never;   ///< instances that never register
  std::vector<std::size_t> seen; ///< routable count at each look

  std::vector<registry::Instance> registered(std::string_view app) override {
    std::vector<std::string> journal = m_scheduler.journal();
    std::vector<registry::Instance> out;
    for (const scheduler::Instance& instance : m_scheduler.list(app)) {
      std::string name = instance.name().str();
      if (instance.state != scheduler::State::running || never.count(name) != 0) {
        continue;
      }
      bool withdrawn = false;
      for (const std::string& line : journal) {
        if (line.rfind("start " + name + " ", 0) == 0) {
          withdrawn = false;
        } else if (line == "withdraw " + name) {
          withdrawn = true;
        }
      }
      if (withdrawn) {
        continue;
      }
      registry::Instance route;
      route.app = instance.app;
      route.instance = instance.instance;
      route.address = HostPort{"127.0.0.1", static_cast<std::uint16_t>(20000 + out.size())};
      route.health = registry::Instance::Health::passing;
      out.push_back(route);
    }
    seen.push_back(out.size());
    return out;
  }

private:
  scheduler::memory::MemoryScheduler& m_scheduler;
};

} // namespace herald::cluster::test
