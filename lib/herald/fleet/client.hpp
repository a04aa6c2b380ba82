#pragma once

#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/fleet/model.hpp"
#include "herald/http/client.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::fleet {

/// Explains a transport failure in terms the user knows (the ssh tunnel's own reason), or
/// returns nullopt to keep the original error.
using FailureExplainer = std::function<std::optional<Error>(const Error&)>;

/// Settings of one Client.
struct ClientOptions {
  std::chrono::milliseconds connect_timeout{3000};
  /// One request; fleetctl's --request-timeout (its default is 3 s, herald's 10 s since a list
  /// of many units over a tunnel takes longer).
  std::chrono::milliseconds request_timeout{10000};
  /// When set, a request in flight ends with Error(cancelled) as soon as a stop is requested.
  const StopToken* stop = nullptr;
  /// How the endpoint is named in messages ("unix:///var/run/fleet.sock", "/var/run/fleet.sock
  /// on core@10.0.0.1 (ssh tunnel)"); empty: the endpoint itself.
  std::string display;
  /// Consulted when a request cannot reach fleet at all.
  FailureExplainer explain_failure;
};

/// What a PUT of a unit did.
enum class PutOutcome {
  created, ///< 201: a new unit, or the unit replaced by different options
  updated  ///< 204: the desired state was set (or the same options were sent again)
};

/// A PUT /fleet/v1/units/NAME: options to create (or replace) the unit, and/or a desired state.
struct UnitPut {
  std::optional<std::vector<UnitOption>> options;
  std::optional<DesiredState> desired_state;
};

/// Which unit states list_states() returns (fleet filters exactly, server side).
struct StateFilter {
  std::string machine_id; ///< ?machineID=
  std::string unit_name;  ///< ?unitName=
};

/// A fleet API v1 client (the one fleetctl speaks with --endpoint) over a unix socket, TCP, or a
/// unix socket an SshTunnel forwards. Collections are read across every page (`nextPageToken`).
/// Errors carry fleet's own message (errors.hpp); transport failures are Error(unavailable).
/// Not thread-safe: give each thread its own Client (Connection::client()).
class Client {
public:
  Client(std::vector<http::Endpoint> endpoints, ClientOptions options);
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// GET /fleet/v1/units: every unit, sorted by name.
  std::vector<Unit> list_units();

  /// GET /fleet/v1/units/NAME; nullopt when fleet has no such unit.
  std::optional<Unit> get_unit(std::string_view name);

  /// PUT /fleet/v1/units/NAME. The name is checked as fleet checks it (Error(usage) with fleet's
  /// words) and option values are joined onto one line (join_continuation_lines) before they
  /// are sent. An empty put is Error(internal): fleet answers it with a 409.
  PutOutcome put_unit(std::string_view name, const UnitPut& put);

  /// DELETE /fleet/v1/units/NAME; false when there was no such unit. fleet answers before any
  /// agent has stopped it.
  bool delete_unit(std::string_view name);

  /// GET /fleet/v1/state: what systemd reports, one entry per unit per machine.
  std::vector<UnitState> list_states(const StateFilter& filter = {});

  /// GET /fleet/v1/machines.
  std::vector<Machine> list_machines();

  /// PATCH /fleet/v1/machines: sets (or, with an empty value, removes) metadata `key` of
  /// `machine_id` in fleet's own JSON-patch form ({"value": {"value": V}}; the documented
  /// plain-string form is refused by fleetd).
  void set_machine_metadata(std::string_view machine_id, std::string_view key,
                            std::optional<std::string_view> value);

  /// How the endpoint is named in messages.
  const std::string& display() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

/// The JSON body of a PUT for unit `name` (fleet's field names; option values as given).
std::string encode_put(std::string_view name, const UnitPut& put);

/// The path of unit `name` under /fleet/v1 ("/fleet/v1/units/web%401.service").
std::string unit_path(std::string_view name);

} // namespace herald::fleet
