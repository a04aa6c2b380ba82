#include "herald/core/error.hpp"
#include "herald/scheduler/scheduler.hpp"

#include <algorithm>
#include <doctest/doctest.h>

using namespace herald;
using namespace herald::scheduler;

namespace {

InstanceSpec valid_spec() {
  InstanceSpec spec;
  spec.app = "web";
  spec.instance = "1";
  spec.image = "web:1";
  spec.container_port = 8080;
  return spec;
}

/// The message of the Error(usage) validate() throws for `spec`.
std::string problem_of(const InstanceSpec& spec) {
  try {
    validate(spec);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    return e.what();
  }
  FAIL("validate() accepted the spec");
  return {};
}

} // namespace

TEST_SUITE_BEGIN("scheduler");

TEST_CASE("state names read back as the same state") {
  for (State state : {State::pending, State::starting, State::running, State::stopping,
                      State::stopped, State::failed, State::unknown}) {
    CHECK(parse_state(to_string(state)) == state);
  }
  CHECK_FALSE(parse_state("exited").has_value());
}

TEST_CASE("instances sort by app, then by instance number") {
  std::vector<Instance> list(4);
  list[0].app = "web";
  list[0].instance = "10";
  list[1].app = "web";
  list[1].instance = "9";
  list[2].app = "api";
  list[2].instance = "2";
  list[3].app = "web";
  list[3].instance = "blue";
  std::sort(list.begin(), list.end(), instance_order);
  CHECK(list[0].name().str() == "api@2");
  CHECK(list[1].name().str() == "web@9");
  CHECK(list[2].name().str() == "web@10");
  CHECK(list[3].name().str() == "web@blue");
}

TEST_CASE("validate accepts a complete spec") {
  InstanceSpec spec = valid_spec();
  spec.env = {{"MODE", "prod"}};
  spec.health = HealthCheck{"/health"};
  spec.routing.domain = "example.com";
  spec.placement.metadata = {"role=web"};
  CHECK_NOTHROW(validate(spec));
}

TEST_CASE("validate names the instance and the field that is wrong") {
  InstanceSpec spec = valid_spec();
  SUBCASE("app") {
    spec.app = "Web_1";
    CHECK(problem_of(spec).find("invalid app name \"Web_1\"") != std::string::npos);
  }
  SUBCASE("instance") {
    spec.instance = "";
    CHECK(problem_of(spec).find("web@: the INSTANCE part") == 0);
  }
  SUBCASE("image") {
    spec.image.clear();
    CHECK(problem_of(spec) == "web@1: image is empty");
  }
  SUBCASE("port") {
    spec.container_port = 0;
    CHECK(problem_of(spec).find("web@1: container port is missing") == 0);
  }
  SUBCASE("host port") {
    spec.host_port = 0;
    CHECK(problem_of(spec).find("host port 0") != std::string::npos);
  }
  SUBCASE("env") {
    spec.env = {{"1BAD", "x"}};
    CHECK(problem_of(spec).find("\"1BAD\"") != std::string::npos);
  }
  SUBCASE("health check") {
    spec.health = HealthCheck{"health"};
    CHECK(problem_of(spec).find("must start with '/'") != std::string::npos);
    spec.health = HealthCheck{"/health"};
    spec.health->timeout = std::chrono::seconds(5);
    CHECK(problem_of(spec).find("no longer than the interval") != std::string::npos);
    spec.health = HealthCheck{"/health"};
    spec.health->fall = 0;
    CHECK(problem_of(spec).find("rise and fall") != std::string::npos);
  }
  SUBCASE("routing") {
    spec.routing.domain = "example.com";
    spec.routing.path = "/web/";
    CHECK(problem_of(spec).find("exclude each other") != std::string::npos);
  }
  SUBCASE("metadata") {
    spec.placement.metadata = {"role"};
    CHECK(problem_of(spec).find("expected key=value") != std::string::npos);
  }
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("scheduler");

TEST_CASE("open names an unknown scheduler and the known ones") {
  Options options;
  options.backend = "dokcer";
  try {
    herald::scheduler::open(options);
    FAIL("opened");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::config);
    CHECK(std::string(e.what()).find("unknown scheduler 'dokcer' (did you mean 'docker'?)") == 0);
  }
  CHECK(backend_names().front() == "docker");
}

TEST_SUITE_END();
