#include "support/consul_double.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace herald::test {

namespace {

constexpr auto k_start_timeout = std::chrono::seconds(20);

std::string seconds_arg(double seconds) {
  std::ostringstream out;
  out << seconds;
  return out.str();
}

} // namespace

ConsulDouble::ConsulDouble(ConsulDoubleOptions options) : m_options(std::move(options)) {
  m_python = find_program("python3");
  if (m_python.empty()) {
    skip("python3 is not installed; the Consul test double (tests/doubles) needs it");
  }
  m_script = HERALD_CONSUL_DOUBLE;
  if (!std::filesystem::exists(m_script)) {
    throw std::runtime_error("Consul test double not found at " + m_script);
  }
  if (!m_options.acl_token.empty()) {
    m_token_file = m_dir.write("acl-token", m_options.acl_token + "\n");
  }
  start();
}

ConsulDouble::~ConsulDouble() {
  if (m_process) {
    m_process->signal(SIGKILL);
    m_process->wait(std::chrono::seconds(5));
  }
}

std::string ConsulDouble::url() const {
  return "consul://127.0.0.1:" + std::to_string(m_port);
}

std::string ConsulDouble::http_url() const {
  return "http://127.0.0.1:" + std::to_string(m_port);
}

std::vector<std::string> ConsulDouble::command() const {
  // Port 0 on the first start lets the double pick a port nobody can take in between; later
  // starts reuse it so the URL handed to herald stays valid across restart().
  std::vector<std::string> argv{m_python,
                                m_script,
                                "--port",
                                std::to_string(m_port),
                                "--deregister-min",
                                seconds_arg(m_options.deregister_min_seconds),
                                "--reaper-interval",
                                seconds_arg(m_options.reaper_interval_seconds)};
  if (!m_token_file.empty()) {
    argv.insert(argv.end(), {"--acl-token-file", m_token_file});
  }
  if (!m_options.acl_read_token.empty()) {
    argv.insert(argv.end(), {"--acl-read-token", m_options.acl_read_token});
  }
  if (m_options.legacy_agent) {
    argv.emplace_back("--legacy-agent");
  }
  argv.insert(argv.end(), m_options.extra_args.begin(), m_options.extra_args.end());
  return argv;
}

void ConsulDouble::start() {
  if (m_process && m_process->running()) {
    return;
  }
  m_process = std::make_unique<Process>(command());
  m_port = wait_for_listening(*m_process, "the Consul test double", k_start_timeout);
  bool answering = eventually(
      [&] { return http_request(m_port, "GET", "/v1/status/leader", "", 1000).status == 200; },
      k_start_timeout);
  if (!answering) {
    throw std::runtime_error("the Consul test double on port " + std::to_string(m_port) +
                             " does not answer: " + m_process->err());
  }
}

void ConsulDouble::stop() {
  if (!m_process) {
    return;
  }
  m_process->signal(SIGTERM);
  if (!m_process->wait(std::chrono::seconds(5))) {
    m_process->signal(SIGKILL);
    m_process->wait(std::chrono::seconds(5));
  }
  m_last_log += m_process->err();
  m_process.reset();
}

void ConsulDouble::restart() {
  stop();
  start();
}

void ConsulDouble::set_leader(bool present) {
  auto reply = http_request(m_port, "PUT",
                            std::string("/_double/leader?present=") + (present ? "true" : "false"));
  if (reply.status != 200) {
    throw std::runtime_error("the Consul test double refused the leader change: " + reply.body);
  }
}

std::string ConsulDouble::log() const {
  return m_last_log + (m_process ? m_process->err() : std::string());
}

} // namespace herald::test
