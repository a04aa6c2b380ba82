#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/http/client.hpp"
#include "support/listener.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <doctest/doctest.h>
#include <functional>
#include <httplib.h>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using herald::Error;
using herald::ErrorKind;
using herald::http::Client;
using herald::http::ClientOptions;
using herald::http::Endpoint;
using herald::http::parse_endpoint;
using herald::http::Request;
using herald::http::Response;

namespace {

/// A latch that server handlers wait on (bounded), opened by the test or on server shutdown.
class Gate {
public:
  /// Waits until open() or `limit`; true when opened.
  bool wait(std::chrono::milliseconds limit) {
    std::unique_lock lock(m_mutex);
    return m_cv.wait_for(lock, limit, [this] { return m_open; });
  }
  void open() {
    {
      std::lock_guard lock(m_mutex);
      m_open = true;
    }
    m_cv.notify_all();
  }

private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_open = false;
};

/// A cpp-httplib server on 127.0.0.1 (a free port, a given port, or a unix socket) run in a
/// thread for the life of the object.
class TestServer {
public:
  using Routes = std::function<void(httplib::Server&, Gate&)>;

  explicit TestServer(const Routes& routes, int port = 0,
                      std::unique_ptr<httplib::Server> server = nullptr)
      : m_server(server ? std::move(server) : std::make_unique<httplib::Server>()) {
    routes(*m_server, m_gate);
    m_server->set_keep_alive_max_count(1000);
    // httplib's stop() waits for idle kept connections to time out; keep that wait short.
    m_server->set_keep_alive_timeout(1);
    // Without it Nagle's algorithm and delayed ACKs add 40 ms to every kept-connection request.
    m_server->set_tcp_nodelay(true);
    if (port == 0) {
      m_port = m_server->bind_to_any_port("127.0.0.1");
    } else {
      m_port = m_server->bind_to_port("127.0.0.1", port) ? port : -1;
    }
    REQUIRE(m_port > 0);
    start();
  }

  /// A server listening on the unix socket `path`.
  TestServer(const Routes& routes, const std::string& path)
      : m_server(std::make_unique<httplib::Server>()) {
    routes(*m_server, m_gate);
    m_server->set_address_family(AF_UNIX);
    REQUIRE(m_server->bind_to_port(path, 80));
    start();
  }

  ~TestServer() { stop(); }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  void stop() {
    if (m_thread.joinable()) {
      m_gate.open(); // let hanging handlers return so the server can shut down
      m_server->stop();
      m_thread.join();
    }
  }

  int port() const { return m_port; }
  Gate& gate() { return m_gate; }
  Endpoint endpoint(const std::string& scheme = "http") const {
    return parse_endpoint(scheme + "://127.0.0.1:" + std::to_string(m_port), "test");
  }

private:
  void start() {
    m_thread = std::thread([this] { m_server->listen_after_bind(); });
    REQUIRE(herald::test::eventually([this] { return m_server->is_running(); }, 5s));
  }

  Gate m_gate;
  std::unique_ptr<httplib::Server> m_server;
  int m_port = 0;
  std::thread m_thread;
};

/// An endpoint on 127.0.0.1 where nothing listens (a port that was free a moment ago).
Endpoint refused_endpoint() {
  return parse_endpoint("127.0.0.1:" + std::to_string(herald::test::free_port()), "test");
}

Request get(const std::string& path) {
  Request request;
  request.path = path;
  return request;
}

/// Runs `body` and returns the herald::Error it throws (fails the test when it throws none).
template <typename Body> Error catch_error(Body body) {
  try {
    body();
  } catch (const Error& error) {
    return error;
  }
  FAIL("expected a herald::Error");
  return Error(ErrorKind::internal, "unreachable");
}

} // namespace

TEST_SUITE_BEGIN("http");

