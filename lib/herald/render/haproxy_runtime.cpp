#include "herald/render/haproxy_runtime.hpp"

#include "herald/core/error.hpp"
#include "herald/core/file.hpp"
#include "herald/core/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fmt/format.h>
#include <map>
#include <poll.h>
#include <set>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace herald::render {

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void throw_socket(const std::string& path, std::string_view what) {
  throw Error(ErrorKind::unavailable, fmt::format("haproxy stats socket {}: {}", path, what));
}

/// Milliseconds left until `deadline`, for poll(); 0 once it passed.
int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1 << 30));
}

/// Waits until `fd` is ready for `events` or `deadline` passes.
bool wait_ready(int fd, short events, Clock::time_point deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) {
      return true;
    }
    if (n == 0 || errno != EINTR) {
      return false;
    }
  }
}

std::string send_command(const std::string& path, const std::string& command,
                         std::chrono::milliseconds timeout) {
  for (char c : command) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == ';') {
      throw Error(ErrorKind::internal,
                  fmt::format("refusing to send {} to haproxy: it holds a control character or "
                              "';'",
                              quoted(command)));
    }
  }
  auto deadline = Clock::now() + timeout;
  FileDescriptor fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) {
    throw_socket(path, std::strerror(errno));
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() > k_max_socket_path) {
    throw_socket(path, "the path is longer than a unix socket path can be");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EAGAIN && errno != EINPROGRESS) {
      throw_socket(path, fmt::format("cannot connect: {}", std::strerror(errno)));
    }
    // A full backlog: a unix socket cannot finish the connect asynchronously, so try again.
    while (true) {
      if (remaining_ms(deadline) == 0) {
        throw_socket(path, "cannot connect: haproxy does not accept connections");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
        break;
      }
      if (errno != EAGAIN) {
        throw_socket(path, fmt::format("cannot connect: {}", std::strerror(errno)));
      }
    }
  }
  std::string request = command + "\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN && wait_ready(fd.get(), POLLOUT, deadline)) {
      continue;
    } else {
      throw_socket(path, fmt::format("sending {}: {}", quoted(command),
                                     n < 0 ? std::strerror(errno) : "connection closed"));
    }
  }
  std::string answer;
  char buffer[8192];
  while (true) {
    ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (n > 0) {
      answer.append(buffer, static_cast<std::size_t>(n));
      if (answer.size() > k_max_haproxy_answer) {
        throw_socket(path, fmt::format("the answer to {} is longer than {} bytes", quoted(command),
                                       k_max_haproxy_answer));
      }
      continue;
    }
    if (n == 0) {
      return answer;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno != EAGAIN || !wait_ready(fd.get(), POLLIN, deadline)) {
      throw_socket(path, errno == EAGAIN ? fmt::format("no answer to {} within {} ms",
                                                       quoted(command), timeout.count())
                                         : fmt::format("reading the answer to {}: {}",
                                                       quoted(command), std::strerror(errno)));
    }
  }
}

/// The answer as one escaped, bounded line for messages.
std::string describe_answer(std::string_view answer) {
  std::string_view text = trim(answer);
  if (text.empty()) {
    return "nothing";
  }
  if (text.size() > 300) {
    return quoted(text.substr(0, 300)) + "...";
  }
  return quoted(text);
}

/// Sends `command` and checks that the answer starts with `expected` (that it is empty when
/// `expected` is): haproxy answers commands that only change a state with an empty line.
std::string expect(const HaproxyCommand& send, const std::string& command,
                   std::string_view expected) {
  std::string answer = send(command);
  std::string_view text = trim(answer);
  bool ok = expected.empty() ? text.empty() : text.starts_with(expected);
  if (!ok) {
    throw Error(ErrorKind::failed,
                fmt::format("haproxy answered {} to \"{}\"", describe_answer(answer), command));
  }
  return answer;
}

std::string server_ref(const std::string& backend, const std::string& server) {
  return backend + "/" + server;
}

/// The column of `name` in the CSV header of `show stat`, or nullopt.
std::optional<std::size_t> column_of(const std::vector<std::string>& header,
                                     std::string_view name) {
  auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(it - header.begin());
}

