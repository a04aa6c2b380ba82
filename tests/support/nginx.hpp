#pragma once

#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <memory>
#include <string>

namespace herald::test {

/// A real nginx run as the test user under a private prefix: the main nginx.conf (written here)
/// includes PREFIX/conf.d/*.conf inside `http {}`, which is where herald renders. Skips the test
/// when nginx is not installed. Stopped with SIGTERM (its master then stops the workers) on
/// destruction.
class Nginx {
public:
  explicit Nginx(const TempDir& dir);
  ~Nginx();
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;

  /// The port the rendered `server` blocks listen on (handed to templates as NGINX_PORT).
  int port() const { return m_port; }
  std::string conf_d() const { return m_prefix + "/conf.d"; }
  /// `nginx -s reload` of this instance, as a render --reload-cmd.
  std::string reload_cmd() const;
  /// `nginx -t` of the main config with the staged fragment `{{.src}}` in place of conf.d, as a
  /// render --check-cmd.
  std::string check_cmd() const { return m_prefix + "/check {{.src}}"; }
  /// Its error log so far.
  std::string error_log() const;

  /// Starts the master in the foreground (daemon off) and waits for its pid file.
  void start();

  /// `nginx -t` on a main config that includes `fragment` inside `http {}`; "" when it passes,
  /// otherwise nginx's complaint.
  std::string test_fragment(const std::string& fragment) const;

  /// GET `path` through nginx with the given Host header; the body, or "" when it failed.
  std::string get(const std::string& host = "127.0.0.1", const std::string& path = "/") const {
    return http_get(m_port, host, path);
  }

  /// One HTTP/1.0 GET to 127.0.0.1:`port` with a Host header; the body of a 200, else "".
  static std::string http_get(int port, const std::string& host, const std::string& path);

private:
  void write_main_conf(const std::string& path, const std::string& include) const;

  std::string m_bin;
  std::string m_prefix;
  int m_port;
  std::unique_ptr<Process> m_process;
};

} // namespace herald::test