TEST_CASE("parse_endpoint accepts http, https, host:port, IPv6 and unix forms") {
  struct Case {
    const char* text;
    const char* scheme;
    const char* host;
    int port;
    const char* unix_socket;
    const char* base_path;
    const char* str;
  };
  const Case cases[] = {
      {"http://127.0.0.1:2379", "http", "127.0.0.1", 2379, "", "", "http://127.0.0.1:2379"},
      {"https://etcd1:2379", "https", "etcd1", 2379, "", "", "https://etcd1:2379"},
      {"etcd1:2379", "http", "etcd1", 2379, "", "", "http://etcd1:2379"},
      {"[::1]:2379", "http", "::1", 2379, "", "", "http://[::1]:2379"},
      {"https://[fe80::1]:8443", "https", "fe80::1", 8443, "", "", "https://[fe80::1]:8443"},
      {"http://h", "http", "h", 80, "", "", "http://h:80"},
      {"https://h", "https", "h", 443, "", "", "https://h:443"},
      {"tcp://10.0.0.5:2375", "http", "10.0.0.5", 2375, "", "", "http://10.0.0.5:2375"},
      {"http://h:2375/v1.41/", "http", "h", 2375, "", "/v1.41", "http://h:2375"},
      {"unix:///var/run/docker.sock", "http", "", 0, "/var/run/docker.sock", "",
       "unix:///var/run/docker.sock"},
      {"unix:/var/run/fleet.sock", "http", "", 0, "/var/run/fleet.sock", "",
       "unix:///var/run/fleet.sock"},
      {"unix:run/fleet.sock", "http", "", 0, "run/fleet.sock", "", "unix:run/fleet.sock"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    Endpoint endpoint = parse_endpoint(c.text, "--endpoint");
    CHECK(endpoint.scheme == c.scheme);
    CHECK(endpoint.host == c.host);
    CHECK(endpoint.port == c.port);
    CHECK(endpoint.unix_socket == c.unix_socket);
    CHECK(endpoint.base_path == c.base_path);
    CHECK(endpoint.str() == c.str);
    // What str() prints parses back to the same place.
    Endpoint again = parse_endpoint(endpoint.str(), "--endpoint");
    CHECK(again.str() == endpoint.str());
  }
}

TEST_CASE("parse_endpoint rejects malformed text with a config error naming the flag") {
  const char* bad[] = {"",           "http://",        "etcd1",           "etcd1:",
                       "etcd1:0",    "etcd1:70000",    "etcd1:port",      "etcd1:12x",
                       "ftp://h:21", "unix://",        "unix:",           "unix://relative.sock",
                       "::1:2379",   "[::1:2379",      "[::1]2379",       "[127.0.0.1]:80",
                       "h:1/v2",     "http://u:p@h:1", "http://h:1/?x=1", "http://h :1",
                       ":2379",      "http://:2379/x"};
  for (const char* text : bad) {
    CAPTURE(text);
    Error error = catch_error([&] { parse_endpoint(text, "--registry"); });
    CHECK(error.kind() == ErrorKind::config);
    CHECK(std::string(error.what()).find("--registry") != std::string::npos);
    CHECK(std::string(error.what()).find("'" + herald::http::redact_url(text) + "'") !=
          std::string::npos);
  }
}

TEST_CASE("parse_endpoint never echoes user info, a query or a fragment") {
  for (const char* text : {"http://u:secret@h:1", "http://h:1/?token=secret", "h:1#secret",
                           "http://h:1/v2?password=secret"}) {
    CAPTURE(text);
    std::string message = catch_error([&] { parse_endpoint(text, "--registry"); }).what();
    CHECK(message.find("secret") == std::string::npos);
    CHECK(message.find("***") != std::string::npos);
  }
  CHECK(herald::http::redact_url("etcd://h:1?password=x") == "etcd://h:1?***");
  CHECK(herald::http::redact_url("http://u:p@h:1/x") == "http://***@h:1/x");
  CHECK(herald::http::redact_url("h:1\n") == "h:1\\n");
}

TEST_CASE("send performs GET and POST with body, default and per-request headers") {
  TestServer server([](httplib::Server& s, Gate&) {
    s.Get("/v2/keys/a", [](const httplib::Request& req, httplib::Response& res) {
      res.set_header("X-Etcd-Index", "42");
      res.set_content("get " + req.get_header_value("X-Default") + " " +
                          req.get_param_value("recursive"),
                      "text/plain");
    });
    s.Post("/v3/kv/put", [](const httplib::Request& req, httplib::Response& res) {
      res.status = 201;
      res.set_content("post " + req.body + " " + req.get_header_value("Content-Type") + " " +
                          req.get_header_value("X-Default") + " " + req.get_header_value("X-Extra"),
                      "application/json");
    });
    s.Delete("/v2/keys/a", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("delete " + std::to_string(req.body.size()), "text/plain");
    });
  });
  ClientOptions options;
  options.default_headers = {"X-Default: always"};
  Client client({server.endpoint()}, options);

  Response got = client.send(get("/v2/keys/a?recursive=true"));
  CHECK(got.status == 200);
  CHECK(got.ok());
  CHECK(got.body == "get always true");
  CHECK(got.header("x-etcd-index") == "42");
  CHECK(got.header("X-ETCD-INDEX") == "42");
  CHECK_FALSE(got.header("x-missing").has_value());
  CHECK(got.endpoint == server.endpoint().str());

  Request post;
  post.method = "POST";
  post.path = "/v3/kv/put";
  post.body = std::string(2000, 'k'); // larger than curl's "Expect: 100-continue" threshold
  post.headers = {"Content-Type: application/json", "X-Extra: once"};
  auto start = std::chrono::steady_clock::now();
  Response put = client.send(post);
  CHECK(std::chrono::steady_clock::now() - start < 500ms);
  CHECK(put.status == 201);
  CHECK(put.body == "post " + post.body + " application/json always once");

  Request del;
  del.method = "DELETE";
  del.path = "v2/keys/a"; // a missing leading '/' is added
  Response deleted = client.send(del);
  CHECK(deleted.status == 200);
  CHECK(deleted.body == "delete 0");
}

