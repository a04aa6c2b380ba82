#include "support/etcd_server.hpp"
#include "support/nginx.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cctype>
#include <chrono>
#include <doctest/doctest.h>
#include <map>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace herald::test;
using namespace std::chrono_literals;

// The bundled router templates (nginx-path, nginx-host, haproxy) and the on-demand launcher:
// rendered by the built herald from a real etcd, checked by the real `nginx -t` / `haproxy -c`,
// and served by the real nginx and haproxy to a fake launcher and fake apps (HTTP servers in the
// test on 127.0.0.1). The contract: launchers announce themselves at
// /services/launchers/herald-launcher/herald-launcher@NODE (host:port or herald's JSON form);
// requests no app claims reach them with the original URI and Host.

namespace {

std::string bundled(const std::string& name) {
  return std::string(HERALD_SOURCE_DIR) + "/templates/" + name;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

/// The environment of every herald run: nothing inherited that would change what it renders.
std::map<std::string, std::string> clean_env(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> env{
      {"HERALD_REGISTRY", ""},    {"ETCDCTL_ENDPOINTS", ""},          {"NOTIFY_SOCKET", ""},
      {"JOURNAL_STREAM", ""},     {"HERALD_LOG_FORMAT", "text"},      {"HERALD_LOG_LEVEL", "info"},
      {"HERALD_LAUNCHER", ""},    {"HERALD_ROUTES_PREFIX", ""},       {"HERALD_DOMAIN", ""},
      {"HERALD_SERVER_NAME", ""}, {"HERALD_NGINX_DEFAULT_SERVER", ""}};
  for (auto& [k, v] : extra) {
    env[k] = v;
  }
  return env;
}

/// The launchers' key of `node`, as `herald launch serve` announces itself.
std::string launcher_key(const std::string& node) {
  return "/services/launchers/herald-launcher/herald-launcher@" + node;
}

/// An HTTP server on 127.0.0.1 (a free port) standing in for an app or a launcher: it answers
/// every request with `status` and "NAME METHOD TARGET host=HOST", and keeps what it was sent.
/// Plain sockets, one connection at a time, so that the request target is kept byte for byte.
class EchoServer {
public:
  struct Seen {
    std::string method;
    std::string target; ///< the request target as received: path and query, still encoded
    std::string host;
    std::string real_ip;
    std::string forwarded_for;
  };

  explicit EchoServer(std::string name, int status = 200)
      : m_name(std::move(name)), m_status(status) {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(m_fd >= 0);
    int one = 1;
    ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(m_fd, 64) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    m_port = ntohs(addr.sin_port);
    m_thread = std::thread([this] { serve(); });
  }
  ~EchoServer() {
    m_stop = true;
    m_thread.join();
    ::close(m_fd);
  }
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  int port() const { return m_port; }
  std::string address() const { return "127.0.0.1:" + std::to_string(m_port); }
  /// herald's JSON form of its address.
  std::string json() const {
    return R"({"host":"127.0.0.1","port":)" + std::to_string(m_port) + "}";
  }
  std::vector<Seen> seen() const {
    std::lock_guard lock(m_mutex);
    return m_seen;
  }

private:
  /// Accepts until stopped, polling so that the destructor never waits long.
  void serve() {
    while (!m_stop) {
      pollfd p{m_fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) {
        continue;
      }
      int conn = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn >= 0) {
        answer(conn);
        ::close(conn);
      }
    }
  }

  /// Reads one request head (a health check that only connects sends nothing) and answers it.
  void answer(int conn) {
    timeval tv{2, 0};
    ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string head;
    char buffer[4096];
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
      ssize_t n = ::recv(conn, buffer, sizeof buffer, 0);
      if (n <= 0) {
        return;
      }
      head.append(buffer, static_cast<std::size_t>(n));
    }
    Seen seen;
    auto line_end = head.find("\r\n");
    std::string line = head.substr(0, line_end);
    auto sp1 = line.find(' ');
    auto sp2 = line.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) {
      return;
    }
    seen.method = line.substr(0, sp1);
    seen.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    for (auto at = line_end + 2; at < head.size();) {
      auto end = head.find("\r\n", at);
      if (end == std::string::npos || end == at) {
        break;
      }
      std::string header = head.substr(at, end - at);
      at = end + 2;
      auto colon = header.find(':');
      if (colon == std::string::npos) {
        continue;
      }
      std::string name = header.substr(0, colon);
      std::string value = header.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (name == "host") {
        seen.host = value;
      } else if (name == "x-real-ip") {
        seen.real_ip = value;
      } else if (name == "x-forwarded-for") {
        seen.forwarded_for = value;
      }
    }
    {
      std::lock_guard lock(m_mutex);
      m_seen.push_back(seen);
    }
    std::string body = m_name + " " + seen.method + " " + seen.target + " host=" + seen.host;
    std::string reply =
        "HTTP/1.1 " + std::to_string(m_status) + " " +
        (m_status == 200 ? "OK" : "Service Unavailable") +
        "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body;
    ::send(conn, reply.data(), reply.size(), MSG_NOSIGNAL);
  }

  std::string m_name;
  int m_status;
  int m_fd = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
  mutable std::mutex m_mutex;
  std::vector<Seen> m_seen;
};

