#include "cluster/files.hpp"
#include "herald/cluster/hash.hpp"
#include "herald/cluster/load.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace herald::cluster;

namespace {

const char* k_web = R"(apps:
  - name: web
    image: web:v1
    port: 80
    instances: 3
    env: {A: "1", B: "2"}
    env_files: [web.env]
    health: {path: /health}
)";

AppSpec web(const std::string& text = k_web, const std::string& env_file = "C=3\n") {
  return parse_cluster(text, "c.yaml", test::files({{"./web.env", env_file}})).apps.at(0);
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

} // namespace

TEST_SUITE_BEGIN("cluster");

TEST_CASE("the instance hash is a stable SHA-1 of a documented canonical text") {
  AppSpec app = web();
  CHECK(instance_spec_text(app) ==
        R"({"env":{"A":"1","B":"2","C":"3"},"health":{"fall":3,"interval_ms":2000,)"
        R"("path":"/health","rise":2,"timeout_ms":1000},"image":"web:v1",)"
        R"("placement":{"metadata":[],"spread":false},"port":80,)"
        R"("routing":{"aliases":[],"mode":"host"},"v":1})");
  // Pinned: a change of this value is a change of every running instance's identity.
  CHECK(instance_hash(app) == "5e98223988e43b44c9d151ebb2635c36747037d4");
  CHECK(instance_hash(app).size() == 40);
}

TEST_CASE("the instance hash ignores key order, the instance count and the update policy") {
  std::string reordered = R"(apps:
  - health: {path: /health}
    env: {B: "2", A: "1"}
    port: 80
    env_files: [web.env]
    instances: 7
    image: web:v1
    name: web
    update: {max_surge: 3, drain: 1m}
)";
  CHECK(instance_hash(web(reordered)) == instance_hash(web()));
  CHECK(changed_fields(web(), web(reordered)).empty());
}

TEST_CASE("the instance hash changes with the image, the env and an env file's content") {
  std::string base = instance_hash(web());
  CHECK(instance_hash(web(replaced(k_web, "web:v1", "web:v2"))) != base);
  CHECK(instance_hash(web(replaced(k_web, "A: \"1\"", "A: \"one\""))) != base);
  CHECK(instance_hash(web(k_web, "C=4\n")) != base);
  CHECK(instance_hash(web(replaced(k_web, "port: 80", "port: 81"))) != base);
  CHECK(instance_hash(web(replaced(k_web, "/health", "/ready"))) != base);
  // The same variable from env: instead of the file is the same instance.
  std::string moved = replaced(k_web, "B: \"2\"}", "B: \"2\", C: \"3\"}");
  CHECK(instance_hash(web(moved, "")) == base);
}

TEST_CASE("changed_fields names what differs, in a fixed order") {
  AppSpec before = web();
  AppSpec after = web(replaced(replaced(k_web, "web:v1", "web:v2"), "/health", "/ready"), "C=9\n");
  CHECK(changed_fields(before, after) == std::vector<std::string>{"image", "env", "health"});
  AppSpec routed = before;
  routed.routing = Routing::path;
  routed.port = 81;
  routed.placement.spread = true;
  CHECK(changed_fields(before, routed) == std::vector<std::string>{"port", "routing", "placement"});
  // Placement metadata order does not matter; instances and update never count.
  AppSpec a = before;
  AppSpec b = before;
  a.placement.metadata = {"x=1", "y=2"};
  b.placement.metadata = {"y=2", "x=1"};
  b.instances = 9;
  b.update.max_surge = Quantity{50, true};
  CHECK(changed_fields(a, b).empty());
  CHECK(instance_hash(a) == instance_hash(b));
}

TEST_CASE("an instance's stamp is its hash plus a digest per field, so a plan can say why") {
  AppSpec before = web();
  std::string stamp = instance_stamp(before);
  CHECK(stamp_hash(stamp) == instance_hash(before));
  CHECK(stamp.size() == 40 + 1 + 6 * 8 + 5);
  CHECK(stamp.find("5e98223988e43b44c9d151ebb2635c36747037d4-") == 0);
  // No env value shows through: the stamp is made of hex digits, '-' and '.' only.
  CHECK(stamp.find_first_not_of("0123456789abcdef-.") == std::string::npos);

  AppSpec after = web(replaced(k_web, "web:v1", "web:v2"), "C=9\n");
  CHECK(changed_fields(stamp, after) == std::vector<std::string>{"image", "env"});
  CHECK(changed_fields(stamp, before) == std::vector<std::string>{});
  AppSpec moved = before;
  moved.port = 8080;
  moved.placement.spread = true;
  CHECK(changed_fields(stamp, moved) == std::vector<std::string>{"port", "placement"});

  // A bare hash (or a label another tool wrote) carries no digests: the plan cannot say why.
  CHECK(stamp_hash(instance_hash(before)) == instance_hash(before));
  CHECK_FALSE(changed_fields(instance_hash(before), after).has_value());
  CHECK_FALSE(changed_fields("abc-1.2", after).has_value());
}

TEST_CASE("a percentage resolves against the desired count") {
  CHECK(Quantity{25, true}.resolve(3, true) == 1);
  CHECK(Quantity{25, true}.resolve(3, false) == 0);
  CHECK(Quantity{34, true}.resolve(3, true) == 2);
  CHECK(Quantity{100, true}.resolve(3, false) == 3);
  CHECK(Quantity{2, false}.resolve(3, true) == 2);
  CHECK(Quantity{25, true}.str() == "25%");
  CHECK(Quantity{2, false}.str() == "2");
}

TEST_SUITE_END();