TEST_CASE("send keeps one connection for successive requests") {
  std::mutex mutex;
  std::set<int> client_ports;
  TestServer server([&](httplib::Server& s, Gate&) {
    auto record = [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      client_ports.insert(req.remote_port);
      res.set_content("ok", "text/plain");
    };
    s.Get("/ping", record);
    s.Put("/ping", record);
  });
  Client client({server.endpoint()}, {});
  for (int i = 0; i < 6; ++i) {
    Request request = get("/ping");
    if (i % 2 == 1) {
      request.method = "PUT";
      request.body = "value=" + std::to_string(i);
      request.headers = {"X-Round: " + std::to_string(i)};
    }
    CHECK(client.send(request).body == "ok");
  }
  std::lock_guard lock(mutex);
  CHECK(client_ports.size() == 1);
}

TEST_CASE("send reconnects when the server closed an idle kept connection") {
  std::atomic<int> served{0};
  TestServer server([&](httplib::Server& s, Gate&) {
    s.set_keep_alive_timeout(1);
    s.Get("/ping", [&](const httplib::Request&, httplib::Response& res) {
      ++served;
      res.set_content("ok", "text/plain");
    });
  });
  Client client({server.endpoint()}, {});
  CHECK(client.send(get("/ping")).body == "ok");
  herald::test::sleep_ms(1500); // the server drops the idle connection after 1 s
  CHECK(client.send(get("/ping")).body == "ok");
  CHECK(served == 2);
}

TEST_CASE("send fails over from a refused endpoint and sticks to the one that answered") {
  auto named = [](const std::string& name) {
    return [name](httplib::Server& s, Gate&) {
      s.Get("/who", [name](const httplib::Request&, httplib::Response& res) {
        res.set_content(name, "text/plain");
      });
    };
  };
  Endpoint first = refused_endpoint();
  auto second = std::make_unique<TestServer>(named("second"));
  Client client({first, second->endpoint()}, {});
  CHECK(client.current_endpoint().str() == first.str());

  Response answer = client.send(get("/who"));
  CHECK(answer.body == "second");
  CHECK(answer.endpoint == second->endpoint().str());
  CHECK(client.current_endpoint().str() == second->endpoint().str());

  // The first endpoint comes back, but the client stays where it was answered.
  TestServer revived(named("first"), first.port);
  CHECK(client.send(get("/who")).body == "second");

  // The second goes away: the client moves on and stays there.
  second.reset();
  CHECK(client.send(get("/who")).body == "first");
  CHECK(client.current_endpoint().str() == first.str());
  CHECK(client.send(get("/who")).body == "first");
}

TEST_CASE("send throws unavailable naming every endpoint when none can be reached") {
  Endpoint one = refused_endpoint();
  Endpoint two = refused_endpoint();
  ClientOptions options;
  options.name = "etcd";
  Client client({one, two}, options);
  Error error = catch_error([&] { client.send(get("/version")); });
  CHECK(error.kind() == ErrorKind::unavailable);
  std::string message = error.what();
  CHECK(message ==
        "etcd at " + one.str() + ": connection refused; " + two.str() + ": connection refused");
}

TEST_CASE("send reports a missing unix socket as unavailable") {
  herald::test::TempDir dir;
  Client client({parse_endpoint("unix://" + dir.file("none.sock"), "test")}, {});
  Error error = catch_error([&] { client.send(get("/_ping")); });
  CHECK(error.kind() == ErrorKind::unavailable);
  CHECK(std::string(error.what()).find("none.sock: no such socket") != std::string::npos);
}

