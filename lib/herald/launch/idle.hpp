#pragma once

// Idle expiry for `herald launch serve --idle-stop DUR`: which apps requests went to, read from
// the router's access log in the format the bundled nginx templates write when
// HERALD_ACCESS_LOG is set (`log_format herald_launch '$msec $host $request_uri';`), and the
// apps started on demand that had none for DUR, stopped.

#include "herald/launch/server.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace herald::launch {

/// Follows an access log as `tail -F` does: from its end when first opened, again from the start
/// of a new file when it was rotated (another inode) or truncated. Lines it cannot read are
/// skipped; a line longer than 16 KiB is dropped.
class AccessLog {
public:
  AccessLog(std::string path, RoutingMode mode, std::string domain);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  /// The apps of the lines appended since the last call (valid names only, each once); empty
  /// while the file does not exist.
  std::vector<std::string> read_new();

private:
  bool reopen();

  std::string m_path;
  RoutingMode m_mode;
  std::string m_domain;
  int m_fd = -1;
  ino_t m_inode = 0;
  off_t m_offset = 0;
  bool m_first = true;
  std::string m_partial;
};

/// The app a line of the herald_launch format names: "1733600000.123 HOST URI".
std::optional<std::string> app_of_log_line(std::string_view line, RoutingMode mode,
                                           std::string_view domain);

/// Decides which apps started on demand are idle.
class IdleTracker {
public:
  using Clock = std::chrono::steady_clock;
  explicit IdleTracker(std::chrono::milliseconds idle);

  /// A request for `app` at `now`.
  void seen(const std::string& app, Clock::time_point now);
  /// Of `running` (the apps started on demand that run), those without a request for the idle
  /// time at `now`. An app seen for the first time here counts from `now`.
  std::vector<std::string> idle(const std::vector<std::string>& running, Clock::time_point now);
  /// Forgets `app` (stopped).
  void forget(const std::string& app);

private:
  std::chrono::milliseconds m_idle;
  std::map<std::string, Clock::time_point> m_last;
};

} // namespace herald::launch
