#include "herald/core/error.hpp"
#include "herald/docker/connection.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <filesystem>

using herald::Error;
using herald::ErrorKind;
using herald::test::TempDir;
using namespace herald::docker;

namespace {

DockerEnv host(const std::string& value) {
  DockerEnv env;
  env.docker_host = value;
  return env;
}

ErrorKind error_kind(const DockerEnv& env, std::string* message = nullptr) {
  try {
    resolve_connection(env);
  } catch (const Error& e) {
    if (message) {
      *message = e.what();
    }
    return e.kind();
  }
  FAIL("no error");
  return ErrorKind::internal;
}

} // namespace

TEST_SUITE_BEGIN("docker");

TEST_CASE("without DOCKER_HOST the client uses /var/run/docker.sock") {
  Connection c = resolve_connection(DockerEnv{});
  CHECK(c.endpoint.unix_socket == "/var/run/docker.sock");
  CHECK(c.str() == "unix:///var/run/docker.sock");
  CHECK(c.source == "default");
  CHECK_FALSE(c.pinned_version.has_value());
}

TEST_CASE("DOCKER_HOST unix:// names the socket and ignores TLS variables") {
  DockerEnv env = host("unix:///run/user/1000/docker.sock");
  env.docker_tls_verify = "1";
  Connection c = resolve_connection(env);
  CHECK(c.endpoint.unix_socket == "/run/user/1000/docker.sock");
  CHECK(c.source == "DOCKER_HOST");
  CHECK(c.tls.ca_file.empty());
}

TEST_CASE("DOCKER_HOST tcp:// is plain HTTP, with 2375 as the default port") {
  Connection c = resolve_connection(host("tcp://10.0.0.5:2375"));
  CHECK(c.endpoint.scheme == "http");
  CHECK(c.endpoint.host == "10.0.0.5");
  CHECK(c.endpoint.port == 2375);
  CHECK(c.endpoint.unix_socket.empty());

  CHECK(resolve_connection(host("tcp://docker.local")).endpoint.port == 2375);
  CHECK(resolve_connection(host("10.0.0.5:4243")).endpoint.port == 4243);
  Connection v6 = resolve_connection(host("tcp://[fd00::5]"));
  CHECK(v6.endpoint.host == "fd00::5");
  CHECK(v6.endpoint.port == 2375);
}

TEST_CASE("DOCKER_TLS_VERIFY turns on verified TLS with the PEM files of DOCKER_CERT_PATH") {
  TempDir dir;
  dir.write("ca.pem", "ca");
  dir.write("cert.pem", "cert");
  dir.write("key.pem", "key");
  DockerEnv env = host("tcp://docker.example:2376");
  env.docker_tls_verify = "1";
  env.docker_cert_path = dir.path();
  Connection c = resolve_connection(env);
  CHECK(c.endpoint.scheme == "https");
  CHECK(c.endpoint.port == 2376);
  CHECK(c.tls.ca_file == dir.file("ca.pem"));
  CHECK(c.tls.cert_file == dir.file("cert.pem"));
  CHECK(c.tls.key_file == dir.file("key.pem"));
  CHECK_FALSE(c.tls.insecure_skip_verify);

  env.docker_host = "tcp://docker.example";
  CHECK(resolve_connection(env).endpoint.port == 2376);
}

TEST_CASE("DOCKER_CERT_PATH defaults to ~/.docker") {
  TempDir home;
  std::filesystem::create_directory(home.file(".docker"));
  home.write(".docker/ca.pem", "ca");
  DockerEnv env = host("tcp://docker.example:2376");
  env.docker_tls_verify = "yes";
  env.home = home.path();
  Connection c = resolve_connection(env);
  CHECK(c.tls.ca_file == home.file(".docker/ca.pem"));
  CHECK(c.tls.cert_file.empty());
}

TEST_CASE("DOCKER_TLS or DOCKER_CERT_PATH alone mean TLS without verification") {
  DockerEnv env = host("tcp://docker.example:2376");
  env.docker_tls = "1";
  Connection c = resolve_connection(env);
  CHECK(c.endpoint.scheme == "https");
  CHECK(c.tls.insecure_skip_verify);

  TempDir dir;
  dir.write("cert.pem", "cert");
  dir.write("key.pem", "key");
  DockerEnv env2 = host("tcp://docker.example:2376");
  env2.docker_cert_path = dir.path();
  Connection c2 = resolve_connection(env2);
  CHECK(c2.endpoint.scheme == "https");
  CHECK(c2.tls.insecure_skip_verify);
  CHECK(c2.tls.cert_file == dir.file("cert.pem"));
}

TEST_CASE("DOCKER_TLS_VERIFY without a ca.pem is a config error naming the directory") {
  TempDir dir;
  DockerEnv env = host("tcp://docker.example:2376");
  env.docker_tls_verify = "1";
  env.docker_cert_path = dir.path();
  std::string message;
  CHECK(error_kind(env, &message) == ErrorKind::config);
  CHECK(message.find("ca.pem") != std::string::npos);
  CHECK(message.find(dir.path()) != std::string::npos);
}

TEST_CASE("a client certificate without its key is a config error") {
  TempDir dir;
  dir.write("ca.pem", "ca");
  dir.write("cert.pem", "cert");
  DockerEnv env = host("tcp://docker.example:2376");
  env.docker_tls_verify = "1";
  env.docker_cert_path = dir.path();
  std::string message;
  CHECK(error_kind(env, &message) == ErrorKind::config);
  CHECK(message.find("key.pem") != std::string::npos);
}

TEST_CASE("ssh://, fd:// and npipe:// DOCKER_HOSTs are config errors that suggest unix or tcp") {
  for (const char* value : {"ssh://user@host", "fd://", "npipe:////./pipe/docker_engine"}) {
    CAPTURE(value);
    std::string message;
    CHECK(error_kind(host(value), &message) == ErrorKind::config);
    CHECK(message.find("DOCKER_HOST") != std::string::npos);
    CHECK(message.find("unix://") != std::string::npos);
  }
}

TEST_CASE("a malformed DOCKER_HOST is a config error naming the variable") {
  for (const char* value : {"tcp://host:notaport", "unix://", "tcp://:2375"}) {
    CAPTURE(value);
    std::string message;
    CHECK(error_kind(host(value), &message) == ErrorKind::config);
    CHECK(message.find("DOCKER_HOST") != std::string::npos);
  }
}

TEST_CASE("DOCKER_API_VERSION pins the API version") {
  DockerEnv env;
  env.docker_api_version = "1.40";
  Connection c = resolve_connection(env);
  REQUIRE(c.pinned_version.has_value());
  CHECK(*c.pinned_version == ApiVersion{1, 40});

  env.docker_api_version = "latest";
  CHECK(error_kind(env) == ErrorKind::config);
}

TEST_SUITE_END();
