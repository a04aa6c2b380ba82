#pragma once

#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <memory>
#include <string>
#include <vector>

namespace herald::test {

/// How a ConsulDouble is started; the defaults trade Consul's slow timers for short tests.
struct ConsulDoubleOptions {
  /// Non-empty: ACLs on and this token may do everything (handed over in a file, not argv).
  std::string acl_token;
  /// With ACLs on, a token that may only read (writes get 403 "Permission denied: ...").
  std::string acl_read_token;
  /// Seconds DeregisterCriticalServiceAfter is raised to (real Consul: 60).
  double deregister_min_seconds = 0;
  /// Seconds between reaper runs (real Consul: 30).
  double reaper_interval_seconds = 0.1;
  /// Answer like Consul <= 1.10: unknown check -> 500, deregistering an unknown service -> 200.
  bool legacy_agent = false;
  /// More arguments for consul_double.py, e.g. {"--node-name", "n2"}.
  std::vector<std::string> extra_args;
};

/// The stateful Consul test double (tests/doubles/consul_double.py) on a free 127.0.0.1 port,
/// for tests of herald's Consul backend; skips the test when python3 is missing.
class ConsulDouble {
public:
  /// Starts the double and waits until it answers.
  explicit ConsulDouble(ConsulDoubleOptions options = {});
  ~ConsulDouble();
  ConsulDouble(const ConsulDouble&) = delete;
  ConsulDouble& operator=(const ConsulDouble&) = delete;

  /// "consul://127.0.0.1:PORT", the registry URL herald takes.
  std::string url() const;
  /// "http://127.0.0.1:PORT", for requests that bypass herald.
  std::string http_url() const;
  /// The TCP port it listens on; kept across restart().
  int port() const { return m_port; }

  /// Stops and starts again on the same port: all state is lost and indexes start low again,
  /// like a Consul dev agent that was restarted.
  void restart();
  /// Stops the double (SIGTERM); connections are refused until start().
  void stop();
  /// Starts it again after stop(), on the same port, and waits until it answers.
  void start();
  /// Makes the cluster lose (false) or regain (true) its leader: reads then answer 500
  /// "No cluster leader" and /v1/status/leader "".
  void set_leader(bool present);
  /// The double's request log (its stderr), for failure messages.
  std::string log() const;

private:
  std::vector<std::string> command() const;

  ConsulDoubleOptions m_options;
  std::string m_python;
  std::string m_script;
  TempDir m_dir;
  std::string m_token_file;
  std::string m_last_log;
  int m_port = 0;
  std::unique_ptr<Process> m_process;
};

} // namespace herald::test
