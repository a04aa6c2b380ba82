#include "support/fleet_double.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace herald::test {

namespace {

constexpr auto k_start_timeout = std::chrono::seconds(30);

} // namespace

FleetDouble::FleetDouble(FleetDoubleOptions options) : m_options(std::move(options)) {
  std::string python = find_program("python3");
  if (python.empty()) {
    skip("python3 is not installed; the fleet test double (tests/doubles) needs it");
  }
  std::string script = HERALD_FLEET_DOUBLE;
  if (!std::filesystem::exists(script)) {
    throw std::runtime_error("fleet test double not found at " + script);
  }
  std::vector<std::string> argv{python, script, "--port", "0"};
  if (m_options.unix_socket) {
    m_socket = m_dir.file("fleet.sock");
    argv.insert(argv.end(), {"--unix", m_socket});
  }
  for (const std::string& machine : m_options.machines) {
    argv.insert(argv.end(), {"--machine", machine});
  }
  argv.insert(argv.end(), m_options.extra_args.begin(), m_options.extra_args.end());
  m_process = std::make_unique<Process>(argv);
  m_port = wait_for_listening(*m_process, "the fleet test double", k_start_timeout);
  bool answering =
      eventually([&] { return get("/fleet/v1/machines").status == 200; }, k_start_timeout);
  if (!answering) {
    throw std::runtime_error("the fleet test double on port " + std::to_string(m_port) +
                             " does not answer: " + m_process->err());
  }
  // The probe above is the test's, not herald's: request counts start from here.
  http_request(m_port, "POST", "/_double/reset-requests", "", 10000);
}

FleetDouble::~FleetDouble() {
  if (m_process) {
    m_process->signal(SIGTERM);
    if (!m_process->wait(std::chrono::seconds(5))) {
      m_process->signal(SIGKILL);
      m_process->wait(std::chrono::seconds(5));
    }
  }
}

std::string FleetDouble::endpoint() const {
  return m_socket.empty() ? "http://127.0.0.1:" + std::to_string(m_port) : "unix://" + m_socket;
}

HttpReply FleetDouble::get(const std::string& path) const {
  return http_request(m_port, "GET", path, "", 10000);
}

void FleetDouble::control(const std::string& what, const std::string& method) const {
  HttpReply reply = http_request(m_port, method, "/_double/" + what, "", 10000);
  if (reply.status != 200) {
    throw std::runtime_error("the fleet test double refused /_double/" + what + ": " +
                             std::to_string(reply.status) + " " + reply.body);
  }
}

void FleetDouble::settle() const {
  bool settled = eventually(
      [&] { return http_request(m_port, "GET", "/_double/settled", "", 10000).body == "true"; },
      std::chrono::seconds(20));
  if (!settled) {
    throw std::runtime_error("the fleet test double did not settle: " + log());
  }
}

int FleetDouble::request_count() const {
  HttpReply reply = http_request(m_port, "GET", "/_double/requests", "", 10000);
  return nlohmann::json::parse(reply.body).at("total").get<int>();
}

std::string FleetDouble::log() const {
  return m_process ? m_process->err() : std::string();
}

} // namespace herald::test
