#include "herald/core/error.hpp"
#include "herald/launch/handler.hpp"
#include "herald/launch/server.hpp"
#include "launch/raw_http.hpp"

#include <algorithm>
#include <atomic>
#include <doctest/doctest.h>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
// libasan's; GCC ships no header declaring it.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

using namespace herald;
using namespace herald::launch;
using herald::test::exchange;
using herald::test::get_request;
using herald::test::RawConnection;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("launch");

namespace {

constexpr const char* k_html = "text/html,application/xhtml+xml,*/*;q=0.8";
constexpr const char* k_json = "application/json";

/// A policy allowing `allow`, without cap or rates unless the test sets them.
PolicyOptions open_policy(std::vector<std::string> allow) {
  PolicyOptions p;
  p.allow = std::move(allow);
  p.max_apps = 0;
  p.client_rate = {};
  p.overall_rate = {};
  return p;
}

/// A launcher on 127.0.0.1 (a free port), serving on a thread of its own.
struct Launcher {
  Launcher(ServeOptions options, PolicyOptions policy_options, StartFn start,
           FlightOptions flight_options = {}, RoutableFn routable = {})
      : policy(std::move(policy_options)), flights(std::move(start), flight_options),
        server(with_free_port(std::move(options)), policy, flights, std::move(routable), metrics) {
    server.start();
    thread = std::thread([this] { server.run(stop); });
  }
  ~Launcher() {
    stop.request();
    thread.join();
    flights.stop();
  }
  static ServeOptions with_free_port(ServeOptions options) {
    options.listen = "127.0.0.1:0";
    return options;
  }
  std::uint16_t port() const { return server.port(); }

  Metrics metrics;
  Policy policy;
  Flights flights;
  Server server;
  StopToken stop;
  std::thread thread;
};

/// A StartFn that records every name it is asked for and waits until `open` (or stop).
struct RecordingStart {
  std::mutex mutex;
  std::vector<std::string> names;
  std::atomic<bool> open{true};
  std::chrono::milliseconds delay{0};

