#pragma once

// The fleet backend: an instance is the unit APP@INSTANCE.service (a Docker container, from
// unit_templates/app@.service.tmpl through units::generate_app, as `herald unit gen` writes it)
// and its sidekick APP-discovery@INSTANCE.service (`herald announce --docker ... --follow`,
// MachineOf the instance). start() submits the templates APP@.service and
// APP-discovery@.service when fleet lacks them or has other options, then PUTs the instance and
// its sidekick with their own options and desiredState launched. A unit fleet refuses (400/409:
// requirements it cannot meet together, a line too long) is Error(failed) with fleet's words.
//
// The spec hash is the [Unit] line `X-Herald-Spec=HASH` of the instance unit (systemd ignores
// X- keys); `X-Herald-Image=` and, for a fixed host port, `X-Herald-Host-Port=` ride along. list()
// reports the instance units that carry X-Herald-Spec. Placement becomes [X-Fleet]: spread ->
// Conflicts=APP@*.service, conflicts -> more Conflicts=, metadata -> MachineMetadata=,
// machine_of -> MachineOf=. Health check interval/timeout/rise/fall and the registry URL/prefix
// become flags of the sidekick's `herald announce`; tags and meta its --tag / --meta.
//
// States from fleet (desiredState, the machine it is scheduled to) and systemd (GET /state):
// active -> running, activating -> starting, deactivating -> stopping, failed -> failed,
// inactive -> starting while launched (systemd has not picked it up) and stopped otherwise; a
// launched unit no machine reports is starting when scheduled and pending (with fleet's reason)
// when not. fleet's API carries no journal: logs() is empty (`fleetctl journal` reads it).
//
// Units beside the instances (routers, extra units) are plain fleet units carrying the [Unit]
// line X-Herald-Cluster-Unit=; put_unit() PUTs their options launched (fleet replaces a unit
// whose options differ, on every machine of a Global one), list_units() reports them with a
// state per machine from /state.

#include "herald/fleet/client.hpp"
#include "herald/fleet/connection.hpp"
#include "herald/scheduler/scheduler.hpp"
#include "herald/units/generate.hpp"

#include <memory>
#include <string>
#include <vector>

namespace herald::scheduler::fleet {

/// The [Unit] key that records the spec hash.
inline constexpr const char* k_spec_key = "X-Herald-Spec";

/// The instance unit of `name`: "web@1.service".
std::string instance_unit(const InstanceName& name);
/// Its sidekick: "web-discovery@1.service".
std::string sidekick_unit(const InstanceName& name);

/// The units start() submits for `spec`, in order: APP@.service, APP-discovery@.service (the
/// templates), then APP@INSTANCE.service and APP-discovery@INSTANCE.service (their options, to
/// be launched). Error(usage) naming the field for what the unit generator refuses.
struct SpecUnits {
  std::string name; ///< unit name
  std::vector<herald::fleet::UnitOption> options;
};
std::vector<SpecUnits> spec_units(const InstanceSpec& spec, const units::UnitTemplates& templates,
                                  const units::HostPaths& paths);

/// The Instance fleet's view of `unit` describes; see the header comment for the states.
Instance instance_of(const herald::fleet::Unit& unit,
                     const std::vector<herald::fleet::UnitState>& states,
                     const std::vector<herald::fleet::Machine>& machines,
                     const std::vector<herald::fleet::Unit>& units);

/// The UnitInfo fleet's view of `unit` describes (see the header comment).
UnitInfo unit_info_of(const herald::fleet::Unit& unit,
                      const std::vector<herald::fleet::UnitState>& states,
                      const std::vector<herald::fleet::Machine>& machines,
                      const std::vector<herald::fleet::Unit>& units);

/// A Scheduler over a fleet cluster through herald's fleet client.
class FleetScheduler final : public Scheduler {
public:
  /// `connection` is kept (with its ssh tunnel) for the scheduler's life.
  FleetScheduler(std::unique_ptr<herald::fleet::Connection> connection,
                 units::UnitTemplates templates, units::HostPaths paths);

  std::string_view backend() const override { return "fleet"; }
  std::string describe() const override;

  std::vector<Instance> list(std::string_view app = {}) override;
  void start(const InstanceSpec& spec) override;
  bool stop(const InstanceName& name, std::chrono::seconds grace) override;
  bool remove(const InstanceName& name) override;
  bool withdraw(const InstanceName& name) override;
  std::vector<std::string> logs(const InstanceName& name, std::size_t lines) override;
  std::vector<Machine> machines() override;

  bool runs_units() const override { return true; }
  std::vector<UnitInfo> list_units() override;
  void put_unit(const UnitSpec& unit) override;
  bool remove_unit(const std::string& name) override;

private:
  herald::fleet::Unit existing(const InstanceName& name);

  std::unique_ptr<herald::fleet::Connection> m_connection;
  herald::fleet::Client m_client;
  units::UnitTemplates m_templates;
  units::HostPaths m_paths;
};

} // namespace herald::scheduler::fleet
