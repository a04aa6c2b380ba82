#include "herald/cluster/status.hpp"

#include "herald/cluster/hash.hpp"
#include "herald/cluster/plan.hpp"

#include <algorithm>
#include <map>

namespace herald::cluster {

bool AppStatus::settled() const {
  return in_file && static_cast<int>(instances.size()) == desired && current == desired &&
         healthy == desired;
}

std::vector<AppStatus> cluster_status(const ClusterSpec* cluster,
                                      const std::vector<scheduler::Instance>& existing,
                                      RouteView& routes, const std::vector<std::string>& apps) {
  auto wanted = [&](const std::string& name) {
    return apps.empty() || std::find(apps.begin(), apps.end(), name) != apps.end();
  };
  std::vector<AppStatus> out;
  std::map<std::string, std::size_t> index;
  auto entry = [&](const std::string& name) -> AppStatus& {
    auto [it, added] = index.emplace(name, out.size());
    if (added) {
      out.push_back(AppStatus{});
      out.back().app = name;
    }
    return out[it->second];
  };
  if (cluster != nullptr) {
    for (const AppSpec& app : cluster->apps) {
      if (wanted(app.name)) {
        AppStatus& status = entry(app.name);
        status.in_file = true;
        status.desired = app.instances;
      }
    }
  }
  for (const scheduler::Instance& instance : existing) {
    if (wanted(instance.app)) {
      InstanceStatus row;
      row.instance = instance;
      entry(instance.app).instances.push_back(std::move(row));
    }
  }
  for (AppStatus& status : out) {
    std::sort(status.instances.begin(), status.instances.end(), [](const auto& a, const auto& b) {
      return instance_number_less(a.instance.instance, b.instance.instance);
    });
    const AppSpec* spec = cluster != nullptr ? cluster->app(status.app) : nullptr;
    std::string hash = spec != nullptr ? instance_hash(*spec) : std::string();
    std::vector<registry::Instance> registered = routes.registered(status.app);
    for (InstanceStatus& row : status.instances) {
      const scheduler::Instance& instance = row.instance;
      row.current = !hash.empty() && stamp_hash(instance.spec_hash) == hash;
      for (const registry::Instance& route : registered) {
        if (same_instance(route, instance)) {
          row.registered = true;
          row.healthy = row.healthy || routable(route);
          if (!row.address || routable(route)) {
            row.address = route.address;
          }
        }
      }
      status.running += instance.state == scheduler::State::running ? 1 : 0;
      status.current += row.current ? 1 : 0;
      status.registered += row.registered ? 1 : 0;
      status.healthy += row.healthy ? 1 : 0;
    }
  }
  return out;
}

} // namespace herald::cluster
