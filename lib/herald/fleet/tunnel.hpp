#pragma once

#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace herald::fleet {

/// Where `--tunnel [USER@]HOST[:PORT]` leads.
struct TunnelDestination {
  std::string user; ///< empty: ssh decides (~/.ssh/config User, else the local user)
  std::string host; ///< name or address; an IPv6 address without brackets
  std::optional<std::uint16_t> port; ///< empty: ssh decides (~/.ssh/config Port, else 22)

  /// "core@10.0.0.1:2222", "[::1]:22", as given.
  std::string str() const;
};

/// Parses "[USER@]HOST[:PORT]" ("[V6]:PORT" for IPv6). Anything ssh could read as an option
/// (a leading '-'), whitespace or control characters are Error(usage) naming `what`.
TunnelDestination parse_tunnel_destination(std::string_view text, std::string_view what);

/// How the tunnel is set up.
struct TunnelOptions {
  TunnelDestination destination;
  /// What the forward reaches on the remote machine: a unix socket path ("/var/run/fleet.sock")
  /// or "HOST:PORT" (fleetd on TCP there).
  std::string remote = "/var/run/fleet.sock";
  /// StrictHostKeyChecking=yes; false accepts any host key without recording it (fleetctl's
  /// --strict-host-key-checking=false).
  bool strict_host_key_checking = true;
  /// UserKnownHostsFile; empty: ssh's own (~/.ssh/known_hosts).
  std::string known_hosts_file;
  /// Connecting and authenticating together may take this long (ssh's ConnectTimeout too).
  std::chrono::milliseconds timeout{10000};
  /// The ssh program and options put before herald's own (HERALD_SSH_COMMAND, split at spaces,
  /// as GIT_SSH_COMMAND): {"ssh", "-F", "/path/config"}.
  std::vector<std::string> ssh_command{"ssh"};
  /// Aborts the set-up wait with Error(cancelled).
  const StopToken* stop = nullptr;
};

/// The ssh command line for a tunnel whose local end is the unix socket `local_socket`:
/// `ssh -N -o ExitOnForwardFailure=yes -o BatchMode=yes ... -L LOCAL:REMOTE [-l USER] [-p PORT]
/// -- HOST`. The system's OpenSSH reads ~/.ssh/config and the agent as it always does.
std::vector<std::string> ssh_arguments(const TunnelOptions& options,
                                       const std::string& local_socket);

/// An SSH tunnel from a unix socket in a private temp dir to fleet on a remote machine, run by
/// the system's OpenSSH (`ssh -N -L`). The constructor returns once the local socket accepts
/// connections; the destructor stops ssh (SIGTERM, then SIGKILL) and removes the socket and its
/// directory. ssh runs in its own process group, so a Ctrl-C reaches herald, which then tears
/// the tunnel down in order; should herald die without a chance to, the kernel sends ssh a
/// SIGTERM (PR_SET_PDEATHSIG). Construct it on the thread that outlives its use (the kernel
/// signals ssh when that thread ends).
class SshTunnel {
public:
  /// Starts ssh and waits for the forward. A failure is Error(unavailable) with one line of
  /// ssh's own reason (its last line on stderr: "Host key verification failed.",
  /// "Permission denied (publickey).", "Connection refused"), or Error(config) when ssh is not
  /// installed; Error(cancelled) when `stop` fires meanwhile.
  explicit SshTunnel(TunnelOptions options);
  ~SshTunnel();
  SshTunnel(const SshTunnel&) = delete;
  SshTunnel& operator=(const SshTunnel&) = delete;

  /// The local end, e.g. "/tmp/herald-fleet-Ab12/fleet.sock".
  const std::string& local_socket() const { return m_socket; }

  /// "/var/run/fleet.sock on core@10.0.0.1 (ssh tunnel)", for messages.
  std::string describe() const;

  /// Why a request through the tunnel could not reach fleet, from what ssh said since (a forward
  /// that cannot connect on the remote side: "channel 2: open failed: connect failed: No such
  /// file or directory"), or that ssh has gone; nullopt when ssh said nothing of the kind.
  std::optional<Error> explain(const Error& failure) const;

  /// ssh's process id (for tests).
  pid_t pid() const { return m_pid; }

private:
  std::string ssh_said() const;
  void stop_ssh() noexcept;
  void remove_files() noexcept;

  TunnelOptions m_options;
  std::string m_dir;
  std::string m_socket;
  std::string m_log;
  pid_t m_pid = -1;
};

} // namespace herald::fleet
