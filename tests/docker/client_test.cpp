#include "herald/core/error.hpp"
#include "herald/docker/client.hpp"
#include "herald/docker/events.hpp"
#include "support/log_capture.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <thread>

using herald::Error;
using herald::ErrorKind;
using herald::StopToken;
using herald::test::TempDir;
using namespace herald::docker;

namespace {

Connection socket_at(const std::string& path) {
  DockerEnv env;
  env.docker_host = "unix://" + path;
  return resolve_connection(env);
}

ErrorKind ping_error(Client& client, std::string* message) {
  try {
    client.ping();
  } catch (const Error& e) {
    *message = e.what();
    return e.kind();
  }
  FAIL("no error");
  return ErrorKind::internal;
}

} // namespace

TEST_SUITE_BEGIN("docker");

TEST_CASE("url_encode keeps unreserved characters and escapes the rest") {
  CHECK(url_encode("web-1_a.b~") == "web-1_a.b~");
  CHECK(url_encode(R"({"label":["a=b"]})") == "%7B%22label%22%3A%5B%22a%3Db%22%5D%7D");
  CHECK(url_encode("a b/c") == "a%20b%2Fc");
}

TEST_CASE("a client connects lazily and reports a missing socket as the daemon not running") {
  TempDir dir;
  Client client(socket_at(dir.file("docker.sock"))); // must not throw: nothing sent yet
  std::string message;
  CHECK(ping_error(client, &message) == ErrorKind::unavailable);
  CHECK(message.find("the Docker daemon is not running") != std::string::npos);
  CHECK(message.find(dir.file("docker.sock")) != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
}

TEST_CASE("every request, not only ping, reports the daemon not running") {
  TempDir dir;
  Client client(socket_at(dir.file("docker.sock")));
  try {
    client.inspect("web");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::unavailable);
    CHECK(std::string(e.what()).find("not running") != std::string::npos);
  }
}

TEST_CASE("a file that is not a socket at DOCKER_HOST is a config error") {
  TempDir dir;
  Client client(socket_at(dir.write("docker.sock", "")));
  std::string message;
  CHECK(ping_error(client, &message) == ErrorKind::config);
  CHECK(message.find("is not a socket") != std::string::npos);
}

TEST_CASE("an empty container name is a usage error before anything is sent") {
  TempDir dir;
  Client client(socket_at(dir.file("docker.sock")));
  try {
    client.inspect("/");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
  }
}

TEST_CASE("the event follower keeps retrying a missing daemon until asked to stop") {
  TempDir dir;
  Client client(socket_at(dir.file("docker.sock")));
  EventFollower follower(
      client, EventQuery{},
      FollowOptions{{std::chrono::milliseconds(20), std::chrono::milliseconds(100)}});
  StopToken stop;
  int reconnects = 0;
  herald::test::LogCapture log;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    stop.request();
  });
  auto started = std::chrono::steady_clock::now();
  follower.run(
      stop, [](const Event&) { return true; }, [&] { ++reconnects; });
  auto took = std::chrono::steady_clock::now() - started;
  stopper.join();
  CHECK(took >= std::chrono::milliseconds(350));
  CHECK(took < std::chrono::seconds(2));
  CHECK(reconnects == 0); // the daemon never came back
  // One line for the outage, none per attempt.
  CHECK(log.lines().size() == 1);
  CHECK(log.count("warning: docker events lost: ") == 1);
}

TEST_CASE("the event follower gives up at once on errors retrying cannot fix") {
  TempDir dir;
  Client client(socket_at(dir.write("docker.sock", "")));
  EventFollower follower(client, EventQuery{});
  StopToken stop;
  try {
    follower.run(stop, [](const Event&) { return true; });
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::config);
  }
}

TEST_SUITE_END();
