#include "herald/cluster/units.hpp"

#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/fleet/model.hpp"
#include "herald/render/diff.hpp"
#include "herald/units/fleet_options.hpp"
#include "herald/units/unit_file.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <iterator>
#include <map>
#include <set>

namespace herald::cluster {

namespace {

std::string file_name(const ClusterSpec& cluster) {
  std::string_view source = cluster.source;
  std::size_t slash = source.rfind('/');
  std::string name(slash == std::string_view::npos ? source : source.substr(slash + 1));
  return name.empty() ? "the cluster file" : name;
}

/// `unit` with herald's mark, Global or not, and more X-Fleet lines.
ClusterUnit mark(const units::GeneratedUnit& unit, const std::string& owner, UnitRole role,
                 bool global, const std::vector<std::pair<std::string, std::string>>& fleet) {
  units::UnitFile file = units::UnitFile::parse(unit.text, unit.name);
  file.remove("Unit", scheduler::k_cluster_unit_key);
  file.add("Unit", scheduler::k_cluster_unit_key, owner);
  if (global) {
    file.set("X-Fleet", "Global", "true");
  } else if (role == UnitRole::router) {
    file.remove("X-Fleet", "Global"); // the generator writes every router Global
  }
  auto said = file.value("X-Fleet", "Global");
  global = said && (*said == "true" || *said == "True");
  for (const auto& [name, value] : fleet) {
    file.add("X-Fleet", name, value);
  }
  return {unit.name, file.emit(), owner, role, global};
}

void router_units(const RouterSpec& router, const units::UnitTemplates& templates,
                  const units::HostPaths& paths, std::vector<ClusterUnit>& out) {
  units::RouterSpec spec;
  spec.kind = router.kind;
  spec.listen = router.listen;
  spec.domain = router.domain;
  spec.metadata = router.metadata;
  spec.config_template = router.config_template;
  const std::string owner = "router " + router.name;
  auto add = [&](const std::string& name, bool global,
                 const std::vector<std::string>& others) -> void {
    spec.name = name;
    std::vector<units::GeneratedUnit> made;
    try {
      made = units::generate_router(spec, templates, paths);
    } catch (const Error& e) {
      throw Error(e.kind(), fmt::format("router {}: {}", herald::quoted(router.name), e.what()));
    }
    // generate_router writes the router, then its render unit; the render unit goes first.
    const units::GeneratedUnit& router_unit = made.at(0);
    const units::GeneratedUnit& render_unit = made.at(1);
    std::vector<std::pair<std::string, std::string>> router_fleet;
    std::vector<std::pair<std::string, std::string>> render_fleet;
    if (!global) {
      // Counted routers listen on the same port: one a machine; the render unit beside it.
      for (const std::string& other : others) {
        router_fleet.emplace_back("Conflicts", other + ".service");
      }
      render_fleet.emplace_back("MachineOf", router_unit.name);
    }
    out.push_back(mark(render_unit, owner, UnitRole::router, global, render_fleet));
    out.push_back(mark(router_unit, owner, UnitRole::router, global, router_fleet));
  };
  if (router.global) {
    add(router.name, true, {});
    return;
  }
  std::vector<std::string> names;
  for (int i = 1; i <= router.instances; ++i) {
    names.push_back(router.name + "-" + std::to_string(i));
  }
  for (const std::string& name : names) {
    std::vector<std::string> others;
    std::copy_if(names.begin(), names.end(), std::back_inserter(others),
                 [&](const std::string& n) { return n != name; });
    add(name, false, others);
  }
}

UnitRole role_of(const std::string& owner) {
  return owner.rfind("router ", 0) == 0 ? UnitRole::router : UnitRole::extra;
}

} // namespace

std::string_view to_string(UnitRole role) {
  return role == UnitRole::router ? "router" : "unit";
}

std::vector<ClusterUnit> cluster_units(const ClusterSpec& cluster,
                                       const units::UnitTemplates& templates,
                                       const units::HostPaths& paths) {
  std::vector<ClusterUnit> out;
  for (const ExtraUnit& unit : cluster.units) {
    out.push_back(mark({unit.name, unit.text}, "unit", UnitRole::extra, unit.global, {}));
  }
  for (const RouterSpec& router : cluster.routers) {
    router_units(router, templates, paths, out);
  }
  return out;
}

std::string canonical_unit_text(const std::string& text, const std::string& name) {
  return fleet::serialize_unit_file(
      fleet::normalize_options(units::to_fleet_options(units::UnitFile::parse(text, name))));
}

std::vector<UnitChange> plan_units(const ClusterSpec& cluster,
                                   const std::vector<ClusterUnit>& wanted,
                                   const std::vector<scheduler::UnitInfo>& existing, bool prune) {
  std::map<std::string, const scheduler::UnitInfo*> have;
  for (const scheduler::UnitInfo& unit : existing) {
    have[unit.name] = &unit;
  }
  const std::string file = file_name(cluster);
  std::vector<UnitChange> out;
  std::set<std::string> named;
  for (const ClusterUnit& unit : wanted) {
    named.insert(unit.name);
    UnitChange change;
    change.name = unit.name;
    change.owner = unit.owner;
    change.role = unit.role;
    change.global = unit.global;
    change.text = unit.text;
    const std::string after = canonical_unit_text(unit.text, unit.name);
    auto it = have.find(unit.name);
    std::string what = unit.role == UnitRole::router ? "router " + unit.owner.substr(7)
                                                     : std::string("extra unit");
    if (it == have.end()) {
      change.action = Action::create;
      change.reason = fmt::format("new {}{}", what, unit.global ? ", global" : "");
      change.diff = render::unified_diff("", after, "/dev/null", unit.name + " (" + file + ")");
      out.push_back(std::move(change));
      continue;
    }
    const scheduler::UnitInfo& now = *it->second;
    if (now.text != after) {
      change.action = Action::replace;
      change.reason = fmt::format("{} changed{}", unit.role == UnitRole::router ? "router" : "unit",
                                  unit.global ? " (every machine)" : "");
      change.diff = render::unified_diff(now.text, after, unit.name + " (fleet)",
                                         unit.name + " (" + file + ")");
      out.push_back(std::move(change));
    } else if (now.state == scheduler::State::stopped) {
      change.action = Action::start;
      change.reason = now.detail.empty() ? std::string("stopped") : escape_control(now.detail);
      out.push_back(std::move(change));
    }
  }
  if (!prune) {
    return out;
  }
  // What herald made and the file no longer has: routers go before extra units.
  std::vector<UnitChange> removals;
  for (const scheduler::UnitInfo& unit : existing) {
    if (named.count(unit.name) != 0) {
      continue;
    }
    UnitChange change;
    change.action = Action::remove;
    change.name = unit.name;
    change.owner = unit.owner;
    change.role = role_of(unit.owner);
    change.global = unit.global;
    change.reason = fmt::format("not in {}", file);
    change.diff = render::unified_diff(unit.text, "", unit.name + " (fleet)", "/dev/null");
    removals.push_back(std::move(change));
  }
  std::stable_sort(removals.begin(), removals.end(), [](const auto& a, const auto& b) {
    return a.role == UnitRole::router && b.role != UnitRole::router;
  });
  for (UnitChange& change : removals) {
    out.push_back(std::move(change));
  }
  return out;
}

bool UnitStatus::settled() const {
  return in_file && exists && current && unit.state == scheduler::State::running;
}

std::vector<UnitStatus> unit_status(const std::vector<ClusterUnit>& wanted,
                                    const std::vector<scheduler::UnitInfo>& existing) {
  std::map<std::string, const scheduler::UnitInfo*> have;
  for (const scheduler::UnitInfo& unit : existing) {
    have[unit.name] = &unit;
  }
  std::vector<UnitStatus> out;
  std::set<std::string> named;
  auto fill = [](UnitStatus& row, const scheduler::UnitInfo& unit) {
    row.unit = unit;
    row.exists = true;
    row.running = static_cast<int>(
        std::count_if(unit.placements.begin(), unit.placements.end(),
                      [](const auto& p) { return p.state == scheduler::State::running; }));
  };
  for (const ClusterUnit& unit : wanted) {
    named.insert(unit.name);
    UnitStatus row;
    row.unit.name = unit.name;
    row.unit.owner = unit.owner;
    row.unit.global = unit.global;
    row.role = unit.role;
    row.in_file = true;
    if (auto it = have.find(unit.name); it != have.end()) {
      fill(row, *it->second);
      row.current = it->second->text == canonical_unit_text(unit.text, unit.name);
    }
    out.push_back(std::move(row));
  }
  for (const scheduler::UnitInfo& unit : existing) {
    if (named.count(unit.name) == 0) {
      UnitStatus row;
      row.role = role_of(unit.owner);
      fill(row, unit);
      out.push_back(std::move(row));
    }
  }
  return out;
}

} // namespace herald::cluster
