#pragma once

#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <map>
#include <memory>
#include <set>
#include <string>

namespace herald::test {

/// A real haproxy in master-worker mode (as Debian's unit runs it, without systemd) on a
/// rendered config, its stats socket in the test's directory. reload_cmd() is a script that
/// counts each reload in a file and sends the master SIGUSR2, the reload a unit's ExecReload
/// does: a new worker with a new pid. Skips the test when haproxy is not installed. Stopped with
/// SIGTERM (the master stops its worker) on destruction.
class Haproxy {
public:
  explicit Haproxy(const TempDir& dir);
  ~Haproxy();
  Haproxy(const Haproxy&) = delete;
  Haproxy& operator=(const Haproxy&) = delete;

  /// What the bundled haproxy templates read: where to bind and where the stats socket goes.
  std::map<std::string, std::string> env() const {
    return {{"HERALD_HAPROXY_BIND", "127.0.0.1:" + std::to_string(m_port)},
            {"HERALD_HAPROXY_SOCKET", m_socket}};
  }
  const std::string& bin() const { return m_bin; }
  int port() const { return m_port; }
  const std::string& socket() const { return m_socket; }
  std::string check_cmd() const { return m_bin + " -c -q -f {{.src}}"; }
  const std::string& reload_cmd() const { return m_reload; }

  /// Starts haproxy on `config` and waits until it serves and its socket answers.
  void start(const std::string& config);

  /// One command on the stats socket; "" when it cannot be reached.
  std::string command(const std::string& line) const;

  /// The pid of the worker answering the socket (`show info`), 0 when none answers. A reload
  /// starts a new worker, so an unchanged pid means no reload happened.
  long worker_pid() const;

  /// How many times reload_cmd ran.
  std::size_t reloads() const;

  /// The servers haproxy runs in `backend` (`show servers state`), by name.
  std::set<std::string> servers(const std::string& backend) const;

  /// The check_status column of `show stat` for BACKEND/SERVER ("L7OK" once checks pass).
  std::string check_status(const std::string& backend, const std::string& server) const;

  /// The bodies of `n` requests for `host`, as a set (round robin shows every server).
  std::set<std::string> bodies(int n, const std::string& host) const;

  /// What haproxy wrote so far (stderr: alerts and warnings).
  std::string log() const { return m_process ? m_process->err() : std::string(); }

private:
  std::string m_bin;
  int m_port;
  std::string m_socket;
  std::string m_pid_file;
  std::string m_reloads;
  std::string m_reload;
  std::unique_ptr<Process> m_process;
};

} // namespace herald::test