TEST_CASE("send gives up after the request timeout and says so") {
  TestServer server([](httplib::Server& s, Gate& gate) {
    s.Get("/slow", [&gate](const httplib::Request&, httplib::Response& res) {
      gate.wait(5s);
      res.set_content("late", "text/plain");
    });
  });
  ClientOptions options;
  options.request_timeout = 200ms;
  Client client({server.endpoint()}, options);
  auto start = std::chrono::steady_clock::now();
  Error error = catch_error([&] { client.send(get("/slow")); });
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(error.kind() == ErrorKind::unavailable);
  CHECK(std::string(error.what()).find("timed out after 200ms") != std::string::npos);
  CHECK(took >= 190ms);
  CHECK(took < 2s);
}

TEST_CASE("the request timeout is the whole wait, failover to a second silent endpoint included") {
  herald::test::Listener first; // accepted by the kernel, never answered
  herald::test::Listener second;
  ClientOptions options;
  options.request_timeout = 600ms;
  Client client({parse_endpoint("127.0.0.1:" + std::to_string(first.port()), "test"),
                 parse_endpoint("127.0.0.1:" + std::to_string(second.port()), "test")},
                options);
  auto start = std::chrono::steady_clock::now();
  Error error = catch_error([&] { client.send(get("/v3/kv/range")); });
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(error.kind() == ErrorKind::unavailable);
  CHECK(std::string(error.what()).find("timed out after 600ms") != std::string::npos);
  CHECK(took >= 550ms);
  CHECK(took < 1000ms); // not 600ms per endpoint
}

TEST_CASE("send talks to a server on a unix socket and reuses the connection") {
  herald::test::TempDir dir;
  std::string path = dir.file("api.sock");
  std::mutex mutex;
  int requests = 0;
  TestServer server(
      [&](httplib::Server& s, Gate&) {
        s.Get("/v1.41/_ping", [&](const httplib::Request& req, httplib::Response& res) {
          std::lock_guard lock(mutex);
          ++requests;
          res.set_content("OK " + req.get_header_value("Host"), "text/plain");
        });
      },
      path);
  Endpoint endpoint = parse_endpoint("unix://" + path, "DOCKER_HOST");
  endpoint.base_path = "/v1.41";
  Client client({endpoint}, {});
  Response first = client.send(get("/_ping"));
  CHECK(first.status == 200);
  CHECK(first.body == "OK localhost");
  CHECK(first.endpoint == "unix://" + path);
  CHECK(client.send(get("/_ping")).body == "OK localhost");
  std::lock_guard lock(mutex);
  CHECK(requests == 2);
}

TEST_CASE("stream delivers lines in order across chunk boundaries") {
  const std::vector<std::string> pieces = {"alpha\nbe", "ta\r\ngam", "m", "a\n\n{\"x\":1}\n",
                                           "last without newline"};
  TestServer server([&](httplib::Server& s, Gate&) {
    s.Get("/watch", [&](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [&](size_t, httplib::DataSink& sink) {
        for (const std::string& piece : pieces) {
          sink.write(piece.data(), piece.size());
          std::this_thread::sleep_for(15ms); // separate chunks on the wire
        }
        sink.done();
        return true;
      });
    });
  });
  Client client({server.endpoint()}, {});
  std::vector<std::string> lines;
  Response response = client.stream(get("/watch"), [&](std::string_view line) {
    lines.emplace_back(line);
    return true;
  });
  CHECK(response.status == 200);
  CHECK(response.body.empty());
  CHECK(lines == std::vector<std::string>{"alpha", "beta", "gamma", "", "{\"x\":1}",
                                          "last without newline"});
}

TEST_CASE("stream ends early when the line handler returns false") {
  std::atomic<bool> server_saw_close{false};
  TestServer server([&](httplib::Server& s, Gate&) {
    s.Get("/events", [&](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [&](size_t, httplib::DataSink& sink) {
        for (int i = 0; i < 2000; ++i) { // bounded: about 10 s at most
          std::string line = "event " + std::to_string(i) + "\n";
          if (!sink.write(line.data(), line.size())) {
            server_saw_close = true;
            return false;
          }
          std::this_thread::sleep_for(5ms);
        }
        sink.done();
        return true;
      });
    });
  });
  Client client({server.endpoint()}, {});
  std::vector<std::string> lines;
  auto start = std::chrono::steady_clock::now();
  Response response = client.stream(get("/events"), [&](std::string_view line) {
    lines.emplace_back(line);
    return lines.size() < 3;
  });
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(response.status == 200);
  CHECK(lines == std::vector<std::string>{"event 0", "event 1", "event 2"});
  CHECK(herald::test::eventually([&] { return server_saw_close.load(); }, 5s));
}

