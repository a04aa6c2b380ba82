#pragma once

#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <memory>
#include <string>
#include <vector>

namespace herald::test {

/// How a FleetDouble is started; the defaults make fleet's seconds into tens of milliseconds.
struct FleetDoubleOptions {
  /// Also (or, for herald, only) serve the API on a unix socket in a temp dir, as fleetd does on
  /// /var/run/fleet.sock. Control requests always go over TCP.
  bool unix_socket = false;
  /// "ID,IP,k=v;k=v" per machine; empty: the fixtures' two (1111..., role=web; 2222...,
  /// role=router).
  std::vector<std::string> machines;
  /// More arguments for fleet_double.py, e.g. {"--token-limit", "2"}.
  std::vector<std::string> extra_args;
};

/// The stateful fleet test double (tests/doubles/fleet_double.py) on a free 127.0.0.1 port,
/// for tests of herald's fleet client and unit commands; skips the test when python3 is missing.
class FleetDouble {
public:
  /// Starts the double and waits until it answers.
  explicit FleetDouble(FleetDoubleOptions options = {});
  ~FleetDouble();
  FleetDouble(const FleetDouble&) = delete;
  FleetDouble& operator=(const FleetDouble&) = delete;

  /// What herald's --endpoint takes: "unix:///tmp/.../fleet.sock" with unix_socket, else
  /// "http://127.0.0.1:PORT".
  std::string endpoint() const;
  /// The unix socket path ("" without unix_socket).
  const std::string& socket_path() const { return m_socket; }
  /// The TCP port it listens on.
  int port() const { return m_port; }

  /// GET of an API path ("/fleet/v1/units/x.service") over TCP; status and body.
  HttpReply get(const std::string& path) const;
  /// A request to a control endpoint ("fail?unit=web@*"); fails the test unless it answers 200.
  void control(const std::string& what, const std::string& method = "POST") const;
  /// Waits (up to 20 s) until no unit or agent has a change pending.
  void settle() const;
  /// Total API requests served so far (control requests not counted).
  int request_count() const;
  /// The double's log (its stderr), for failure messages.
  std::string log() const;

private:
  FleetDoubleOptions m_options;
  TempDir m_dir;
  std::string m_socket;
  int m_port = 0;
  std::unique_ptr<Process> m_process;
};

} // namespace herald::test