  StartFn fn() {
    return [this](const std::string& app, const StopToken& stop) {
      {
        std::lock_guard lock(mutex);
        names.push_back(app);
      }
      if (delay.count() > 0) {
        stop.wait_for(delay);
      }
      for (int i = 0; i < 2000 && !open.load() && !stop.requested(); ++i) {
        stop.wait_for(5ms);
      }
      return app + ".internal:8080";
    };
  }
  std::size_t calls() {
    std::lock_guard lock(mutex);
    return names.size();
  }
  /// calls() once it reached `n` (the StartFn runs on a thread of its own), or after 5 s.
  std::size_t calls_once(std::size_t n) {
    for (int i = 0; i < 500 && calls() < n; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    return calls();
  }
};

ServeOptions quick_options() {
  ServeOptions o;
  o.ready_wait = 10ms;
  o.read_timeout = 2s;
  return o;
}

} // namespace

TEST_CASE("launch server answers healthz and metrics") {
  RecordingStart start;
  Launcher launcher(quick_options(), open_policy({"web"}), start.fn());
  auto health = exchange(launcher.port(), get_request("/healthz"));
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  CHECK(health.header("cache-control") == "no-store");
  auto metrics = exchange(launcher.port(), get_request("/metrics"));
  CHECK(metrics.status == 200);
  CHECK(metrics.header("content-type").find("version=0.0.4") != std::string::npos);
  CHECK(metrics.body.find("herald_launch_starts_in_flight 0") != std::string::npos);
  auto head =
      exchange(launcher.port(), "HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(head.status == 200);
  CHECK(head.header("content-length") == "3");
  CHECK(head.raw.substr(head.raw.size() - 4) == "\r\n\r\n");
  auto post = exchange(launcher.port(), "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                        "0\r\nConnection: close\r\n\r\n");
  CHECK(post.status == 405);
  CHECK(start.calls() == 0);
}

TEST_CASE("launch server answers a refused name with nginx's own 404") {
  RecordingStart start;
  Launcher launcher(quick_options(), open_policy({"web", "healthz", "metrics"}), start.fn());
  for (const char* target : {"/nope/", "/Web/", "/%77eb/", "/%2e%2e/", "/../web/", "/", "/healthz/",
                             "/metrics/x", "/-web/", "/web_x/"}) {
    INFO(target);
    auto r = exchange(launcher.port(), get_request(target, k_html));
    CHECK(r.status == 404);
    CHECK(r.body == std::string(k_nginx_404_body));
    CHECK(r.header("content-type") == "text/html");
    CHECK(r.header("cache-control").empty());
    CHECK(r.header("retry-after").empty());
  }
  CHECK(start.calls() == 0);
  auto text = launcher.metrics.text();
  CHECK(text.find("herald_launch_refusals_total{reason=\"not_allowed\"} 1\n") != std::string::npos);
  CHECK(text.find("herald_launch_refusals_total{reason=\"bad_name\"} 9\n") != std::string::npos);
}

TEST_CASE("launch server shows browsers a waiting page and API clients JSON") {
  RecordingStart start;
  start.open = false;
  Launcher launcher(quick_options(), open_policy({"web"}), start.fn());

  auto page = exchange(launcher.port(), get_request("/web/some/page?q=1", k_html));
  CHECK(page.status == 503);
  CHECK(page.header("retry-after") == "2");
  CHECK(page.header("cache-control") == "no-store");
  CHECK(page.header("content-type") == "text/html; charset=utf-8");
  CHECK(page.body.find("<meta http-equiv=\"refresh\" content=\"2\">") != std::string::npos);
  CHECK(page.body.find("name=\"viewport\"") != std::string::npos);
  CHECK(page.body.find("<code>web</code>") != std::string::npos);
  CHECK(page.body.find("<script") == std::string::npos);
  CHECK(page.body.find("http://") == std::string::npos);
  CHECK(page.body.find("https://") == std::string::npos);

  auto api = exchange(launcher.port(), get_request("/web/api/v1", k_json));
  CHECK(api.status == 503);
  CHECK(api.header("retry-after") == "2");
  CHECK(api.header("content-type") == "application/json");
  auto body = nlohmann::json::parse(api.body);
  CHECK(body["app"] == "web");
  CHECK(body["state"] == "starting");
  CHECK(body["elapsed_seconds"].is_number_integer());

  // A POST gets JSON whatever it accepts.
  auto post = exchange(launcher.port(), "POST /web/hook HTTP/1.1\r\nHost: x\r\nAccept: "
                                        "text/html\r\nContent-Length: 2\r\n"
                                        "Connection: close\r\n\r\n{}");
  CHECK(post.status == 503);
  CHECK(post.header("content-type") == "application/json");
  CHECK(start.calls_once(1) == 1);

  start.open = true;
  CHECK(launcher.flights.wait("web", 5s).state == Status::State::ready);
  auto ready = exchange(launcher.port(), get_request("/web/some/page?q=1", k_html));
  CHECK(ready.status == 307);
  CHECK(ready.header("location") == "/web/some/page?q=1");
  CHECK(ready.header("cache-control") == "no-store");
  CHECK(start.calls() == 1);
}

TEST_CASE("launch server starts an app once for 200 concurrent requests") {
  RecordingStart start;
  start.delay = 300ms;
  Launcher launcher(quick_options(), open_policy({"web"}), start.fn());
  std::vector<int> statuses(200, 0);
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    clients.emplace_back([&, i] {
      statuses[i] = exchange(launcher.port(), get_request("/web/", i % 2 ? k_html : k_json)).status;
    });
  }
  for (auto& t : clients) {
    t.join();
  }
  for (int status : statuses) {
    CHECK((status == 503 || status == 307));
  }
  CHECK(start.calls_once(1) == 1);
  CHECK(launcher.flights.wait("web", 5s).state == Status::State::ready);
  CHECK(start.calls() == 1);
  CHECK(launcher.metrics.text().find("herald_launch_launches_total{result=\"ok\"} 1") !=
        std::string::npos);
}

TEST_CASE("launch server holds a request and answers 307 once ready") {
  RecordingStart start;
  start.delay = 200ms;
  auto options = quick_options();
  options.hold = 5s;
  Launcher launcher(options, open_policy({"web", "slow"}), start.fn());
  auto began = std::chrono::steady_clock::now();
  auto r = exchange(launcher.port(), get_request("/web/x?y=1", k_html));
  CHECK(r.status == 307);
  CHECK(r.header("location") == "/web/x?y=1");
  CHECK(std::chrono::steady_clock::now() - began < 4s);

  SUBCASE("a hold that runs out answers as starting") {
    start.open = false;
    auto short_hold = quick_options();
    short_hold.hold = 100ms;
    Launcher other(short_hold, open_policy({"slow"}), start.fn());
    auto waiting = exchange(other.port(), get_request("/slow/", k_json));
    CHECK(waiting.status == 503);
    CHECK(waiting.header("retry-after") == "2");
    start.open = true;
  }
}

TEST_CASE("launch server redirects an app the registry already routes") {
  RecordingStart start;
  Launcher launcher(quick_options(), open_policy({"web"}), start.fn(), {},
                    [](const std::string& app) -> std::optional<std::string> {
                      if (app == "web") {
                        return "10.0.0.5:8080";
                      }
                      return std::nullopt;
                    });
  auto r = exchange(launcher.port(), get_request("/web/", k_html));
  CHECK(r.status == 307);
  CHECK(r.header("location") == "/web/");
  CHECK(start.calls() == 0);
}

TEST_CASE("launch server shows a failed start's reference and backs off") {
  std::atomic<int> calls{0};
  auto options = quick_options();
  options.hold = 3s;
  FlightOptions flight_options;
  flight_options.backoff = 30s;
  Launcher launcher(
      options, open_policy({"web"}),
      [&](const std::string&, const StopToken&) -> std::string {
        ++calls;
        throw Error(ErrorKind::unavailable, "no such image <script>");
      },
      flight_options);
  auto api = exchange(launcher.port(), get_request("/web/", k_json));
  CHECK(api.status == 503);
  auto body = nlohmann::json::parse(api.body);
  CHECK(body["state"] == "failed");
  std::string reference = body["reference"];
  CHECK(reference.rfind("L-", 0) == 0);
  auto retry = std::stoi(api.header("retry-after"));
  CHECK(retry > 25);
  CHECK(retry <= 30);
  CHECK(api.body.find("no such image") == std::string::npos);

  auto page = exchange(launcher.port(), get_request("/web/", k_html));
  CHECK(page.status == 503);
  CHECK(page.body.find(reference) != std::string::npos);
  CHECK(page.body.find("no such image") == std::string::npos);
  CHECK(calls == 1);
}

TEST_CASE("launch server refuses by rate with 429 and by cap with 503") {
  RecordingStart start;
  start.open = false;
  auto policy = open_policy({"*"});
  SUBCASE("client rate, per address named by a trusted proxy") {
    policy.client_rate = {0.01, 1};
    Launcher launcher(quick_options(), policy, start.fn());
    CHECK(exchange(launcher.port(), get_request("/a/", k_json, "X-Real-IP: 10.0.0.1\r\n")).status ==
          503);
    auto refused = exchange(launcher.port(), get_request("/b/", k_json, "X-Real-IP: 10.0.0.1\r\n"));
    CHECK(refused.status == 429);
    CHECK(std::stoi(refused.header("retry-after")) > 1);
    // An app already starting does not use the rate.
    CHECK(exchange(launcher.port(), get_request("/a/", k_json, "X-Real-IP: 10.0.0.1\r\n")).status ==
          503);
    // Another client has its own bucket.
    CHECK(exchange(launcher.port(),
                   get_request("/b/", k_json, "X-Forwarded-For: 1.1.1.1, 10.0.0.2\r\n"))
              .status == 503);
    CHECK(start.calls_once(2) == 2);
    CHECK(launcher.metrics.text().find("refusals_total{reason=\"client_rate\"} 1") !=
          std::string::npos);
  }
  SUBCASE("cap") {
    policy.max_apps = 1;
    Launcher launcher(quick_options(), policy, start.fn());
    CHECK(exchange(launcher.port(), get_request("/a/", k_json)).status == 503);
    auto refused = exchange(launcher.port(), get_request("/b/", k_html));
    CHECK(refused.status == 503);
    CHECK_FALSE(refused.header("retry-after").empty());
    CHECK(refused.body.find("<code>b</code>") != std::string::npos);
    CHECK(start.calls_once(1) == 1);
  }
  start.open = true;
}

TEST_CASE("launch server keeps connections alive and closes slow and surplus ones") {
  RecordingStart start;
  auto options = quick_options();
  options.read_timeout = 600ms;
  options.max_connections = 2;
  Launcher launcher(options, open_policy({"web"}), start.fn());

  SUBCASE("keep-alive: two requests on one connection") {
    RawConnection c(launcher.port());
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n"
           "Connection: close\r\n\r\n");
    std::string raw;
    CHECK(c.read_all(raw, 5s));
    CHECK(raw.find("HTTP/1.1 200") == 0);
    CHECK(raw.find("HTTP/1.1 200", 10) != std::string::npos);
  }
  SUBCASE("a request that trickles in is cut at the read timeout") {
    RawConnection c(launcher.port());
    c.send("GET /web/ HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    std::string raw;
    auto began = std::chrono::steady_clock::now();
    CHECK(c.read_all(raw, 5s)); // closed by the server
    CHECK(std::chrono::steady_clock::now() - began < 3s);
    CHECK(start.calls() == 0);
  }
  SUBCASE("beyond max_connections a connection is closed at once") {
    RawConnection a(launcher.port());
    RawConnection b(launcher.port());
    a.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    b.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string ignored;
    a.read_all(ignored, 50ms); // both served: their threads wait for a next request
    b.read_all(ignored, 50ms);
    RawConnection c(launcher.port());
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string raw;
    CHECK(c.read_all(raw, 2s));
    CHECK(raw.empty());
  }
  // The connections above are closed: the server answers again as soon as their threads end.
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    status = exchange(launcher.port(), get_request("/healthz")).status;
    if (status != 200) {
      std::this_thread::sleep_for(20ms);
    }
  }
  CHECK(status == 200);
}

TEST_CASE("launch server refuses oversized headers and bodies") {
  RecordingStart start;
  Launcher launcher(quick_options(), open_policy({"web"}), start.fn());
  auto big_header = exchange(
      launcher.port(), get_request("/web/", k_json, "X-Big: " + std::string(9000, 'a') + "\r\n"));
  CHECK(big_header.status == 431);
  auto big_body = exchange(launcher.port(), "POST /web/ HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                            "1000000\r\nConnection: close\r\n\r\n" +
                                                std::string(70000, 'b'));
  CHECK(big_body.status == 413);
  auto junk = exchange(launcher.port(), "GET /web/ HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n");
  CHECK(junk.status == 400);
  CHECK(start.calls() == 0);
}

TEST_CASE("launch server start names an address it cannot use") {
  Metrics metrics;
  Policy policy(open_policy({"web"}));
  Flights flights([](const std::string&, const StopToken&) { return std::string(); }, {});
  SUBCASE("malformed") {
    ServeOptions o;
    o.listen = "nonsense";
    Server server(o, policy, flights, {}, metrics);
    try {
      server.start();
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::config);
      CHECK(std::string(e.what()).find("nonsense") != std::string::npos);
    }
  }
  SUBCASE("in use") {
    ServeOptions o;
    o.listen = "127.0.0.1:0";
    Server first(o, policy, flights, {}, metrics);
    first.start();
    o.listen = "127.0.0.1:" + std::to_string(first.port());
    Server second(o, policy, flights, {}, metrics);
    try {
      second.start();
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::unavailable);
      CHECK(std::string(e.what()).find(o.listen) != std::string::npos);
    }
  }
}

