#include "herald/cluster/spec.hpp"

#include <algorithm>

namespace herald::cluster {

int Quantity::resolve(int instances, bool round_up) const {
  if (!percent) {
    return value;
  }
  long long scaled = static_cast<long long>(instances) * value;
  return static_cast<int>(round_up ? (scaled + 99) / 100 : scaled / 100);
}

std::string Quantity::str() const {
  return std::to_string(value) + (percent ? "%" : "");
}

std::vector<std::pair<std::string, std::string>> AppSpec::environment() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const EnvFile& file : env_files) {
    for (const auto& var : file.vars) {
      units::assign_env(out, var.first, var.second);
    }
  }
  for (const auto& var : env) {
    units::assign_env(out, var.first, var.second);
  }
  return out;
}

const AppSpec* ClusterSpec::app(std::string_view name) const {
  auto it =
      std::find_if(apps.begin(), apps.end(), [&](const AppSpec& a) { return a.name == name; });
  return it == apps.end() ? nullptr : &*it;
}

std::string_view to_string(Routing routing) {
  switch (routing) {
  case Routing::host:
    return "host";
  case Routing::path:
    return "path";
  case Routing::none:
    return "none";
  }
  return "?";
}

std::string_view to_string(SchedulerKind kind) {
  return kind == SchedulerKind::fleet ? "fleet" : "docker";
}

} // namespace herald::cluster
