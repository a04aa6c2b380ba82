#include "herald/announce/probe.hpp"
#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "support/listener.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace herald;
using namespace herald::announce;
using herald::test::Listener;
using namespace std::chrono_literals;

namespace {

/// A cpp-httplib server on 127.0.0.1 whose /health answers with `status`.
class HealthServer {
public:
  HealthServer() {
    m_server.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
      res.status = status.load();
      if (res.status == 302) {
        res.set_header("Location", "/elsewhere");
      }
      res.set_content("health", "text/plain");
    });
    // A body that never ends, as a metrics or log endpoint mistaken for a health check.
    m_server.Get("/stream", [this](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [this](size_t, httplib::DataSink& sink) {
        static const std::string chunk(64 * 1024, 'x');
        if (!sink.write(chunk.data(), chunk.size())) {
          return false;
        }
        streamed += chunk.size();
        return streamed.load() < (std::size_t{1} << 30); // a bound for the test, never reached
      });
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    REQUIRE(m_port > 0);
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    for (int i = 0; i < 500 && !m_server.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ~HealthServer() {
    m_server.stop();
    m_thread.join();
  }

  std::atomic<int> status{200};
  std::atomic<std::size_t> streamed{0};
  int port() const { return m_port; }
  std::string url(const std::string& path = "/health") const {
    return "http://127.0.0.1:" + std::to_string(m_port) + path;
  }

private:
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
};

ErrorKind kind_of_http_probe(const std::string& url) {
  try {
    make_http_probe(url, 1s);
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorKind::internal;
}

} // namespace

TEST_SUITE_BEGIN("announce");

TEST_CASE("probe settings default to haproxy's interval, rise and fall") {
  auto s = parse_probe_settings("2s", "1s", 2, 3);
  CHECK(s.interval == 2s);
  CHECK(s.timeout == 1s);
  CHECK(s.rise == 2);
  CHECK(s.fall == 3);
  ProbeSettings defaults;
  CHECK(defaults.interval == s.interval);
  CHECK(defaults.timeout == s.timeout);
}

TEST_CASE("bad probe settings are usage errors naming the flag") {
  auto message = [](auto fn) -> std::string {
    try {
      fn();
    } catch (const Error& e) {
      return e.kind() == ErrorKind::usage ? e.what() : "wrong kind";
    }
    return "";
  };
  CHECK(message([] { parse_probe_settings("often", "1s", 2, 3); }).find("--check-interval") !=
        std::string::npos);
  CHECK(message([] { parse_probe_settings("2s", "0s", 2, 3); }).find("--check-timeout") !=
        std::string::npos);
  CHECK(message([] { parse_probe_settings("1s", "2s", 2, 3); }).find("--check-interval 1s") !=
        std::string::npos);
  CHECK(message([] { parse_probe_settings("2s", "1s", 0, 3); }).find("--rise") !=
        std::string::npos);
  CHECK(message([] { parse_probe_settings("2s", "1s", 2, -1); }).find("--fall") !=
        std::string::npos);
}

TEST_CASE("an http probe with another scheme than http or https is a usage error") {
  try {
    make_http_probe("ftp://127.0.0.1/health", 1s);
    FAIL("expected a usage error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    CHECK(std::string(e.what()).find("ftp://127.0.0.1/health") != std::string::npos);
    CHECK(std::string(e.what()).find("http://") != std::string::npos);
  }
  CHECK(kind_of_http_probe("127.0.0.1:8080/health") == ErrorKind::usage);
  CHECK(kind_of_http_probe("http:///health") == ErrorKind::usage);
  CHECK(kind_of_http_probe("http://127.0.0.1:99999/") == ErrorKind::usage);
  CHECK(kind_of_http_probe("http://user:secret@127.0.0.1/") == ErrorKind::usage);
  CHECK(make_http_probe("HTTPS://example.invalid/health", 1s)->describe() ==
        "HTTPS://example.invalid/health");
}

TEST_CASE("a --check-http path is checked at the announced address, a URL as it is") {
  CHECK(check_url_for("/health", HostPort{"10.0.0.5", 32768}) == "http://10.0.0.5:32768/health");
  CHECK(check_url_for("/", HostPort{"::1", 80}) == "http://[::1]:80/");
  CHECK(check_url_for("https://example.com/up", HostPort{"10.0.0.5", 1}) ==
        "https://example.com/up");
}

TEST_CASE("an http probe passes on 2xx and 3xx and fails on 5xx or a closed port") {
  HealthServer server;
  auto probe = make_http_probe(server.url(), 1s);
  CHECK(probe->describe() == server.url());
  CHECK(probe->check().passed);
  server.status = 302;
  CHECK(probe->check().passed);
  server.status = 503;
  auto failed = probe->check();
  CHECK_FALSE(failed.passed);
  CHECK(failed.detail.find("HTTP 503") != std::string::npos);

  auto missing = make_http_probe(server.url("/nope"), 1s)->check();
  CHECK_FALSE(missing.passed);
  CHECK(missing.detail.find("404") != std::string::npos);

  Listener closed;
  int port = closed.port();
  closed.close();
  auto refused = make_http_probe("http://127.0.0.1:" + std::to_string(port) + "/", 1s)->check();
  CHECK_FALSE(refused.passed);
  CHECK_FALSE(refused.detail.empty());
}

TEST_CASE("a tcp probe passes while something listens and fails once it is closed") {
  Listener listener;
  auto target = "127.0.0.1:" + std::to_string(listener.port());
  auto probe = make_tcp_probe(target, 1s);
  CHECK(probe->describe() == "tcp " + target);
  CHECK(probe->check().passed);
  listener.close();
  auto failed = probe->check();
  CHECK_FALSE(failed.passed);
  CHECK(failed.detail.find("refused") != std::string::npos);
  listener.reopen();
  CHECK(probe->check().passed);
}

TEST_CASE("a tcp probe target must be HOST:PORT") {
  CHECK_THROWS_AS(make_tcp_probe("localhost", 1s), Error);
  CHECK_THROWS_AS(make_tcp_probe("127.0.0.1:0", 1s), Error);
}

TEST_CASE("the health gate decides on the first result, then needs fall failures or rise passes") {
  HealthGate gate(2, 3);
  CHECK_FALSE(gate.healthy().has_value());
  CHECK(gate.record(true) == std::optional<bool>(true));
  CHECK(gate.record(false) == std::nullopt);
  CHECK(gate.record(false) == std::nullopt);
  CHECK(gate.record(true) == std::nullopt); // a pass resets the failure streak
  CHECK(gate.record(false) == std::nullopt);
  CHECK(gate.record(false) == std::nullopt);
  CHECK(gate.record(false) == std::optional<bool>(false));
  CHECK(gate.healthy() == std::optional<bool>(false));
  CHECK(gate.record(true) == std::nullopt);
  CHECK(gate.record(true) == std::optional<bool>(true));

  HealthGate starts_down(2, 3);
  CHECK(starts_down.record(false) == std::optional<bool>(false));
  CHECK(starts_down.record(true) == std::nullopt);
  CHECK(starts_down.record(true) == std::optional<bool>(true));
}

TEST_CASE("an HTTP probe reads the status and not a body that streams forever") {
  // Before the fix the probe buffered the whole body until its timeout (535 MB in 4 s) and then
  // failed the check.
  HealthServer server;
  auto probe = make_http_probe(server.url("/stream"), 5s);
  auto started = std::chrono::steady_clock::now();
  ProbeResult result = probe->check();
  CHECK(result.passed);
  CHECK(result.detail.empty());
  CHECK(std::chrono::steady_clock::now() - started < 3s);
}

TEST_SUITE_END();