TEST_CASE("send with max_body keeps that much of an endless body and returns the status") {
  std::atomic<bool> server_saw_close{false};
  TestServer server([&](httplib::Server& s, Gate&) {
    s.Get("/endless", [&](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_chunked_content_provider("text/plain", [&](size_t, httplib::DataSink& sink) {
        std::string chunk(16 * 1024, 'y');
        for (int i = 0; i < 200000; ++i) { // bounded: 3 GB, never reached
          if (!sink.write(chunk.data(), chunk.size())) {
            server_saw_close = true;
            return false;
          }
        }
        sink.done();
        return true;
      });
    });
    s.Get("/small", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("all of it", "text/plain");
    });
  });
  Client client({server.endpoint()}, {});
  Request request = get("/endless");
  request.max_body = 1000;
  auto start = std::chrono::steady_clock::now();
  Response response = client.send(request);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(response.status == 503);
  CHECK(response.body == std::string(1000, 'y'));
  CHECK(response.truncated);
  CHECK(herald::test::eventually([&] { return server_saw_close.load(); }, 5s));
  // The same client reads the next body in full.
  Response next = client.send(get("/small"));
  CHECK(next.body == "all of it");
  CHECK_FALSE(next.truncated);
}

TEST_CASE("a body or a streamed line over max_response is a data error naming the URL") {
  TestServer server([&](httplib::Server& s, Gate&) {
    auto endless = [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [](size_t, httplib::DataSink& sink) {
        std::string chunk(16 * 1024, 'y'); // never a newline
        for (int i = 0; i < 200000; ++i) { // bounded: 3 GB, never reached
          if (!sink.write(chunk.data(), chunk.size())) {
            return false;
          }
        }
        sink.done();
        return true;
      });
    };
    s.Get("/v2/keys/services", endless);
    s.Get("/watch", endless);
    s.Get("/small", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("all of it\n", "text/plain");
    });
  });
  ClientOptions options;
  options.name = "etcd";
  options.max_response = 1 << 20;
  Client client({server.endpoint()}, options);
  auto start = std::chrono::steady_clock::now();
  Error error = catch_error([&] { client.send(get("/v2/keys/services?recursive=true&t=SECRET")); });
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(error.kind() == ErrorKind::data);
  std::string message = error.what();
  CHECK(message.find("etcd at " + server.endpoint().str() +
                     ": GET /v2/keys/services: the answer is larger than 1 MiB") !=
        std::string::npos);
  CHECK(message.find("SECRET") == std::string::npos);

  Error line_error =
      catch_error([&] { client.stream(get("/watch"), [](std::string_view) { return true; }); });
  CHECK(line_error.kind() == ErrorKind::data);
  CHECK(std::string(line_error.what()).find("GET /watch: the answer is larger than 1 MiB") !=
        std::string::npos);

  CHECK(client.send(get("/small")).body == "all of it\n"); // the client still works
  CHECK(ClientOptions{}.max_response == herald::http::k_default_max_response);
}

TEST_CASE("stream hands a non-2xx body back instead of streaming it") {
  TestServer server([](httplib::Server& s, Gate&) {
    s.Get("/watch", [](const httplib::Request&, httplib::Response& res) {
      res.status = 400;
      res.set_content("{\"errorCode\":401,\"message\":\"The event in requested index is outdated "
                      "and cleared\"}\n",
                      "application/json");
    });
  });
  Client client({server.endpoint()}, {});
  int calls = 0;
  Response response = client.stream(get("/watch"), [&](std::string_view) {
    ++calls;
    return true;
  });
  CHECK(calls == 0);
  CHECK(response.status == 400);
  CHECK(response.body.find("outdated and cleared") != std::string::npos);
}

TEST_CASE("stream passes an exception from the line handler to the caller") {
  TestServer server([](httplib::Server& s, Gate&) {
    s.Get("/watch", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("one\ntwo\n", "text/plain");
    });
  });
  Client client({server.endpoint()}, {});
  Error error = catch_error([&] {
    client.stream(get("/watch"), [](std::string_view line) -> bool {
      throw Error(ErrorKind::data, "bad line: " + std::string(line));
    });
  });
  CHECK(error.kind() == ErrorKind::data);
  CHECK(std::string(error.what()) == "bad line: one");
  // The client stays usable afterwards.
  std::vector<std::string> lines;
  client.stream(get("/watch"), [&](std::string_view line) {
    lines.emplace_back(line);
    return true;
  });
  CHECK(lines == std::vector<std::string>{"one", "two"});
}

