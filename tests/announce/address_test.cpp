#include "herald/announce/address.hpp"
#include "herald/core/error.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <map>
#include <string>

using namespace herald;
using namespace herald::announce;

namespace {

/// An environment made of `vars` only.
EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end() || it->second.empty()) {
      return std::nullopt;
    }
    return it->second;
  };
}

const InstanceName k_web1{"web", "1"};

ErrorKind kind_of(const AddressInput& input, const EnvLookup& env) {
  try {
    resolve_address(input, k_web1, env);
  } catch (const Error& e) {
    return e.kind();
  }
  FAIL("resolve_address did not throw");
  return ErrorKind::internal;
}

} // namespace

TEST_SUITE_BEGIN("announce");

TEST_CASE("--addr names the host and port on its own") {
  auto env = env_of({{"COREOS_PRIVATE_IPV4", "10.9.9.9"}});
  CHECK(resolve_address({"10.0.0.5:3000", "", ""}, k_web1, env) == HostPort{"10.0.0.5", 3000});
  CHECK(resolve_address({"[fd00::5]:8080", "", ""}, k_web1, env) == HostPort{"fd00::5", 8080});
}

TEST_CASE("--port takes its host from --host before COREOS_PRIVATE_IPV4") {
  auto env = env_of({{"COREOS_PRIVATE_IPV4", "10.9.9.9"}});
  CHECK(resolve_address({"", "10.0.0.7", "3000"}, k_web1, env) == HostPort{"10.0.0.7", 3000});
  CHECK(resolve_address({"", "[fd00::7]", "3000"}, k_web1, env) == HostPort{"fd00::7", 3000});
  CHECK(resolve_address({"", "fd00::8", "3000"}, k_web1, env) == HostPort{"fd00::8", 3000});
}

TEST_CASE("--port takes COREOS_PRIVATE_IPV4 from the environment before /etc/environment") {
  herald::test::TempDir dir;
  auto file = dir.write("environment", "COREOS_PRIVATE_IPV4=10.1.1.1\n");
  auto env = env_of({{"COREOS_PRIVATE_IPV4", "10.2.2.2"}, {"HERALD_ENVIRONMENT_FILE", file}});
  CHECK(resolve_address({"", "", "3000"}, k_web1, env) == HostPort{"10.2.2.2", 3000});
}

TEST_CASE("--port falls back to COREOS_PRIVATE_IPV4 in the environment file") {
  herald::test::TempDir dir;
  auto file = dir.write("environment", "# CoreOS\nCOREOS_PUBLIC_IPV4=203.0.113.4\n"
                                       "COREOS_PRIVATE_IPV4=\"10.1.1.1\"\n");
  auto env = env_of({{"HERALD_ENVIRONMENT_FILE", file}});
  CHECK(environment_file(env) == file);
  CHECK(resolve_address({"", "", "3000"}, k_web1, env) == HostPort{"10.1.1.1", 3000});
}

TEST_CASE("the environment file defaults to /etc/environment") {
  CHECK(environment_file(env_of({})) == "/etc/environment");
}

TEST_CASE("no host anywhere is a configuration error that names the instance and the fix") {
  herald::test::TempDir dir;
  auto file = dir.write("environment", "PATH=/usr/bin\n");
  auto env = env_of({{"HERALD_ENVIRONMENT_FILE", file}});
  try {
    resolve_address({"", "", "3000"}, k_web1, env);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::config);
    std::string what = e.what();
    CHECK(what.find("no address for web@1") == 0);
    CHECK(what.find("--addr HOST:PORT") != std::string::npos);
    CHECK(what.find("COREOS_PRIVATE_IPV4") != std::string::npos);
  }
  // A missing environment file is "nothing found" too, not a crash.
  auto missing = env_of({{"HERALD_ENVIRONMENT_FILE", dir.file("absent")}});
  CHECK(kind_of({"", "", "3000"}, missing) == ErrorKind::config);
}

TEST_CASE("bad address flags are usage errors") {
  auto env = env_of({{"COREOS_PRIVATE_IPV4", "10.9.9.9"}});
  CHECK(kind_of({"10.0.0.5", "", ""}, env) == ErrorKind::usage);          // no port
  CHECK(kind_of({"10.0.0.5:99999", "", ""}, env) == ErrorKind::usage);    // port out of range
  CHECK(kind_of({"10.0.0.5:3000", "", "3000"}, env) == ErrorKind::usage); // --addr and --port
  CHECK(kind_of({"", "", "http"}, env) == ErrorKind::usage);              // port not a number
  CHECK(kind_of({"", "", "0"}, env) == ErrorKind::usage);
  CHECK(kind_of({"", "", ""}, env) == ErrorKind::usage); // no port at all
  CHECK(kind_of({"", "bad host", "3000"}, env) == ErrorKind::usage);
}

TEST_CASE("--addr and --host take an IP literal or a DNS name and nothing else") {
  auto env = env_of({});
  using namespace std::string_literals;
  // The takeover: CR is whitespace to nginx, so this host became a server block.
  std::string takeover =
      "127.0.0.1;}server{listen\r127.0.0.1;return\r200\rpwned;}upstream\rx{server\r127.0.0.1:1";
  for (const std::string& addr : {takeover, "10.0.0.9\r:80"s, "web\n:80"s, "a b:80"s, "x\"y:80"s,
                                  "[zz]:80"s, "h\xc3\xa9:80"s, std::string(300, 'a') + ":80"}) {
    CAPTURE(addr);
    try {
      resolve_address({addr, "", ""}, k_web1, env);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      std::string message = e.what();
      CHECK(message.find("--addr") != std::string::npos);
      CHECK(message.find_first_of("\r\n") == std::string::npos); // one line, escaped
    }
  }
  for (const std::string& host : {"10.0.0.9\r"s, "a;b"s, "{*f}"s, "\x1b[2J"s}) {
    CAPTURE(host);
    try {
      resolve_address({"", host, "80"}, k_web1, env);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      std::string message = e.what();
      CHECK(message.find("--host") != std::string::npos);
      CHECK(message.find_first_of("\r\n\x1b") == std::string::npos);
    }
  }
  CHECK(resolve_address({"web-1.example.com:80", "", ""}, k_web1, env).host == "web-1.example.com");
  CHECK(resolve_address({"", "fe80::1", "80"}, k_web1, env).host == "fe80::1");
}

TEST_SUITE_END();
