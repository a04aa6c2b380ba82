#include "support/process.hpp"

#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace herald::test {

namespace {

std::string make_temp_file(const char* tag) {
  std::string templ = std::string("/tmp/herald-test-") + tag + "-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  int fd = ::mkstemp(buf.data());
  if (fd < 0) {
    throw std::runtime_error("mkstemp failed");
  }
  ::close(fd);
  return buf.data();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int decode_status(int raw) {
  if (WIFEXITED(raw)) {
    return WEXITSTATUS(raw);
  }
  if (WIFSIGNALED(raw)) {
    return 128 + WTERMSIG(raw);
  }
  return -1;
}

} // namespace

Process::Process(std::vector<std::string> argv, std::map<std::string, std::string> env) {
  m_out_path = make_temp_file("out");
  m_err_path = make_temp_file("err");
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos && env.count(entry.substr(0, eq)) != 0) {
      continue;
    }
    env_strings.push_back(entry);
  }
  for (const auto& [k, v] : env) {
    env_strings.push_back(k + "=" + v);
  }
  std::vector<char*> cargv;
  for (auto& a : argv) {
    cargv.push_back(a.data());
  }
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  for (auto& e : env_strings) {
    cenv.push_back(e.data());
  }
  cenv.push_back(nullptr);

  m_pid = ::fork();
  if (m_pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (m_pid == 0) {
    ::setpgid(0, 0);
    int out = ::open(m_out_path.c_str(), O_WRONLY | O_TRUNC);
    int err = ::open(m_err_path.c_str(), O_WRONLY | O_TRUNC);
    int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    // execvpe searches PATH for a bare program name ("tar"), as a shell would.
    ::execvpe(cargv[0], cargv.data(), cenv.data());
    std::fprintf(stderr, "exec %s: %s\n", cargv[0], std::strerror(errno));
    ::_exit(127);
  }
}

Process::Process(Process&& other) noexcept
    : m_pid(other.m_pid), m_status(other.m_status), m_out_path(std::move(other.m_out_path)),
      m_err_path(std::move(other.m_err_path)) {
  other.m_pid = -1;
}

Process::~Process() {
  if (m_pid > 0 && !m_status) {
    ::kill(m_pid, SIGKILL);
    int raw = 0;
    ::waitpid(m_pid, &raw, 0);
  }
  if (!m_out_path.empty()) {
    std::remove(m_out_path.c_str());
    std::remove(m_err_path.c_str());
  }
}

void Process::signal(int sig) const {
  if (m_pid > 0 && !m_status) {
    ::kill(m_pid, sig);
  }
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!m_status) {
    int raw = 0;
    pid_t r = ::waitpid(m_pid, &raw, WNOHANG);
    if (r == m_pid) {
      m_status = decode_status(raw);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    sleep_ms(5);
  }
  return m_status;
}

bool Process::running() {
  return !wait(std::chrono::milliseconds(0)).has_value();
}

std::string Process::out() const {
  return slurp(m_out_path);
}
std::string Process::err() const {
  return slurp(m_err_path);
}

RunResult run(std::vector<std::string> argv, std::map<std::string, std::string> env,
              std::chrono::milliseconds timeout) {
  Process p(std::move(argv), std::move(env));
  RunResult result;
  auto status = p.wait(timeout);
  if (!status) {
    p.signal(SIGKILL);
    p.wait(std::chrono::seconds(5));
  }
  result.status = status.value_or(-1);
  result.out = p.out();
  result.err = p.err();
  return result;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a free port");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string find_program(const std::string& name) {
  std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) {
      continue;
    }
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

std::vector<std::string> nonempty_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      out.push_back(line);
    }
  }
  return out;
}

void sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

void skip(const std::string& why) {
  std::fprintf(stderr, "SKIPPED: %s\n", why.c_str());
  std::fflush(stderr);
  std::_Exit(125);
}

std::string herald_bin() {
#ifdef HERALD_BIN
  return HERALD_BIN;
#else
  const char* env = std::getenv("HERALD_BIN");
  return env != nullptr ? env : "herald";
#endif
}

} // namespace herald::test

namespace herald::test {

HttpReply http_request(int port, const std::string& method, const std::string& path,
                       const std::string& body, int timeout_ms, const std::string& host) {
  HttpReply reply;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return reply;
  }
  std::string req =
      method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  std::size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return reply;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[8192];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto header_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || header_end == std::string::npos) {
    return reply;
  }
  reply.status = std::atoi(raw.c_str() + 9);
  std::string headers = raw.substr(0, header_end);
  std::string payload = raw.substr(header_end + 4);
  std::string lower;
  for (char c : headers) {
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (lower.find("transfer-encoding: chunked") != std::string::npos) {
    std::string decoded;
    std::size_t pos = 0;
    while (pos < payload.size()) {
      auto eol = payload.find("\r\n", pos);
      if (eol == std::string::npos) {
        break;
      }
      std::size_t size = std::strtoul(payload.substr(pos, eol - pos).c_str(), nullptr, 16);
      if (size == 0) {
        break;
      }
      decoded += payload.substr(eol + 2, size);
      pos = eol + 2 + size + 2;
    }
    payload = decoded;
  }
  reply.body = payload;
  return reply;
}

int wait_for_listening(Process& process, const std::string& what,
                       std::chrono::milliseconds timeout) {
  const std::string ready = "listening 127.0.0.1:";
  std::string out;
  bool said = eventually(
      [&] {
        out = process.out();
        return out.find('\n') != std::string::npos || !process.running();
      },
      timeout);
  if (!said || out.rfind(ready, 0) != 0) {
    std::string why = process.err();
    process.signal(SIGKILL);
    process.wait(std::chrono::seconds(5));
    throw std::runtime_error(what + " did not start: " + why);
  }
  return std::stoi(out.substr(ready.size()));
}

} // namespace herald::test