/// GET `target` from 127.0.0.1:`port` with the Host header `host`.
HttpReply request(int port, const std::string& host, const std::string& target) {
  return http_request(port, "GET", target, "", 10000, host);
}

/// The keys each bundled template reads, with the launchers' prefix; `apps` is where the apps are.
std::vector<std::string> keys_of(const std::string& tmpl,
                                 const std::string& apps = "/services/web") {
  std::vector<std::string> keys{apps};
  if (tmpl != "nginx-path.tmpl") {
    keys.push_back("/services/domain");
  }
  keys.push_back("/services/launchers");
  return keys;
}

/// `herald --registry URL render --template TMPL --dest DEST --keys ...` with the check the
/// template's toml names (nginx-check, haproxy -c) run by herald itself.
RunResult render(const std::string& url, const std::string& tmpl, const std::string& dest,
                 std::map<std::string, std::string> env,
                 const std::string& apps = "/services/web") {
  std::string check = tmpl.starts_with("nginx") ? bundled("nginx-check") + " {{.src}}"
                                                : find_program("haproxy") + " -c -q -f {{.src}}";
  std::vector<std::string> argv{herald_bin(),  "--registry", url,  "render",      "--template",
                                bundled(tmpl), "--dest",     dest, "--check-cmd", check};
  for (const auto& key : keys_of(tmpl, apps)) {
    argv.push_back("--keys");
    argv.push_back(key);
  }
  env["HERALD_NGINX_BIN"] = find_program("nginx");
  return run(argv, clean_env(std::move(env)), 60s);
}

/// Skips the test unless both routers are installed.
void need_routers() {
  if (find_program("nginx").empty()) {
    skip("nginx is not installed (Debian package nginx-light)");
  }
  if (find_program("haproxy").empty()) {
    skip("haproxy is not installed (Debian package haproxy)");
  }
}

/// The real checks once more, outside herald: `nginx -t` on the fragment in an http {} block,
/// `haproxy -c` on the whole file. "" when it passes, else what the router said.
std::string router_check(const std::string& tmpl, const std::string& dest) {
  RunResult r = tmpl.starts_with("nginx") ? run({bundled("nginx-check"), dest},
                                                {{"HERALD_NGINX_BIN", find_program("nginx")}})
                                          : run({find_program("haproxy"), "-c", "-q", "-f", dest});
  return r.status == 0 ? "" : "exit " + std::to_string(r.status) + ": " + r.out + r.err;
}

/// The environment a template renders with: where nginx listens and haproxy binds (free ports,
/// never started here) and haproxy's stats socket in `dir`.
std::map<std::string, std::string> router_env(const TempDir& dir) {
  return {{"HERALD_NGINX_LISTEN", "127.0.0.1:" + std::to_string(free_port())},
          {"HERALD_HAPROXY_BIND", "127.0.0.1:" + std::to_string(free_port())},
          {"HERALD_HAPROXY_SOCKET", dir.file("admin.sock")}};
}

const std::vector<std::string> k_templates{"nginx-path.tmpl", "nginx-host.tmpl", "haproxy.tmpl"};

} // namespace

TEST_SUITE_BEGIN("integration");

