#include "herald/fleet/tunnel.hpp"

#include "herald/core/name.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace herald::fleet {

namespace {

constexpr auto k_poll = std::chrono::milliseconds(20);
constexpr auto k_term_grace = std::chrono::milliseconds(2000);
// The end of ssh's stderr is all a message needs; a hostile banner cannot make herald read more.
constexpr std::streamoff k_log_tail = 64 * 1024;

bool has_space_or_control(std::string_view text) {
  for (unsigned char c : text) {
    if (c <= ' ' || c == 0x7f) {
      return true;
    }
  }
  return false;
}

[[noreturn]] void bad_destination(std::string_view text, std::string_view what,
                                  std::string_view why) {
  throw Error(ErrorKind::usage, fmt::format("{}: invalid tunnel '{}': {}; expected "
                                            "[USER@]HOST[:PORT]",
                                            what, text, why));
}

/// `text` with control characters shown as \xNN: ssh relays what the remote side says.
std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool socket_accepts(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return false;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

/// True once `pid` has exited (without reaping it, so that later checks agree).
bool has_exited(pid_t pid) {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return true; // no such child any more
  }
  return info.si_pid == pid;
}

std::string make_private_dir() {
  std::string base = "/tmp";
  if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp == '/') {
    base = tmp;
  }
  std::string pattern = base + "/herald-fleet-XXXXXX";
  // mkdtemp creates the directory 0700: nobody else can reach the socket inside it.
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw Error(ErrorKind::config, fmt::format("cannot create a private directory for the ssh "
                                               "tunnel's socket under {}: {}",
                                               base, std::strerror(errno)));
  }
  return pattern;
}

} // namespace

std::string TunnelDestination::str() const {
  std::string out = user.empty() ? "" : user + "@";
  out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port) {
    out += fmt::format(":{}", *port);
  }
  return out;
}

TunnelDestination parse_tunnel_destination(std::string_view text, std::string_view what) {
  if (text.empty()) {
    bad_destination(text, what, "it is empty");
  }
  if (has_space_or_control(text)) {
    bad_destination(text, what, "it contains whitespace");
  }
  TunnelDestination out;
  std::string_view rest = text;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    out.user = std::string(rest.substr(0, at));
    rest.remove_prefix(at + 1);
    if (out.user.empty()) {
      bad_destination(text, what, "the user before '@' is empty");
    }
  }
  std::string_view port;
  if (rest.starts_with("[")) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) {
      bad_destination(text, what, "'[' without a closing ']'");
    }
    out.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        bad_destination(text, what, "expected ':PORT' after ']'");
      }
      port = after.substr(1);
    }
  } else if (rest.find(':') != rest.rfind(':')) {
    out.host = std::string(rest); // a bare IPv6 address, as fleetctl accepts it
  } else if (auto colon = rest.find(':'); colon != std::string_view::npos) {
    out.host = std::string(rest.substr(0, colon));
    port = rest.substr(colon + 1);
    if (port.empty()) {
      bad_destination(text, what, "the port after ':' is empty");
    }
  } else {
    out.host = std::string(rest);
  }
  if (out.host.empty()) {
    bad_destination(text, what, "the host is missing");
  }
  if (out.host.front() == '-' || (!out.user.empty() && out.user.front() == '-')) {
    bad_destination(text, what, "a host or user may not start with '-'");
  }
  if (!port.empty()) {
    out.port = parse_port(port, fmt::format("the port of {} '{}'", what, text));
  }
  return out;
}

std::vector<std::string> ssh_arguments(const TunnelOptions& options,
                                       const std::string& local_socket) {
  std::vector<std::string> argv = options.ssh_command;
  if (argv.empty()) {
    argv.emplace_back("ssh");
  }
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options.timeout +
                                                                  std::chrono::milliseconds(999));
  auto opt = [&argv](std::string setting) {
    argv.emplace_back("-o");
    argv.push_back(std::move(setting));
  };
  argv.emplace_back("-N"); // forward only, no remote command
  opt("ExitOnForwardFailure=yes");
  // No prompt may block a deploy script: keys come from the agent or ~/.ssh/config.
  opt("BatchMode=yes");
  opt(fmt::format("ConnectTimeout={}", std::max<long long>(1, seconds.count())));
  // A remote machine that vanishes mid-deploy is noticed instead of hanging the forward.
  opt("ServerAliveInterval=10");
  opt("ServerAliveCountMax=3");
  // A multiplexed master of the user's would carry the forward and outlive herald's ssh.
  opt("ControlMaster=no");
  opt("ControlPath=none");
  if (options.strict_host_key_checking) {
    opt("StrictHostKeyChecking=yes");
    if (!options.known_hosts_file.empty()) {
      opt("UserKnownHostsFile=" + options.known_hosts_file);
    }
  } else {
    // fleetctl's --strict-host-key-checking=false: any key, nothing recorded. OpenSSH with
    // "no" alone would still refuse forwarding for a key that changed.
    opt("StrictHostKeyChecking=no");
    opt("UserKnownHostsFile=/dev/null");
    opt("GlobalKnownHostsFile=/dev/null");
    opt("LogLevel=ERROR");
  }
  argv.emplace_back("-L");
  argv.push_back(local_socket + ":" + options.remote);
  if (!options.destination.user.empty()) {
    argv.emplace_back("-l");
    argv.push_back(options.destination.user);
  }
  if (options.destination.port) {
    argv.emplace_back("-p");
    argv.push_back(std::to_string(*options.destination.port));
  }
  argv.emplace_back("--");
  argv.push_back(options.destination.host);
  return argv;
}