namespace {

/// The process's memory: what the allocator holds under ASan (whose quarantine keeps freed
/// memory resident by design), VmRSS otherwise.
std::size_t memory_in_use() {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stoul(line.substr(6)) * 1024;
    }
  }
  return 0;
#endif
}

/// Hostile request bytes: path and Host tricks, control bytes, look-alikes, overlong and huge.
class HostileRequests {
public:
  explicit HostileRequests(std::uint32_t seed) : m_random(seed) {}

  std::string next(bool host_mode) {
    static const std::vector<std::string> k_names = {"..",
                                                     "%2e%2e",
                                                     "%2E%2E",
                                                     ".",
                                                     "web%2f..",
                                                     "web%00",
                                                     std::string("we\0b", 4),
                                                     "w\xd0\xb5"
                                                     "b", // Cyrillic 'е'
                                                     "\xef\xbd\x97"
                                                     "eb", // fullwidth 'w'
                                                     "WEB",
                                                     "Web",
                                                     "web.",
                                                     "-web",
                                                     "web-",
                                                     "we b",
                                                     "we\tb",
                                                     "web\r\nX-Injected: 1",
                                                     "web\rX",
                                                     "web\nX",
                                                     "\x7f",
                                                     "\xff\xfe",
                                                     "%0d%0aSet-Cookie:x",
                                                     "secret",
                                                     "admin",
                                                     "api-",
                                                     "app",
                                                     "app1x",
                                                     "api-internal-",
                                                     std::string(64, 'a'),
                                                     std::string(300, 'b'),
                                                     "a.b",
                                                     "web..",
                                                     "%",
                                                     "%%",
                                                     "${jndi:x}",
                                                     "<script>",
                                                     "'\"",
                                                     "web;",
                                                     "web\\x"};
    std::string name = pick(k_names);
    if (m_random() % 4 == 0) {
      name += pick(k_names);
    }
    std::string target;
    std::string host = "launcher";
    if (host_mode) {
      target = "/" + pick({"", "x", "..", "%2e%2e/", "healthz/"});
      switch (m_random() % 4) {
      case 0:
        host = name + ".example.com";
        break;
      case 1:
        host = name + "." + name + ".example.com";
        break;
      case 2:
        host = name + ".example.com:" + pick({"80", "99999", "x", ""});
        break;
      default:
        host = name;
      }
    } else {
      switch (m_random() % 4) {
      case 0:
        target = "/" + name + "/";
        break;
      case 1:
        target = "/" + name + "/../web/";
        break;
      case 2:
        target = "//" + name;
        break;
      default:
        target = "/" + name + "?x=/web/";
      }
    }
    std::string request = pick({"GET", "HEAD", "POST", std::string("G\0T", 3), "GET /"}) + " " +
                          target + " HTTP/1.1\r\n";
    if (m_random() % 10 != 0) {
      request += "Host: " + host + "\r\n";
    }
    request += "Accept: " + pick({"text/html", "application/json", "*/*", "\x01\x02"}) + "\r\n";
    if (m_random() % 20 == 0) {
      request += "X-Huge: " + std::string(9000 + m_random() % 4000, 'h') + "\r\n";
    }
    if (m_random() % 10 == 0) {
      request +=
          "X-Real-IP: " + pick({"10.0.0.1", "::1", "junk\x01", std::string(100, '9')}) + "\r\n";
    }
    request += "Connection: close\r\n\r\n";
    return request;
  }

private:
  std::string pick(const std::vector<std::string>& from) { return from[m_random() % from.size()]; }
  std::mt19937 m_random;
};

} // namespace

