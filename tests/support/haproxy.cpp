#include "support/haproxy.hpp"

#include "herald/core/error.hpp"
#include "herald/render/haproxy_runtime.hpp"
#include "support/nginx.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <filesystem>
#include <sstream>
#include <vector>

namespace herald::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Haproxy::Haproxy(const TempDir& dir)
    : m_bin(find_program("haproxy")), m_port(free_port()), m_socket(dir.file("admin.sock")),
      m_pid_file(dir.file("haproxy.pid")), m_reloads(dir.file("reloads.log")),
      m_reload(dir.file("reload")) {
  if (m_bin.empty()) {
    skip("haproxy is not installed (Debian package haproxy)");
  }
  dir.write("reload", "#!/bin/sh\necho reload >> " + m_reloads + "\nexec kill -USR2 \"$(cat " +
                          m_pid_file + ")\"\n");
  fs::permissions(m_reload, fs::perms::owner_all);
}

Haproxy::~Haproxy() {
  if (m_process && m_process->running()) {
    m_process->signal(SIGTERM);
    m_process->wait(10s);
  }
}

void Haproxy::start(const std::string& config) {
  m_process = std::make_unique<Process>(
      std::vector<std::string>{m_bin, "-W", "-db", "-f", config, "-p", m_pid_file});
  INFO("haproxy: " << m_process->err());
  REQUIRE(eventually([&] { return port_open(m_port) && worker_pid() != 0; }, 10s));
}

std::string Haproxy::command(const std::string& line) const {
  try {
    return herald::render::stats_socket(m_socket, 5s)(line);
  } catch (const herald::Error&) {
    return "";
  }
}

long Haproxy::worker_pid() const {
  std::string info = command("show info");
  auto at = info.find("\nPid: ");
  return at == std::string::npos ? 0 : std::stol(info.substr(at + 6));
}

std::size_t Haproxy::reloads() const {
  return fs::exists(m_reloads) ? nonempty_lines(read_file(m_reloads)).size() : 0;
}

std::set<std::string> Haproxy::servers(const std::string& backend) const {
  std::set<std::string> out;
  for (const auto& line : nonempty_lines(command("show servers state " + backend))) {
    std::istringstream fields(line);
    std::string id, name, server_id, server_name;
    if (line[0] != '#' && fields >> id >> name >> server_id >> server_name) {
      out.insert(server_name);
    }
  }
  return out;
}

std::string Haproxy::check_status(const std::string& backend, const std::string& server) const {
  auto rows = nonempty_lines(command("show stat " + backend + " 4 -1"));
  if (rows.empty()) {
    return "";
  }
  auto split_csv = [](const std::string& row) {
    std::vector<std::string> out(1);
    for (char c : row) {
      if (c == ',') {
        out.emplace_back();
      } else {
        out.back().push_back(c);
      }
    }
    return out;
  };
  auto header = split_csv(rows[0]);
  auto column = std::find(header.begin(), header.end(), "check_status") - header.begin();
  for (std::size_t i = 1; i < rows.size(); ++i) {
    auto fields = split_csv(rows[i]);
    if (fields.size() > static_cast<std::size_t>(column) && fields[1] == server) {
      return fields[static_cast<std::size_t>(column)];
    }
  }
  return "";
}

std::set<std::string> Haproxy::bodies(int n, const std::string& host) const {
  std::set<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.insert(Nginx::http_get(m_port, host, "/"));
  }
  return out;
}

} // namespace herald::test
