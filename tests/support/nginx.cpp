#include "support/nginx.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace herald::test {

Nginx::Nginx(const TempDir& dir) : m_prefix(dir.file("nginx")), m_port(free_port()) {
  m_bin = find_program("nginx");
  if (m_bin.empty()) {
    skip("nginx is not installed (Debian package nginx-light)");
  }
  fs::create_directories(m_prefix + "/conf.d");
  fs::create_directories(m_prefix + "/tmp");
  write_main_conf(m_prefix + "/nginx.conf", m_prefix + "/conf.d/*.conf");
  // check_cmd: nginx -t on the main config with the staged fragment in place of conf.d.
  std::string check = m_prefix + "/check";
  dir.write("nginx/check", "#!/bin/sh\n"
                           "sed 's#include " +
                               m_prefix + "/conf.d/\\*.conf;#include '\"$1\"';#' " + m_prefix +
                               "/nginx.conf > " + m_prefix + "/check.conf || exit 1\n" + "exec " +
                               m_bin + " -q -t -p " + m_prefix + "/ -c " + m_prefix +
                               "/check.conf -e " + m_prefix + "/check-error.log\n");
  fs::permissions(check, fs::perms::owner_all);
}

Nginx::~Nginx() {
  if (m_process && m_process->running()) {
    m_process->signal(SIGTERM);
    m_process->wait(10s);
  }
}

std::string Nginx::reload_cmd() const {
  return m_bin + " -s reload -p " + m_prefix + "/ -c " + m_prefix + "/nginx.conf -e " + m_prefix +
         "/error.log";
}

std::string Nginx::error_log() const {
  return read_file(m_prefix + "/error.log");
}

void Nginx::start() {
  m_process = std::make_unique<Process>(std::vector<std::string>{
      m_bin, "-p", m_prefix + "/", "-c", m_prefix + "/nginx.conf", "-e", m_prefix + "/error.log"});
  INFO("nginx error.log: " << read_file(m_prefix + "/error.log"));
  REQUIRE(eventually([&] { return fs::exists(m_prefix + "/nginx.pid"); }, 10s));
}

std::string Nginx::test_fragment(const std::string& fragment) const {
  std::string conf = m_prefix + "/test.conf";
  write_main_conf(conf, fragment);
  auto r = run({m_bin, "-t", "-p", m_prefix + "/", "-c", conf, "-e", m_prefix + "/test.log"});
  return r.status == 0 ? std::string() : r.err + r.out;
}

std::string Nginx::http_get(int port, const std::string& host, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return "";
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    return "";
  }
  std::string reply;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) {
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  auto body = reply.find("\r\n\r\n");
  if (!reply.starts_with("HTTP/1.1 200") || body == std::string::npos) {
    return "";
  }
  return reply.substr(body + 4);
}

void Nginx::write_main_conf(const std::string& path, const std::string& include) const {
  std::string t = m_prefix + "/tmp/";
  std::string conf = std::string(::geteuid() == 0 ? "user root;\n" : "") +
                     "daemon off;\n"
                     "worker_processes 1;\n"
                     "pid " +
                     m_prefix + "/nginx.pid;\n" + "error_log " + m_prefix +
                     "/error.log warn;\n"
                     "events { worker_connections 512; }\n"
                     "http {\n"
                     "  access_log off;\n"
                     "  client_body_temp_path " +
                     t + "body;\n  proxy_temp_path " + t + "proxy;\n  fastcgi_temp_path " + t +
                     "fastcgi;\n  uwsgi_temp_path " + t + "uwsgi;\n  scgi_temp_path " + t +
                     "scgi;\n  include " + include + ";\n}\n";
  std::ofstream(path) << conf;
}

} // namespace herald::test