TEST_CASE("launch server survives 10 000 hostile requests without launching a disallowed app") {
  RecordingStart start;
  auto options = quick_options();
  options.ready_wait = 0ms;
  options.read_timeout = 500ms;
  auto policy = open_policy({"web", "api-*", "/app[0-9]/"});
  policy.deny = {"api-internal*"};
  // The same rules written independently of the policy's code.
  auto allowed = [](const std::string& name) {
    bool label = !name.empty() && name.size() <= 63 && name.front() != '-' && name.back() != '-' &&
                 std::all_of(name.begin(), name.end(), [](char c) {
                   return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                 });
    bool allow =
        name == "web" || name.rfind("api-", 0) == 0 ||
        (name.size() == 4 && name.rfind("app", 0) == 0 && name[3] >= '0' && name[3] <= '9');
    return label && allow && name.rfind("api-internal", 0) != 0;
  };

  for (bool host_mode : {false, true}) {
    INFO("host mode: " << host_mode);
    auto serve = options;
    if (host_mode) {
      serve.mode = RoutingMode::host;
      serve.domain = "example.com";
    }
    Launcher launcher(serve, policy, start.fn());
    HostileRequests generator(host_mode ? 2 : 1);
    const int total = 5000;
    const int clients = 4;
    std::size_t memory_after_first = 0;
    std::atomic<int> answered{0};
    auto deadline = std::chrono::steady_clock::now() + 60s;
    std::mutex generator_mutex;
    auto run_batch = [&](int count) {
      std::vector<std::thread> threads;
      std::atomic<int> left{count};
      for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&] {
          while (left.fetch_sub(1) > 0 && std::chrono::steady_clock::now() < deadline) {
            std::string request;
            {
              std::lock_guard lock(generator_mutex);
              request = generator.next(host_mode);
            }
            auto r = exchange(launcher.port(), request, 5s);
            if (r.status != 0) {
              ++answered;
            }
          }
        });
      }
      for (auto& t : threads) {
        t.join();
      }
    };
    run_batch(total / 10);
    memory_after_first = memory_in_use();
    run_batch(total - total / 10);
    auto memory_at_end = memory_in_use();
    CHECK(std::chrono::steady_clock::now() < deadline);
    CHECK(answered > total / 2);
    MESSAGE("answered " << answered.load() << " of " << total << "; memory "
                        << memory_after_first / 1024 << " KiB -> " << memory_at_end / 1024
                        << " KiB");
    CHECK(memory_at_end < memory_after_first + 20 * 1024 * 1024);
    {
      std::lock_guard lock(start.mutex);
      for (const auto& name : start.names) {
        INFO(name);
        CHECK(allowed(name));
      }
    }
    auto health = exchange(launcher.port(), get_request("/healthz"));
    CHECK(health.status == 200);
  }
}