SshTunnel::SshTunnel(TunnelOptions options) : m_options(std::move(options)) {
  m_dir = make_private_dir();
  m_socket = m_dir + "/fleet.sock";
  m_log = m_dir + "/ssh.log";
  try {
    std::vector<std::string> args = ssh_arguments(m_options, m_socket);
    std::vector<char*> argv;
    for (std::string& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);

    int log_fd = ::open(m_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    int exec_pipe[2] = {-1, -1};
    if (log_fd < 0 || null_fd < 0 || ::pipe2(exec_pipe, O_CLOEXEC) != 0) {
      int err = errno;
      for (int fd : {log_fd, null_fd, exec_pipe[0], exec_pipe[1]}) {
        if (fd >= 0) {
          ::close(fd);
        }
      }
      throw Error(ErrorKind::internal,
                  fmt::format("cannot prepare the ssh tunnel: {}", std::strerror(err)));
    }
    pid_t parent = ::getpid();
    m_pid = ::fork();
    if (m_pid == 0) {
      // The child: only async-signal-safe calls until exec.
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) {
        ::_exit(127);
      }
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP}) {
        ::sigaction(sig, &dfl, nullptr);
      }
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::dup2(null_fd, STDIN_FILENO);
      ::dup2(null_fd, STDOUT_FILENO);
      ::dup2(log_fd, STDERR_FILENO);
      ::execvp(argv[0], argv.data());
      int err = errno;
      [[maybe_unused]] auto n = ::write(exec_pipe[1], &err, sizeof(err));
      ::_exit(127);
    }
    int fork_errno = errno;
    ::close(exec_pipe[1]);
    ::close(log_fd);
    ::close(null_fd);
    if (m_pid < 0) {
      ::close(exec_pipe[0]);
      throw Error(ErrorKind::internal,
                  fmt::format("cannot start ssh: {}", std::strerror(fork_errno)));
    }
    int exec_errno = 0;
    ssize_t got = ::read(exec_pipe[0], &exec_errno, sizeof(exec_errno));
    ::close(exec_pipe[0]);
    if (got == static_cast<ssize_t>(sizeof(exec_errno))) {
      ::waitpid(m_pid, nullptr, 0);
      m_pid = -1;
      throw Error(exec_errno == ENOENT ? ErrorKind::config : ErrorKind::unavailable,
                  fmt::format("cannot run {} for --tunnel: {}{}", args.front(),
                              std::strerror(exec_errno),
                              exec_errno == ENOENT ? " (install openssh-client)" : ""));
    }

    auto deadline = std::chrono::steady_clock::now() + m_options.timeout;
    while (true) {
      if (socket_accepts(m_socket)) {
        return;
      }
      if (has_exited(m_pid)) {
        std::string said = ssh_said();
        throw Error(ErrorKind::unavailable,
                    fmt::format("ssh tunnel to {} failed: {}", m_options.destination.str(),
                                said.empty() ? "ssh exited without saying why" : said));
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        std::string said = ssh_said();
        throw Error(ErrorKind::unavailable,
                    fmt::format("ssh tunnel to {} not up within {} ms (--ssh-timeout){}{}",
                                m_options.destination.str(), m_options.timeout.count(),
                                said.empty() ? "" : ": ", said));
      }
      if (m_options.stop == nullptr) {
        std::this_thread::sleep_for(k_poll);
      } else if (m_options.stop->wait_for(k_poll)) {
        throw Error(ErrorKind::cancelled, "interrupted while the ssh tunnel was being set up");
      }
    }
  } catch (...) {
    stop_ssh();
    remove_files();
    throw;
  }
}

SshTunnel::~SshTunnel() {
  stop_ssh();
  remove_files();
}

std::string SshTunnel::describe() const {
  return fmt::format("{} on {} (ssh tunnel)", m_options.remote, m_options.destination.str());
}

std::string SshTunnel::ssh_said() const {
  std::ifstream in(m_log, std::ios::binary);
  if (!in) {
    return {};
  }
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  in.seekg(size > k_log_tail ? size - k_log_tail : 0);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(buffer, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
      line.pop_back();
    }
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  if (lines.empty()) {
    return {};
  }
  std::string last = lines.back();
  // "Host key verification failed." alone does not say whether the key is unknown or changed:
  // the line before it does.
  if (last == "Host key verification failed." && lines.size() > 1) {
    last += " (" + lines[lines.size() - 2] + ")";
  }
  return printable(last);
}

std::optional<Error> SshTunnel::explain(const Error& failure) const {
  if (m_pid > 0 && has_exited(m_pid)) {
    std::string said = ssh_said();
    return Error(ErrorKind::unavailable,
                 fmt::format("the ssh tunnel to {} is gone{}{}", m_options.destination.str(),
                             said.empty() ? "" : ": ", said));
  }
  std::string said = ssh_said();
  if (said.find("open failed") != std::string::npos) {
    return Error(ErrorKind::unavailable,
                 fmt::format("fleet does not answer at {}: ssh: {}", describe(), said));
  }
  static_cast<void>(failure);
  return std::nullopt;
}

void SshTunnel::stop_ssh() noexcept {
  if (m_pid <= 0) {
    return;
  }
  ::kill(m_pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + k_term_grace;
  while (::waitpid(m_pid, nullptr, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, nullptr, 0);
      break;
    }
    ::usleep(5000);
  }
  m_pid = -1;
}

void SshTunnel::remove_files() noexcept {
  if (m_dir.empty()) {
    return;
  }
  ::unlink(m_socket.c_str());
  ::unlink(m_log.c_str());
  ::rmdir(m_dir.c_str());
}

} // namespace herald::fleet