TEST_CASE(
    "bundled templates send unknown apps to the launchers announced under /services/launchers") {
  need_routers();
  EtcdServer server;
  TempDir dir;
  server.etcdctl({"put", "/services/web/web/web@1", "127.0.0.1:8001"});
  server.etcdctl({"put", "/services/domain", "example.test"});
  server.etcdctl({"put", launcher_key("node-1"), "127.0.0.1:8099"});
  server.etcdctl({"put", launcher_key("node-2"), R"({"host":"10.0.0.2","port":8099})"});
  for (const auto& tmpl : k_templates) {
    CAPTURE(tmpl);
    std::string dest = dir.file(tmpl + ".conf");
    auto r = render(server.v3_url(), tmpl, dest, router_env(dir));
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    std::string conf = read_file(dest);
    INFO("rendered:\n" << conf);
    CHECK(router_check(tmpl, dest) == "");
    if (tmpl == "haproxy.tmpl") {
      CHECK(contains(conf, "    default_backend herald-launchers\n"));
      CHECK(contains(conf, "backend herald-launchers\n"));
      CHECK(contains(conf, "    server herald-launcher-node-1 127.0.0.1:8099 check\n"));
      CHECK(contains(conf, "    server herald-launcher-node-2 10.0.0.2:8099 check\n"));
      CHECK(contains(conf, "    timeout server 60s\n"));
      CHECK(contains(conf, "backend web\n"));
      continue;
    }
    CHECK(contains(conf, "upstream herald-launchers {\n"
                         "    server 127.0.0.1:8099 max_fails=1 fail_timeout=5s;\n"
                         "    server 10.0.0.2:8099 max_fails=1 fail_timeout=5s;\n}"));
    CHECK(contains(conf, "proxy_pass http://herald-launchers;\n"));
    // The launcher's 503 (an app starting) is its answer, not a reason to try another one.
    CHECK(contains(conf, "proxy_next_upstream error timeout;\n"));
    CHECK(contains(conf, "proxy_read_timeout 60s;\n"));
    CHECK(contains(conf, "upstream herald_web {"));
    if (tmpl == "nginx-host.tmpl") {
      CHECK(contains(conf, " default_server;\n    server_name _;"));
      CHECK(contains(conf, "server_name web.example.test;"));
    } else {
      CHECK(contains(conf, "location /web/ {"));
      CHECK_FALSE(contains(conf, "return 404;"));
    }
  }
  // nginx-host: the catch-all can leave the default server to nginx.
  auto env = router_env(dir);
  env["HERALD_NGINX_DEFAULT_SERVER"] = "off";
  auto r = render(server.v3_url(), "nginx-host.tmpl", dir.file("host-off.conf"), env);
  REQUIRE(r.status == 0);
  CHECK_FALSE(contains(read_file(dir.file("host-off.conf")), "default_server"));
  CHECK(contains(read_file(dir.file("host-off.conf")), "proxy_pass http://herald-launchers;"));
}

TEST_CASE("bundled templates without a launcher: valid, no launcher upstream, HERALD_LAUNCHER "
          "as the fallback") {
  need_routers();
  EtcdServer server;
  TempDir dir;
  server.etcdctl({"put", "/services/web/web/web@1", "127.0.0.1:8001"});
  for (const auto& tmpl : k_templates) {
    CAPTURE(tmpl);
    std::string dest = dir.file(tmpl + ".conf");
    auto r = render(server.v3_url(), tmpl, dest, router_env(dir));
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    std::string conf = read_file(dest);
    INFO("rendered:\n" << conf);
    CHECK(router_check(tmpl, dest) == "");
    CHECK_FALSE(contains(conf, "herald-launchers"));
    CHECK_FALSE(contains(conf, "default_backend"));
    CHECK_FALSE(contains(conf, "default_server"));
    if (tmpl == "nginx-path.tmpl") {
      // nginx answers 404 itself: no upstream pointing nowhere.
      CHECK(contains(conf, "    location / {\n        return 404;\n    }"));
    }

    // HERALD_LAUNCHER when no launcher is announced...
    auto env = router_env(dir);
    env["HERALD_LAUNCHER"] = "127.0.0.1:8090";
    r = render(server.v3_url(), tmpl, dest, env);
    REQUIRE(r.status == 0);
    conf = read_file(dest);
    CHECK(router_check(tmpl, dest) == "");
    CHECK(contains(conf, tmpl == "haproxy.tmpl" ? "    server herald-launcher 127.0.0.1:8090 check"
                                                : "    server 127.0.0.1:8090 max_fails=1"));
    CHECK_FALSE(contains(conf, "return 404;"));

    // ...and only then: the announced launchers come first.
    server.etcdctl({"put", launcher_key("node-1"), "127.0.0.1:8099"});
    r = render(server.v3_url(), tmpl, dest, env);
    REQUIRE(r.status == 0);
    conf = read_file(dest);
    CHECK(contains(conf, "127.0.0.1:8099"));
    CHECK_FALSE(contains(conf, "127.0.0.1:8090"));
    server.etcdctl({"del", launcher_key("node-1")});
  }
}

