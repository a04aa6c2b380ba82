#include "herald/launch/idle.hpp"

#include "herald/launch/policy.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace herald::launch {

namespace {

constexpr std::size_t k_max_line = 16 * 1024;
constexpr std::size_t k_max_read = 4 * 1024 * 1024; ///< per call: a huge backlog waits

} // namespace

std::optional<std::string> app_of_log_line(std::string_view line, RoutingMode mode,
                                           std::string_view domain) {
  // "$msec $host $request_uri": three fields separated by single spaces; nginx escapes
  // control bytes and spaces in the URI and the host as \xHH, so neither holds a space.
  std::size_t first = line.find(' ');
  if (first == std::string_view::npos) {
    return std::nullopt;
  }
  std::size_t second = line.find(' ', first + 1);
  if (second == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view host = line.substr(first + 1, second - first - 1);
  std::string_view uri = line.substr(second + 1);
  if (std::size_t end = uri.find(' '); end != std::string_view::npos) {
    uri = uri.substr(0, end);
  }
  std::optional<std::string> app =
      mode == RoutingMode::path ? app_from_path(uri) : app_from_host(host, domain);
  if (!app || !valid_app_name(*app)) {
    return std::nullopt;
  }
  return app;
}

AccessLog::AccessLog(std::string path, RoutingMode mode, std::string domain)
    : m_path(std::move(path)), m_mode(mode), m_domain(std::move(domain)) {}

AccessLog::~AccessLog() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

bool AccessLog::reopen() {
  struct stat now {};
  if (::stat(m_path.c_str(), &now) != 0) {
    return m_fd >= 0; // gone for now: read what the open file still has
  }
  if (m_fd >= 0 && now.st_ino == m_inode && now.st_size >= m_offset) {
    return true;
  }
  if (m_fd >= 0) {
    ::close(m_fd);
    m_fd = -1;
  }
  int fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return false;
  }
  struct stat opened {};
  if (::fstat(fd, &opened) != 0 || !S_ISREG(opened.st_mode)) {
    ::close(fd);
    return false;
  }
  m_fd = fd;
  m_inode = opened.st_ino;
  // The first file is read from its end (what came before the launcher is not its to judge);
  // a rotated or truncated one from its start.
  m_offset = m_first ? opened.st_size : 0;
  m_first = false;
  m_partial.clear();
  return true;
}

std::vector<std::string> AccessLog::read_new() {
  std::vector<std::string> apps;
  if (!reopen()) {
    m_first = false; // created later: read from its start
    return apps;
  }
  std::set<std::string> seen;
  char buffer[64 * 1024];
  std::size_t total = 0;
  while (total < k_max_read) {
    ssize_t n = ::pread(m_fd, buffer, sizeof buffer, m_offset);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    m_offset += n;
    total += static_cast<std::size_t>(n);
    std::string_view chunk(buffer, static_cast<std::size_t>(n));
    while (!chunk.empty()) {
      std::size_t nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        if (m_partial.size() + chunk.size() <= k_max_line) {
          m_partial.append(chunk);
        } else {
          m_partial = std::string(1, '\0'); // too long: dropped up to its end
        }
        break;
      }
      std::string line = m_partial + std::string(chunk.substr(0, nl));
      m_partial.clear();
      chunk.remove_prefix(nl + 1);
      if (line.size() > k_max_line || line.find('\0') != std::string::npos) {
        continue;
      }
      if (auto app = app_of_log_line(line, m_mode, m_domain)) {
        if (seen.insert(*app).second) {
          apps.push_back(*app);
        }
      }
    }
  }
  return apps;
}

IdleTracker::IdleTracker(std::chrono::milliseconds idle) : m_idle(idle) {}

void IdleTracker::seen(const std::string& app, Clock::time_point now) {
  if (m_last.size() > 100000) {
    m_last.clear(); // a flood of names: start counting again rather than grow
  }
  m_last[app] = now;
}

std::vector<std::string> IdleTracker::idle(const std::vector<std::string>& running,
                                           Clock::time_point now) {
  std::vector<std::string> out;
  for (const std::string& app : running) {
    auto [it, added] = m_last.emplace(app, now);
    if (!added && now - it->second >= m_idle) {
      out.push_back(app);
    }
  }
  // Forget what no longer runs.
  std::erase_if(m_last, [&](const auto& entry) {
    return std::find(running.begin(), running.end(), entry.first) == running.end();
  });
  return out;
}

void IdleTracker::forget(const std::string& app) {
  m_last.erase(app);
}

} // namespace herald::launch