TEST_CASE("stream times out with a temporary error once lines have arrived") {
  TestServer server([](httplib::Server& s, Gate& gate) {
    s.Get("/watch", [&gate](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [&gate](size_t, httplib::DataSink& sink) {
        sink.write("first\n", 6);
        gate.wait(5s);
        sink.done();
        return true;
      });
    });
  });
  Client client({server.endpoint()}, {});
  Request request = get("/watch");
  request.timeout = 300ms;
  std::vector<std::string> lines;
  Error error = catch_error([&] {
    client.stream(request, [&](std::string_view line) {
      lines.emplace_back(line);
      return true;
    });
  });
  CHECK(error.kind() == ErrorKind::temporary);
  CHECK(std::string(error.what()).find("within 300ms") != std::string::npos);
  CHECK(lines == std::vector<std::string>{"first"});
}

TEST_CASE("a stop token aborts a hanging long-poll at once with Error(cancelled)") {
  std::atomic<bool> polling{false};
  TestServer server([&](httplib::Server& s, Gate& gate) {
    s.Get("/v2/keys/services", [&](const httplib::Request&, httplib::Response& res) {
      polling = true;
      gate.wait(10s);
      res.set_content("{}", "application/json");
    });
  });
  herald::StopToken stop;
  ClientOptions options;
  options.stop = &stop;
  options.name = "etcd";
  Client client({server.endpoint()}, options);
  Request request = get("/v2/keys/services?wait=true&recursive=true");
  request.timeout = 0ms; // a long poll may block for minutes

  std::chrono::steady_clock::time_point requested_at;
  std::thread stopper([&] {
    herald::test::eventually([&] { return polling.load(); }, 5s);
    herald::test::sleep_ms(50);
    requested_at = std::chrono::steady_clock::now();
    stop.request();
  });
  Error error = catch_error([&] { client.stream(request, [](std::string_view) { return true; }); });
  auto thrown_at = std::chrono::steady_clock::now();
  stopper.join();
  CHECK(polling.load());
  CHECK(error.kind() == ErrorKind::cancelled);
  CHECK(std::string(error.what()).find("etcd at " + server.endpoint().str()) == 0);
  auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(thrown_at - requested_at);
  MESSAGE("cancel latency: " << latency.count() << " ms");
  CHECK(latency < 500ms);
}

TEST_CASE("a stop requested before a request cancels it without contacting the server") {
  std::atomic<int> served{0};
  TestServer server([&](httplib::Server& s, Gate&) {
    s.Get("/ping", [&](const httplib::Request&, httplib::Response& res) {
      ++served;
      res.set_content("ok", "text/plain");
    });
  });
  herald::StopToken stop;
  ClientOptions options;
  options.stop = &stop;
  Client client({server.endpoint()}, options);
  CHECK(client.send(get("/ping")).body == "ok");
  stop.request();
  CHECK(catch_error([&] { client.send(get("/ping")); }).kind() == ErrorKind::cancelled);
  CHECK(served == 1);
  // A sidekick detaches the fired token to deregister over the same client.
  client.set_stop(nullptr);
  CHECK(client.send(get("/ping")).body == "ok");
  CHECK(served == 2);
}

TEST_CASE("throw_status_error maps 403 to config with the server's message and no headers") {
  TestServer server([](httplib::Server& s, Gate&) {
    s.Post("/v3/kv/put", [](const httplib::Request&, httplib::Response& res) {
      res.status = 403;
      res.set_content("{\"error\":\"etcdserver: permission denied\",\"code\":7}",
                      "application/json");
    });
  });
  Client client({server.endpoint()}, {});
  Request request;
  request.method = "POST";
  request.path = "/v3/kv/put?token=s3cr3t-query";
  request.headers = {"Authorization: s3cr3t-token"};
  request.body = "{}";
  Response response = client.send(request);
  REQUIRE(response.status == 403);

  Error explained = catch_error([&] {
    herald::http::throw_status_error(request, response, "etcdserver: permission denied");
  });
  CHECK(explained.kind() == ErrorKind::config);
  std::string message = explained.what();
  CHECK(message.find("POST " + server.endpoint().str() +
                     "/v3/kv/put: HTTP 403 Forbidden: "
                     "etcdserver: permission denied") == 0);
  CHECK(message.find("s3cr3t") == std::string::npos);

  // Without the caller's extraction the body itself is quoted, on one line.
  Error raw = catch_error([&] { herald::http::throw_status_error(request, response); });
  CHECK(std::string(raw.what()).find("\"error\":\"etcdserver: permission denied\"") !=
        std::string::npos);
  CHECK(std::string(raw.what()).find("s3cr3t") == std::string::npos);
}