TEST_CASE("launch client address trusts only the configured proxies") {
  std::vector<std::string> trusted{"127.0.0.1", "::1"};
  CHECK(client_address("127.0.0.1", "10.0.0.1", "", trusted) == "10.0.0.1");
  CHECK(client_address("::ffff:127.0.0.1", "10.0.0.1", "", trusted) == "10.0.0.1");
  CHECK(client_address("127.0.0.1", "", "1.1.1.1, 10.0.0.2", trusted) == "10.0.0.2");
  CHECK(client_address("127.0.0.1", "", "10.0.0.2 ", trusted) == "10.0.0.2");
  CHECK(client_address("127.0.0.1", "junk", "also junk", trusted) == "127.0.0.1");
  CHECK(client_address("192.0.2.7", "10.0.0.1", "10.0.0.2", trusted) == "192.0.2.7");
  CHECK(client_address("::1", "2001:db8::1", "", trusted) == "2001:db8::1");
}

TEST_CASE("launch waiting page escapes the app name") {
  auto page = waiting_page("<b>&\"'", 3);
  CHECK(page.find("<b>") == std::string::npos);
  CHECK(page.find("&lt;b&gt;&amp;&#34;&#39;") != std::string::npos);
  CHECK(page.find("3 s") != std::string::npos);
}

TEST_SUITE_END();
