#include "herald/cli/global_options.hpp"
#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/registry/registry.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <map>
#include <string>

using namespace herald;
using namespace herald::cli;

namespace {

/// An environment holding exactly `vars`.
EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

std::string url_for(const GlobalOptions& global, std::map<std::string, std::string> vars) {
  return resolve_connection(global, env_of(std::move(vars))).url;
}

} // namespace

TEST_SUITE_BEGIN("cli");

TEST_CASE("the registry URL is --registry, then HERALD_REGISTRY, ETCDCTL_ENDPOINTS, "
          "CONSUL_HTTP_ADDR, then etcd on localhost") {
  GlobalOptions none;
  CHECK(url_for(none, {}) == "etcd://127.0.0.1:2379");
  CHECK(url_for(none, {{"CONSUL_HTTP_ADDR", "https://c:8501"}}) == "consul+https://c:8501");
  CHECK(url_for(none, {{"CONSUL_HTTP_ADDR", "http://c:8500"}}) == "consul://c:8500");
  CHECK(url_for(none, {{"CONSUL_HTTP_ADDR", "c:8500"}}) == "consul://c:8500");
  std::map<std::string, std::string> vars{{"CONSUL_HTTP_ADDR", "https://c:8501"},
                                          {"ETCDCTL_ENDPOINTS", "http://h1:2379,http://h2:2379"}};
  CHECK(url_for(none, vars) == "http://h1:2379,http://h2:2379");
  CHECK(registry::parse_location(url_for(none, vars)).scheme == "etcd");
  vars["HERALD_REGISTRY"] = "etcd2://x:2379";
  CHECK(url_for(none, vars) == "etcd2://x:2379");
  GlobalOptions flag;
  flag.registry = "consul://flag:8500";
  CHECK(url_for(flag, vars) == "consul://flag:8500");
}

TEST_CASE("registry_opener opens the resolved registry bound to the caller's stop token") {
  GlobalOptions global;
  global.timeout = "3s";
  registry::Opener opener =
      registry_opener(global, env_of({{"HERALD_REGISTRY", "consul://127.0.0.1:1"}}));
  REQUIRE(static_cast<bool>(opener));
  StopToken stop;
  auto registry = opener.open(stop); // no request until used
  CHECK(registry->backend() == "consul");
  CHECK(registry->describe() == "consul://127.0.0.1:1");
}

TEST_CASE("a secret file that is a directory is called a directory, not empty") {
  std::string dir = std::filesystem::temp_directory_path().string();
  try {
    read_secret_file(dir, "--password-file");
    FAIL("expected a config error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::config);
    CHECK(std::string(e.what()) ==
          "--password-file '" + dir + "' is a directory: name the file that holds the secret");
  }
}

TEST_CASE("an etcd password never comes from --user") {
  GlobalOptions global;
  global.user = "root:secret";
  try {
    resolve_connection(global, env_of({}));
    FAIL("expected a usage error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    CHECK(std::string(e.what()).find("secret") == std::string::npos);
  }
}

TEST_SUITE_END();
