#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace herald::test {

/// A child process; killed (SIGKILL) and reaped when the object goes away.
class Process {
public:
  /// Starts `argv` with `env` added to (or overriding) the current environment. stdout and
  /// stderr go to files under a temp dir, readable with out()/err().
  Process(std::vector<std::string> argv, std::map<std::string, std::string> env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  Process(Process&& other) noexcept;

  pid_t pid() const { return m_pid; }
  /// Sends `sig`.
  void signal(int sig) const;
  /// Waits up to `timeout` for exit; returns the exit status (128+N for signal N) or nullopt.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  /// True while it has not exited.
  bool running();
  /// What it wrote so far.
  std::string out() const;
  std::string err() const;

private:
  pid_t m_pid = -1;
  std::optional<int> m_status;
  std::string m_out_path;
  std::string m_err_path;
};

/// The result of run().
struct RunResult {
  int status = -1; ///< exit status, 128+N for signal N, -1 on timeout (then killed)
  std::string out;
  std::string err;
};

/// Runs `argv` to completion (at most `timeout`) and returns its status and output.
RunResult run(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

/// True when a TCP connect to 127.0.0.1:`port` succeeds.
bool port_open(int port);

/// The absolute path of `name` on PATH (also /usr/sbin, /sbin), or "".
std::string find_program(const std::string& name);

/// The lines of `text` that are not empty, without their newlines.
std::vector<std::string> nonempty_lines(const std::string& text);

/// Sleeps `ms` milliseconds.
void sleep_ms(int ms);

/// Polls `predicate` every 20 ms until it is true or `timeout` passes; returns its last value.
template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (predicate()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    sleep_ms(20);
  }
}

/// Waits (up to `timeout`) for a test double started as `process` to print its first line,
/// "listening 127.0.0.1:PORT", and returns PORT; throws naming `what` and the double's stderr
/// when it exits or says something else first (the process is then killed).
int wait_for_listening(Process& process, const std::string& what,
                       std::chrono::milliseconds timeout);

/// Reports the current test as skipped (ctest SKIP_RETURN_CODE 125) and leaves the process.
[[noreturn]] void skip(const std::string& why);

/// The path of the herald binary under test.
std::string herald_bin();

} // namespace herald::test

namespace herald::test {

/// A plain HTTP/1.1 response read by http_request().
struct HttpReply {
  int status = 0; ///< 0 when the connection failed
  std::string body;
};

/// One HTTP request to 127.0.0.1:`port` over a fresh connection (Connection: close) with the
/// Host header `host`, for checking servers from tests without going through herald's own client.
HttpReply http_request(int port, const std::string& method, const std::string& path,
                       const std::string& body = "", int timeout_ms = 5000,
                       const std::string& host = "127.0.0.1");

} // namespace herald::test