/// Current plus queued sessions of each of `servers` (names) in `backend`, from `show stat
/// BACKEND 4 -1` (4: servers only, -1: all of them). A server missing from the answer counts 0:
/// `del server` will say what happened to it.
std::map<std::string, std::int64_t> sessions_of(const HaproxyCommand& send,
                                                const std::string& backend,
                                                const std::set<std::string>& servers) {
  std::string command = fmt::format("show stat {} 4 -1", backend);
  std::string answer = send(command);
  if (!answer.starts_with("# pxname,")) {
    throw Error(ErrorKind::failed,
                fmt::format("haproxy answered {} to \"{}\"", describe_answer(answer), command));
  }
  std::vector<std::string> lines = split(answer, '\n');
  std::vector<std::string> header = split(std::string_view(lines[0]).substr(2), ',');
  auto px = column_of(header, "pxname");
  auto sv = column_of(header, "svname");
  auto scur = column_of(header, "scur");
  auto qcur = column_of(header, "qcur");
  if (!px || !sv || !scur || !qcur) {
    throw Error(
        ErrorKind::failed,
        fmt::format("the answer to \"{}\" has no pxname, svname, scur or qcur column", command));
  }
  auto number = [](const std::string& text) {
    std::int64_t value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
  };
  std::map<std::string, std::int64_t> out;
  for (const auto& name : servers) {
    out[name] = 0;
  }
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> fields = split(lines[i], ',');
    std::size_t needed = std::max({*px, *sv, *scur, *qcur});
    if (fields.size() <= needed || fields[*px] != backend || servers.count(fields[*sv]) == 0) {
      continue;
    }
    out[fields[*sv]] = number(fields[*scur]) + number(fields[*qcur]);
  }
  return out;
}

void add_server(const HaproxyCommand& send, const std::string& backend,
                const HaproxyServer& server) {
  std::string ref = server_ref(backend, server.name);
  std::string command = fmt::format("add server {} {}", ref, server.address());
  for (const auto& option : server.options) {
    command += " " + option;
  }
  expect(send, command, "New server registered.");
  // A dynamic server starts in maintenance with its checks off (management.txt, "add server").
  if (server.checked()) {
    expect(send, "enable health " + ref, "");
  }
  expect(send, "enable server " + ref, "");
}

void readdress_server(const HaproxyCommand& send, const std::string& backend,
                      const HaproxyServer& server) {
  std::string command = fmt::format("set server {} addr {} port {}",
                                    server_ref(backend, server.name), server.ip, server.port);
  std::string answer = send(command);
  std::string_view text = trim(answer);
  // "IP changed from 'a' to 'b', port changed from '1' to '2' by 'stats socket command'", or
  // "no need to change the addr" when only the port moved.
  if (text.find("changed from") == std::string_view::npos &&
      !text.starts_with("no need to change")) {
    throw Error(ErrorKind::failed,
                fmt::format("haproxy answered {} to \"{}\"", describe_answer(answer), command));
  }
}

/// Drains, then deletes every removed server; see apply_runtime_plan().
void remove_servers(const HaproxyRuntimePlan& plan, const HaproxyCommand& send,
                    const RuntimeApplyOptions& options) {
  std::map<std::string, std::set<std::string>> removed; // backend -> servers
  for (const auto& b : plan.backends) {
    for (const auto& name : b.removed) {
      removed[b.backend].insert(name);
      expect(send, fmt::format("set server {} state drain", server_ref(b.backend, name)), "");
    }
  }
  if (removed.empty()) {
    return;
  }
  auto deadline = Clock::now() + options.drain_timeout;
  std::map<std::string, std::map<std::string, std::int64_t>> sessions;
  while (true) {
    bool busy = false;
    for (const auto& [backend, servers] : removed) {
      sessions[backend] = sessions_of(send, backend, servers);
      for (const auto& [name, count] : sessions[backend]) {
        busy = busy || count > 0;
      }
    }
    if (!busy || Clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(options.poll_interval);
  }
  for (const auto& [backend, servers] : removed) {
    for (const auto& name : servers) {
      std::string ref = server_ref(backend, name);
      expect(send, fmt::format("set server {} state maint", ref), "");
      if (sessions[backend][name] > 0) {
        expect(send, "shutdown sessions server " + ref, "");
      }
      // A connection shut down a moment ago may still be attached: ask again, briefly.
      for (int attempt = 1;; ++attempt) {
        std::string command = "del server " + ref;
        std::string answer = send(command);
        std::string_view text = trim(answer);
        if (text.starts_with("Server deleted.")) {
          break;
        }
        if (attempt >= 20 || text.find("still has connections") == std::string_view::npos) {
          throw Error(ErrorKind::failed, fmt::format("haproxy answered {} to \"{}\"",
                                                     describe_answer(answer), command));
        }
        expect(send, "shutdown sessions server " + ref, "");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
}

} // namespace

HaproxyCommand stats_socket(std::string path, std::chrono::milliseconds timeout) {
  return [path = std::move(path), timeout](const std::string& command) {
    return send_command(path, command, timeout);
  };
}

void apply_runtime_plan(const HaproxyRuntimePlan& plan, const HaproxyCommand& send,
                        const RuntimeApplyOptions& options) {
  for (const auto& b : plan.backends) {
    for (const auto& server : b.added) {
      add_server(send, b.backend, server);
    }
    for (const auto& server : b.readdressed) {
      readdress_server(send, b.backend, server);
    }
  }
  remove_servers(plan, send, options);
}

} // namespace herald::render
