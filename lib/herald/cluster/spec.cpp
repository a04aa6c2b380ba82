#include "herald/cluster/spec.hpp"

#include "herald/units/checks.hpp"

#include <algorithm>
#include <set>

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

namespace {

constexpr std::string_view k_placeholder = "{name}";

std::string substitute(std::string_view text, std::string_view name) {
  std::string out;
  std::size_t at = 0;
  while (true) {
    std::size_t next = text.find(k_placeholder, at);
    out.append(text.substr(at, next == std::string_view::npos ? next : next - at));
    if (next == std::string_view::npos) {
      return out;
    }
    out.append(name);
    at = next + k_placeholder.size();
  }
}

} // namespace

bool AppSpec::is_template() const {
  return name.find(k_placeholder) != std::string::npos;
}

std::optional<AppSpec> AppSpec::instantiate(std::string_view app_name) const {
  if (!is_template()) {
    return app_name == name ? std::optional<AppSpec>(*this) : std::nullopt;
  }
  std::size_t at = name.find(k_placeholder);
  std::string_view prefix = std::string_view(name).substr(0, at);
  std::string_view suffix = std::string_view(name).substr(at + k_placeholder.size());
  if (app_name.size() <= prefix.size() + suffix.size() || !app_name.starts_with(prefix) ||
      !app_name.ends_with(suffix) || units::app_name_problem(app_name)) {
    return std::nullopt;
  }
  std::string_view part =
      app_name.substr(prefix.size(), app_name.size() - prefix.size() - suffix.size());
  AppSpec out = *this;
  out.name = std::string(app_name);
  out.image = substitute(image, part);
  if (units::image_problem(out.image)) {
    return std::nullopt;
  }
  for (auto& var : out.env) {
    var.second = substitute(var.second, part);
  }
  for (EnvFile& file : out.env_files) {
    for (auto& var : file.vars) {
      var.second = substitute(var.second, part);
    }
  }
  out.on_demand = true;
  return out;
}

std::optional<AppSpec> ClusterSpec::launchable(std::string_view name) const {
  if (const AppSpec* exact = app(name)) {
    return exact->on_demand ? std::optional<AppSpec>(*exact) : std::nullopt;
  }
  for (const AppSpec& candidate : apps) {
    if (candidate.is_template()) {
      if (auto made = candidate.instantiate(name)) {
        return made;
      }
    }
  }
  return std::nullopt;
}

ClusterSpec ClusterSpec::with_on_demand(const std::vector<std::string>& existing_apps) const {
  std::set<std::string, std::less<>> exists(existing_apps.begin(), existing_apps.end());
  ClusterSpec out = *this;
  out.apps.clear();
  for (const AppSpec& spec : apps) {
    if (!spec.is_template() && (!spec.on_demand || exists.count(spec.name) != 0)) {
      out.apps.push_back(spec);
    }
  }
  for (const std::string& name : exists) {
    if (app(name) == nullptr) {
      if (auto made = launchable(name)) {
        out.apps.push_back(std::move(*made));
      }
    }
  }
  return out;
}

const AppSpec* ClusterSpec::app(std::string_view name) const {
  auto it = std::find_if(apps.begin(), apps.end(),
                         [&](const AppSpec& a) { return a.name == name && !a.is_template(); });
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