TEST_CASE("throw_status_error maps 503 to temporary, 404 to not_found, other 4xx to data") {
  TestServer server([](httplib::Server& s, Gate&) {
    s.Get("/unavailable", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_content("etcdserver: no leader\nretry later\n", "text/plain");
    });
  });
  Client client({server.endpoint()}, {});
  Request request = get("/unavailable");
  Response response = client.send(request);
  REQUIRE(response.status == 503);
  Error error = catch_error([&] { herald::http::throw_status_error(request, response); });
  CHECK(error.kind() == ErrorKind::temporary);
  CHECK(std::string(error.what()) == "GET " + server.endpoint().str() +
                                         "/unavailable: HTTP 503 Service Unavailable: "
                                         "etcdserver: no leader retry later");

  struct Case {
    long status;
    ErrorKind kind;
  };
  const Case cases[] = {{401, ErrorKind::config},    {404, ErrorKind::not_found},
                        {408, ErrorKind::temporary}, {429, ErrorKind::temporary},
                        {500, ErrorKind::temporary}, {400, ErrorKind::data},
                        {409, ErrorKind::data},      {412, ErrorKind::data}};
  for (const Case& c : cases) {
    CAPTURE(c.status);
    Response r;
    r.status = c.status;
    r.endpoint = "http://127.0.0.1:2379";
    r.body = std::string(1000, 'x');
    Error e = catch_error([&] { herald::http::throw_status_error(request, r); });
    CHECK(e.kind() == c.kind);
    CHECK(std::string(e.what()).size() < 400); // a long body is shortened
  }
}

namespace {

/// A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with the
/// openssl CLI.
struct TestPki {
  herald::test::TempDir dir;
  std::string ca_cert = dir.file("ca.crt");
  std::string server_cert = dir.file("server.crt");
  std::string server_key = dir.file("server.key");
  std::string client_cert = dir.file("client.crt");
  std::string client_key = dir.file("client.key");

  TestPki() {
    std::string openssl = herald::test::find_program("openssl");
    if (openssl.empty()) {
      herald::test::skip("the openssl command is not installed");
    }
    auto ok = [](const herald::test::RunResult& result) {
      INFO(result.err);
      REQUIRE(result.status == 0);
    };
    std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                   "-nodes"};
    auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
      a.insert(a.end(), b.begin(), b.end());
      return a;
    };
    ok(herald::test::run(
        with({openssl, "req", "-x509", "-days", "2", "-subj", "/CN=herald test CA", "-keyout",
              dir.file("ca.key"), "-out", ca_cert, "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"},
             ec)));
    std::string ext = dir.write("ext.cnf", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    for (auto [cert, key, cn] : {std::tuple{server_cert, server_key, "127.0.0.1"},
                                 std::tuple{client_cert, client_key, "herald client"}}) {
      std::string csr = cert + ".csr";
      ok(herald::test::run(with(
          {openssl, "req", "-subj", std::string("/CN=") + cn, "-keyout", key, "-out", csr}, ec)));
      ok(herald::test::run({openssl, "x509", "-req", "-days", "2", "-in", csr, "-CA", ca_cert,
                            "-CAkey", dir.file("ca.key"), "-CAcreateserial", "-out", cert,
                            "-extfile", ext}));
    }
  }
};

void tls_routes(httplib::Server& server, Gate&) {
  server.Get("/version", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"etcdserver\":\"3.4.23\"}", "application/json");
  });
}

} // namespace

TEST_CASE("https succeeds with the CA given by --cacert and fails clearly without it") {
  TestPki pki;
  TestServer server(
      tls_routes, 0,
      std::make_unique<httplib::SSLServer>(pki.server_cert.c_str(), pki.server_key.c_str()));
  Endpoint endpoint = server.endpoint("https");

  ClientOptions trusted;
  trusted.tls.ca_file = pki.ca_cert;
  Client client({endpoint}, trusted);
  CHECK(client.send(get("/version")).body == "{\"etcdserver\":\"3.4.23\"}");
  CHECK(client.send(get("/version")).status == 200);

  ClientOptions untrusted;
  untrusted.name = "etcd";
  Client stranger({endpoint}, untrusted);
  Error error = catch_error([&] { stranger.send(get("/version")); });
  CHECK(error.kind() == ErrorKind::config);
  std::string message = error.what();
  CHECK(message.find("etcd at " + endpoint.str()) == 0);
  CHECK(message.find("--cacert") != std::string::npos);

  ClientOptions insecure;
  insecure.tls.insecure_skip_verify = true;
  Client careless({endpoint}, insecure);
  CHECK(careless.send(get("/version")).status == 200);
}