TEST_CASE("bundled templates route either layout: PREFIX/APP/APP@N and the single key PREFIX/APP") {
  need_routers();
  EtcdServer server;
  TempDir dir;
  server.etcdctl({"put", "/services/web/web/web@1", "127.0.0.1:8001"});
  server.etcdctl({"put", "/services/web/web/web@2", R"({"host":"127.0.0.1","port":8002})"});
  server.etcdctl({"put", "/services/clusters/shop", "127.0.0.1:9001"});
  server.etcdctl({"put", "/services/clusters/blog", R"({"host":"127.0.0.1","port":9002})"});
  server.etcdctl({"put", "/services/clusters/bad", "1.2.3.4:80; evil"});
  for (const auto& tmpl : k_templates) {
    CAPTURE(tmpl);
    // Several instances per app, the default prefix.
    std::string dest = dir.file(tmpl + ".conf");
    auto r = render(server.v3_url(), tmpl, dest, router_env(dir));
    REQUIRE(r.status == 0);
    std::string conf = read_file(dest);
    INFO("rendered:\n" << conf);
    CHECK(router_check(tmpl, dest) == "");
    CHECK(contains(conf, "127.0.0.1:8001"));
    CHECK(contains(conf, "127.0.0.1:8002"));
    CHECK_FALSE(contains(conf, "shop"));

    // One key per app, the prefix path-routed clusters use.
    auto env = router_env(dir);
    env["HERALD_ROUTES_PREFIX"] = "/services/clusters";
    r = render(server.v3_url(), tmpl, dest, env, "/services/clusters");
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    conf = read_file(dest);
    INFO("rendered:\n" << conf);
    CHECK(router_check(tmpl, dest) == "");
    CHECK_FALSE(contains(conf, "8001"));
    // The bad single key is left out (render reports skipped keys of PREFIX/APP/LEAF only: a
    // single key with another value may be some other setting).
    CHECK_FALSE(contains(conf, "evil"));
    CHECK_FALSE(contains(conf, "1.2.3.4"));
    if (tmpl == "haproxy.tmpl") {
      CHECK(contains(conf, "backend shop\n"));
      CHECK(contains(conf, "    server shop 127.0.0.1:9001 check\n"));
      CHECK(contains(conf, "    server blog 127.0.0.1:9002 check\n"));
      CHECK(contains(conf, "path_beg /shop/"));
    } else {
      CHECK(contains(conf, "upstream herald_shop {\n"
                           "    server 127.0.0.1:9001 max_fails=1 fail_timeout=10s;\n}"));
      CHECK(contains(conf, "upstream herald_blog {\n"
                           "    server 127.0.0.1:9002 max_fails=1 fail_timeout=10s;\n}"));
      CHECK(contains(conf, tmpl == "nginx-path.tmpl" ? "location /shop/ {"
                                                     : "server_name shop.localhost;"));
    }
  }

  // Served for real: nginx-path sends /shop/ to the single key's address.
  EchoServer shop("shop");
  server.etcdctl({"put", "/services/clusters/shop", shop.address()});
  Nginx nginx(dir);
  std::string dest = nginx.conf_d() + "/paths.conf";
  auto r = render(server.v3_url(), "nginx-path.tmpl", dest,
                  {{"HERALD_NGINX_LISTEN", "127.0.0.1:" + std::to_string(nginx.port())},
                   {"HERALD_ROUTES_PREFIX", "/services/clusters"}},
                  "/services/clusters");
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 0);
  nginx.start();
  HttpReply reply;
  CHECK(eventually(
      [&] {
        reply = request(nginx.port(), "router.test", "/shop/cart?id=7");
        return reply.status == 200;
      },
      10s));
  CHECK(reply.body == "shop GET /shop/cart?id=7 host=router.test");
  // No launcher: an unknown path is nginx's own 404.
  CHECK(request(nginx.port(), "router.test", "/unknown/").status == 404);
}

