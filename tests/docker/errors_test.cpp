#include "docker/fixtures.hpp"
#include "herald/docker/errors.hpp"
#include "herald/docker/model.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using herald::Error;
using herald::ErrorKind;
using herald::test::docker_fixture;
using herald::test::TempDir;
using namespace herald::docker;

namespace {

/// The recorded error case whose request starts with `request`: {status, body as text}.
std::pair<long, std::string> recorded(const std::string& request) {
  auto cases = nlohmann::json::parse(docker_fixture("errors.v1.41.json"))["cases"];
  for (const auto& c : cases) {
    if (c["request"].get<std::string>().starts_with(request)) {
      const auto& body = c["body"];
      return {c["status"].get<long>(), body.is_string() ? body.get<std::string>() : body.dump()};
    }
  }
  FAIL("no recorded case " << request);
  return {};
}

/// A unix socket listening at `path` for the life of the object.
class ListeningSocket {
public:
  explicit ListeningSocket(const std::string& path) {
    m_fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(m_fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(m_fd, 4) == 0);
  }
  ~ListeningSocket() { ::close(m_fd); }
  ListeningSocket(const ListeningSocket&) = delete;
  ListeningSocket& operator=(const ListeningSocket&) = delete;

private:
  int m_fd = -1;
};

} // namespace

TEST_SUITE_BEGIN("docker");

TEST_CASE("a missing container is not_found \"no such container 'x'\"") {
  auto [status, body] = recorded("GET /v1.41/containers/{id}/json (no such container)");
  Error e = response_error("GET", "/containers/web/json", status, body, "web");
  CHECK(e.kind() == ErrorKind::not_found);
  CHECK(std::string(e.what()) == "no such container 'web'");

  // Without the caller's name, the id from Docker's message is used.
  Error e2 = response_error("POST", "/containers/x/start", status, body);
  CHECK(std::string(e2.what()) ==
        "no such container '66c68a1078e90fb5cf373b2f14316460b9a984e6246c55e741acafb8eead8eec'");
}

TEST_CASE("a missing image is not_found with a hint that create never pulls") {
  auto [status, body] = recorded("POST /v1.41/containers/create {\"Image\":\"no-such-image");
  Error e = response_error("POST", "/containers/create", status, body);
  CHECK(e.kind() == ErrorKind::not_found);
  CHECK(std::string(e.what()).find("No such image: no-such-image:latest") != std::string::npos);
  CHECK(std::string(e.what()).find("pull") != std::string::npos);
}

TEST_CASE("an API version the daemon refuses is a config error, JSON or plain text") {
  auto [status, body] = recorded("GET /v1.99/version");
  Error too_new = response_error("GET", "/version", status, body);
  CHECK(too_new.kind() == ErrorKind::config);
  CHECK(std::string(too_new.what()).find("client version 1.99 is too new") != std::string::npos);

  auto [status2, body2] = recorded("GET /v1.5/version");
  Error too_old = response_error("GET", "/version", status2, body2);
  CHECK(too_old.kind() == ErrorKind::config);
  CHECK(std::string(too_old.what()).find("Minimum supported API version is 1.12") !=
        std::string::npos);
}

TEST_CASE("other errors carry Docker's message, the request and a kind by status") {
  auto [s409, b409] = recorded("POST /v1.41/containers/{id}/kill (not running)");
  Error conflict = response_error("POST", "/containers/x/kill", s409, b409, "x");
  CHECK(conflict.kind() == ErrorKind::data);
  std::string message = conflict.what();
  CHECK(message.starts_with("docker: POST /containers/x/kill: HTTP 409: Cannot kill container"));
  CHECK(message.find("is not running") != std::string::npos);
  CHECK(message.find('{') == std::string::npos);

  auto [s400, b400] = recorded("GET /v1.41/containers/json?filters={\"status\"");
  Error bad_filter = response_error("GET", "/containers/json", s400, b400);
  CHECK(bad_filter.kind() == ErrorKind::data);
  CHECK(std::string(bad_filter.what()).find("Invalid filter 'status=bogus'") != std::string::npos);

  auto [s500, b500] = recorded("GET /v1.41/containers/json?filters=notjson");
  CHECK(response_error("GET", "/containers/json", s500, b500).kind() == ErrorKind::temporary);

  auto [s404, b404] = recorded("GET /v1.41/nosuchthing");
  Error page = response_error("GET", "/nosuchthing", s404, b404);
  CHECK(page.kind() == ErrorKind::not_found);
  CHECK(std::string(page.what()).find("page not found") != std::string::npos);

  CHECK(response_error("GET", "/x", 403, "").kind() == ErrorKind::config);
  CHECK(std::string(response_error("GET", "/x", 502, "").what()).find("(no message)") !=
        std::string::npos);
}

TEST_CASE("error_message takes Docker's message, or the plain-text body on one line") {
  CHECK(error_message(R"({"message":"No such container: x"})") == "No such container: x");
  CHECK(error_message("plain\ntext\n") == "plain text");
  CHECK(error_message("") == "");
}

TEST_CASE("a socket path that does not exist means the daemon is not running") {
  TempDir dir;
  auto problem = unix_socket_problem(dir.file("docker.sock"));
  REQUIRE(problem.has_value());
  CHECK(problem->kind() == ErrorKind::unavailable);
  CHECK(std::string(problem->what()).find("not running") != std::string::npos);
  CHECK(std::string(problem->what()).find(dir.file("docker.sock")) != std::string::npos);
}

TEST_CASE("a socket nobody listens on means the daemon is not running") {
  TempDir dir;
  std::string path = dir.file("docker.sock");
  { ListeningSocket gone(path); } // closed: the file stays, connections are refused
  auto problem = unix_socket_problem(path);
  REQUIRE(problem.has_value());
  CHECK(problem->kind() == ErrorKind::unavailable);
  CHECK(std::string(problem->what()).find("refuses connections") != std::string::npos);
}

TEST_CASE("a regular file where the socket should be is a config error") {
  TempDir dir;
  auto problem = unix_socket_problem(dir.write("docker.sock", "x"));
  REQUIRE(problem.has_value());
  CHECK(problem->kind() == ErrorKind::config);
}

TEST_CASE("a listening socket has no problem") {
  TempDir dir;
  ListeningSocket socket(dir.file("docker.sock"));
  CHECK_FALSE(unix_socket_problem(dir.file("docker.sock")).has_value());
}

TEST_SUITE_END();