TEST_CASE("https presents the client certificate a server requires") {
  TestPki pki;
  TestServer server(tls_routes, 0,
                    std::make_unique<httplib::SSLServer>(
                        pki.server_cert.c_str(), pki.server_key.c_str(), pki.ca_cert.c_str()));
  Endpoint endpoint = server.endpoint("https");

  ClientOptions with_cert;
  with_cert.tls = {pki.ca_cert, pki.client_cert, pki.client_key, false};
  Client client({endpoint}, with_cert);
  CHECK(client.send(get("/version")).status == 200);

  ClientOptions without_cert;
  without_cert.tls.ca_file = pki.ca_cert;
  Client anonymous({endpoint}, without_cert);
  Error error = catch_error([&] { anonymous.send(get("/version")); });
  // httplib sometimes hangs up without a TLS alert, and then the client cannot tell this from a
  // lost connection; either way the message names the flags to use.
  CHECK((error.kind() == ErrorKind::config || error.kind() == ErrorKind::unavailable));
  CHECK(std::string(error.what()).find(endpoint.str()) != std::string::npos);
  CHECK(std::string(error.what()).find("--cert and --key") != std::string::npos);
}

TEST_CASE("a TLS alert rejecting the missing client certificate is a config error") {
  TestPki pki;
  int port = herald::test::free_port();
  herald::test::Process server({herald::test::find_program("openssl"), "s_server", "-accept",
                                "127.0.0.1:" + std::to_string(port), "-cert", pki.server_cert,
                                "-key", pki.server_key, "-CAfile", pki.ca_cert, "-Verify", "1",
                                "-www", "-naccept", "4"});
  REQUIRE(herald::test::eventually([&] { return herald::test::port_open(port); }, 5s));
  Endpoint endpoint = parse_endpoint("https://127.0.0.1:" + std::to_string(port), "test");

  ClientOptions without_cert;
  without_cert.name = "etcd";
  without_cert.tls.ca_file = pki.ca_cert;
  Client anonymous({endpoint}, without_cert);
  Error error = catch_error([&] { anonymous.send(get("/")); });
  CHECK(error.kind() == ErrorKind::config);
  std::string message = error.what();
  CHECK(message.find("etcd at " + endpoint.str() + ": TLS") == 0);
  CHECK(message.find("certificate required") != std::string::npos);
  CHECK(message.find("--cert and --key") != std::string::npos);

  ClientOptions with_cert;
  with_cert.tls = {pki.ca_cert, pki.client_cert, pki.client_key, false};
  Client client({endpoint}, with_cert);
  CHECK(client.send(get("/")).status == 200);
}

TEST_CASE("a client with an unreadable CA file is a config error before any request") {
  herald::test::TempDir dir;
  ClientOptions options;
  options.tls.ca_file = dir.file("missing-ca.pem");
  Error error = catch_error([&] { Client client({parse_endpoint("https://h:1", "t")}, options); });
  CHECK(error.kind() == ErrorKind::config);
  CHECK(std::string(error.what()).find("missing-ca.pem") != std::string::npos);
  CHECK(std::string(error.what()).find("--cacert") != std::string::npos);
}

TEST_CASE("redact_url hides user info, queries and fragments, and only those") {
  using herald::http::redact_url;
  CHECK(redact_url("http://root:s3cret@10.0.0.1:2379/v2/keys") ==
        "http://***@10.0.0.1:2379/v2/keys");
  CHECK(redact_url("etcd://h:1?password=XYZ") == "etcd://h:1?***");
  CHECK(redact_url("http://h:1/v2/keys#frag") == "http://h:1/v2/keys#***");
  // An '@' in the path is an instance name, not user info.
  CHECK(redact_url("http://127.0.0.1:2379/v2/keys/services/web/web@1") ==
        "http://127.0.0.1:2379/v2/keys/services/web/web@1");
  CHECK(redact_url("http://u:p@h:1/fleet/v1/units/web@1.service") ==
        "http://***@h:1/fleet/v1/units/web@1.service");
  CHECK(redact_url("unix:///var/run/fleet.sock") == "unix:///var/run/fleet.sock");
}

TEST_SUITE_END();