TEST_CASE("an invalid launcher address is left out of every bundled template") {
  need_routers();
  EtcdServer server;
  TempDir dir;
  server.etcdctl({"put", "/services/web/web/web@1", "127.0.0.1:8001"});
  server.etcdctl({"put", launcher_key("bad-1"), "1.2.3.4:80; evil"});
  server.etcdctl({"put", launcher_key("bad-2"), "127.0.0.1:8099 }\nserver { listen 81; evil"});
  server.etcdctl({"put", launcher_key("bad-3"), R"({"host":"evil;","port":8099})"});
  server.etcdctl({"put", "/services/launchers/evil;{/herald-launcher@x", "127.0.0.1:8099"});
  for (const auto& tmpl : k_templates) {
    CAPTURE(tmpl);
    // Only bad ones: as if none were announced.
    std::string dest = dir.file(tmpl + ".conf");
    auto r = render(server.v3_url(), tmpl, dest, router_env(dir));
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    std::string conf = read_file(dest);
    INFO("rendered:\n" << conf);
    CHECK(router_check(tmpl, dest) == "");
    CHECK(contains(r.err, "skipping"));
    CHECK_FALSE(contains(conf, "evil"));
    CHECK_FALSE(contains(conf, "herald-launchers"));
    CHECK_FALSE(contains(conf, "8099"));

    // A good one beside them is used, alone.
    server.etcdctl({"put", launcher_key("good"), "127.0.0.1:8100"});
    r = render(server.v3_url(), tmpl, dest, router_env(dir));
    REQUIRE(r.status == 0);
    conf = read_file(dest);
    CHECK(router_check(tmpl, dest) == "");
    CHECK(contains(conf, "127.0.0.1:8100"));
    CHECK_FALSE(contains(conf, "evil"));
    CHECK_FALSE(contains(conf, "8099"));
    CHECK_FALSE(contains(conf, "1.2.3.4"));
    server.etcdctl({"del", launcher_key("good")});
  }
}

TEST_CASE("nginx-path through real nginx: an unknown path reaches the launcher as it was asked, "
          "its 503 is not retried") {
  EtcdServer server;
  TempDir dir;
  Nginx nginx(dir);
  EchoServer web("web");
  EchoServer launcher("launcher");
  server.etcdctl({"put", "/services/web/web/web@1", web.address()});
  server.etcdctl({"put", launcher_key("node-1"), launcher.json()});
  std::string dest = nginx.conf_d() + "/paths.conf";
  auto r = render(server.v3_url(), "nginx-path.tmpl", dest,
                  {{"HERALD_NGINX_LISTEN", "127.0.0.1:" + std::to_string(nginx.port())}});
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 0);
  INFO("rendered:\n" << read_file(dest));
  nginx.start();
  INFO("nginx error.log: " << nginx.error_log());

  HttpReply reply;
  REQUIRE(eventually(
      [&] {
        reply = request(nginx.port(), "router.test", "/web/x");
        return reply.status == 200;
      },
      10s));
  CHECK(reply.body == "web GET /web/x host=router.test");
  CHECK(launcher.seen().empty());

  // An app that does not run: the launcher gets the original URI (query and encoding as sent),
  // the Host and the client's address.
  reply = request(nginx.port(), "router.test", "/shop/a%2Fb/c?x=1&y=%20");
  CHECK(reply.status == 200);
  CHECK(reply.body == "launcher GET /shop/a%2Fb/c?x=1&y=%20 host=router.test");
  auto seen = launcher.seen();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].target == "/shop/a%2Fb/c?x=1&y=%20");
  CHECK(seen[0].host == "router.test");
  CHECK(seen[0].real_ip == "127.0.0.1");
  CHECK(seen[0].forwarded_for == "127.0.0.1");

  // Two launchers answering 503 (the app is starting): each request reaches exactly one, and
  // the client gets the 503. (A second nginx on its own config: a reload would leave the old
  // worker accepting for a moment.)
  EchoServer starting_a("starting-a", 503);
  EchoServer starting_b("starting-b", 503);
  server.etcdctl({"del", launcher_key("node-1")});
  server.etcdctl({"put", launcher_key("node-a"), starting_a.address()});
  server.etcdctl({"put", launcher_key("node-b"), starting_b.address()});
  TempDir dir2;
  Nginx nginx2(dir2);
  r = render(server.v3_url(), "nginx-path.tmpl", nginx2.conf_d() + "/paths.conf",
             {{"HERALD_NGINX_LISTEN", "127.0.0.1:" + std::to_string(nginx2.port())}});
  REQUIRE(r.status == 0);
  nginx2.start();
  REQUIRE(eventually([&] { return request(nginx2.port(), "router.test", "/probe/").status == 503; },
                     10s));
  std::size_t before = starting_a.seen().size() + starting_b.seen().size();
  constexpr int k_requests = 6;
  for (int i = 0; i < k_requests; ++i) {
    HttpReply starting = request(nginx2.port(), "router.test", "/starting/" + std::to_string(i));
    CHECK_MESSAGE(starting.status == 503, starting.body);
  }
  CHECK(starting_a.seen().size() + starting_b.seen().size() == before + k_requests);
  CHECK_FALSE(starting_a.seen().empty());
  CHECK_FALSE(starting_b.seen().empty());
}

TEST_CASE("nginx-host and haproxy through the real routers: an unknown host reaches the launcher "
          "with its Host") {
  need_routers();
  EtcdServer server;
  TempDir dir;
  EchoServer web("web");
  EchoServer launcher("launcher");
  server.etcdctl({"put", "/services/web/web/web@1", web.address()});
  server.etcdctl({"put", "/services/domain", "example.test"});
  server.etcdctl({"put", launcher_key("node-1"), launcher.address()});

  SUBCASE("nginx-host") {
    Nginx nginx(dir);
    std::string dest = nginx.conf_d() + "/hosts.conf";
    auto r = render(server.v3_url(), "nginx-host.tmpl", dest,
                    {{"HERALD_NGINX_LISTEN", "127.0.0.1:" + std::to_string(nginx.port())}});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    nginx.start();
    HttpReply reply;
    REQUIRE(eventually(
        [&] {
          reply = request(nginx.port(), "web.example.test", "/a?b=1");
          return reply.status == 200;
        },
        10s));
    CHECK(reply.body == "web GET /a?b=1 host=web.example.test");
    reply = request(nginx.port(), "shop.example.test", "/cart?id=7");
    CHECK(reply.status == 200);
    CHECK(reply.body == "launcher GET /cart?id=7 host=shop.example.test");
    auto seen = launcher.seen();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].real_ip == "127.0.0.1");
  }
  SUBCASE("haproxy") {
    int port = free_port();
    std::string dest = dir.file("haproxy.cfg");
    auto r = render(server.v3_url(), "haproxy.tmpl", dest,
                    {{"HERALD_HAPROXY_BIND", "127.0.0.1:" + std::to_string(port)},
                     {"HERALD_HAPROXY_SOCKET", dir.file("admin.sock")}});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    Process proxy({find_program("haproxy"), "-db", "-f", dest});
    INFO("haproxy: " << proxy.err());
    REQUIRE(eventually([&] { return port_open(port); }, 10s));
    HttpReply reply;
    REQUIRE(eventually(
        [&] {
          reply = request(port, "web.example.test", "/a");
          return reply.status == 200;
        },
        10s));
    CHECK(reply.body == "web GET /a host=web.example.test");
    REQUIRE(eventually(
        [&] {
          reply = request(port, "shop.example.test", "/shop/cart?id=7");
          return reply.status == 200;
        },
        10s));
    CHECK(reply.body == "launcher GET /shop/cart?id=7 host=shop.example.test");
    auto seen = launcher.seen();
    REQUIRE_FALSE(seen.empty());
    CHECK(seen.back().real_ip == "127.0.0.1");
    CHECK(seen.back().forwarded_for == "127.0.0.1");
  }
}

TEST_SUITE_END();
