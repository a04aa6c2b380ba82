#include "cluster/files.hpp"
#include "herald/cluster/load.hpp"
#include "herald/core/error.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <string>

using namespace herald;
using namespace herald::cluster;
using namespace std::chrono_literals;

namespace {

ClusterSpec parse(const std::string& text, const LoadOptions& options = {}) {
  return parse_cluster(text, "c.yaml", options);
}

/// The message of the Error that parsing `text` throws; checks its kind.
std::string error_of(const std::string& text, ErrorKind kind = ErrorKind::config,
                     const LoadOptions& options = {}) {
  try {
    parse(text, options);
  } catch (const Error& e) {
    CHECK(e.kind() == kind);
    std::string message = e.what();
    CHECK(message.find('\n') == std::string::npos);
    return message;
  }
  FAIL("no error for: " << text);
  return {};
}

const char* k_app = "apps:\n  - name: web\n    image: nginx:1.25\n    port: 80\n";

} // namespace

TEST_SUITE_BEGIN("cluster");

TEST_CASE("a minimal cluster file takes every default") {
  ClusterSpec spec = parse(k_app);
  CHECK(spec.source == "c.yaml");
  CHECK(spec.registry.url.empty());
  CHECK(spec.registry.prefix.empty());
  CHECK(spec.scheduler.kind == SchedulerKind::docker);
  CHECK(spec.scheduler.docker.endpoint == "unix:///var/run/docker.sock");
  CHECK(spec.scheduler.docker.host_ip == "127.0.0.1");
  CHECK(spec.routers.empty());
  CHECK(spec.units.empty());
  REQUIRE(spec.apps.size() == 1);
  const AppSpec& app = spec.apps[0];
  CHECK(app.name == "web");
  CHECK(app.image == "nginx:1.25");
  CHECK(app.port == 80);
  CHECK(app.instances == 1);
  CHECK(app.routing == Routing::host);
  CHECK(app.aliases.empty());
  CHECK(app.env.empty());
  CHECK(app.env_files.empty());
  CHECK(app.health == HealthCheck{});
  CHECK(app.health.path.empty());
  CHECK(app.health.interval == 2s);
  CHECK(app.health.timeout == 1s);
  CHECK(app.health.rise == 2);
  CHECK(app.health.fall == 3);
  CHECK_FALSE(app.placement.spread);
  CHECK(app.placement.metadata.empty());
  CHECK(app.update.max_unavailable == Quantity{0, false});
  CHECK(app.update.max_surge == Quantity{1, false});
  CHECK(app.update.min_ready == 0s);
  CHECK(app.update.drain == 5s);
  CHECK(app.position == Position{2, 5});
  CHECK(spec.app("web") == &spec.apps[0]);
  CHECK(spec.app("api") == nullptr);
}

TEST_CASE("every key of a docker cluster file is read") {
  std::string text = R"(registry:
  url: etcd2://10.0.0.1:2379
  prefix: /services/shop
scheduler:
  kind: docker
  endpoint: tcp://127.0.0.1:2375
  host_ip: 10.0.0.5
routers:
  - name: edge
    kind: haproxy
    listen: "*:8080"
    domain: example.com
    template: /etc/herald/haproxy.tmpl
    instances: 1
apps:
  - name: web
    image: registry.example.com:5000/team/web:v2
    port: 3000
    instances: 3
    routing: host
    aliases: [www.example.com, example.com]
    env:
      GREETING: hello world
      EMPTY: ""
      NUMBER: 42
    env_files: [web.env, /etc/shared.env]
    health:
      path: /health?full=1
      interval: 5s
      timeout: 1500ms
      rise: 3
      fall: 1000
    update:
      max_unavailable: 25%
      max_surge: 2
      min_ready: 10s
      drain: 1m30s
  - name: api
    image: api@sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
    port: 65535
    instances: 0
    routing: path
)";
  ClusterSpec spec = parse(text, test::files({{"./web.env", "# comment\nA=1\nGREETING=from file\n"},
                                              {"/etc/shared.env", "B=two words\n"}}));
  CHECK(spec.registry.url == "etcd2://10.0.0.1:2379");
  CHECK(spec.registry.prefix == "/services/shop");
  CHECK(spec.scheduler.docker.endpoint == "tcp://127.0.0.1:2375");
  CHECK(spec.scheduler.docker.host_ip == "10.0.0.5");
  REQUIRE(spec.routers.size() == 1);
  const RouterSpec& router = spec.routers[0];
  CHECK(router.name == "edge");
  CHECK(router.kind == RouterKind::haproxy);
  CHECK(router.listen == "*:8080");
  CHECK(router.domain == "example.com");
  CHECK(router.config_template == "/etc/herald/haproxy.tmpl");
  CHECK_FALSE(router.global);
  CHECK(router.instances == 1);
  REQUIRE(spec.apps.size() == 2);
  const AppSpec& web = spec.apps[0];
  CHECK(web.image == "registry.example.com:5000/team/web:v2");
  CHECK(web.port == 3000);
  CHECK(web.instances == 3);
  CHECK(web.aliases == std::vector<std::string>{"www.example.com", "example.com"});
  CHECK(web.env == std::vector<std::pair<std::string, std::string>>{
                       {"GREETING", "hello world"}, {"EMPTY", ""}, {"NUMBER", "42"}});
  REQUIRE(web.env_files.size() == 2);
  CHECK(web.env_files[0].path == "web.env");
  CHECK(web.env_files[0].resolved == "./web.env");
  CHECK(web.env_files[1].resolved == "/etc/shared.env");
  // Files first, then env:, a name set twice keeping its first place and last value.
  CHECK(web.environment() ==
        std::vector<std::pair<std::string, std::string>>{{"A", "1"},
                                                         {"GREETING", "hello world"},
                                                         {"B", "two words"},
                                                         {"EMPTY", ""},
                                                         {"NUMBER", "42"}});
  CHECK(web.health.path == "/health?full=1");
  CHECK(web.health.interval == 5s);
  CHECK(web.health.timeout == 1500ms);
  CHECK(web.health.rise == 3);
  CHECK(web.health.fall == 1000);
  CHECK(web.update.max_unavailable == Quantity{25, true});
  CHECK(web.update.max_surge == Quantity{2, false});
  CHECK(web.update.min_ready == 10s);
  CHECK(web.update.drain == 90s);
  const AppSpec& api = spec.apps[1];
  CHECK(api.port == 65535);
  CHECK(api.instances == 0);
  CHECK(api.routing == Routing::path);
  CHECK(api.route_path() == "/api/");
}

TEST_CASE("every key of a fleet cluster file is read") {
  std::string text = R"(scheduler:
  kind: fleet
  endpoint: http://127.0.0.1:49153
  tunnel: core@10.0.0.1:2222
  strict_host_key_checking: false
  known_hosts_file: /etc/herald/fleet_known_hosts
  ssh_timeout: 20s
  request_timeout: 3s
routers:
  - kind: nginx-path
    metadata: [role=edge]
  - name: counted
    kind: nginx-host
    instances: 2
apps:
  - name: web
    image: web
    port: 80
    routing: path
    placement:
      spread: true
      metadata: [role=web, disk=ssd]
units:
  - name: registry.service
    global: true
    text: |
      [Service]
      ExecStart=/usr/bin/registry
  - name: backup@1.service
    file: units/backup.service
)";
  ClusterSpec spec = parse_cluster(
      text, "deploy/c.yaml",
      test::files({{"deploy/units/backup.service", "[Service]\nExecStart=/bin/true\n"}}));
  const SchedulerSpec& scheduler = spec.scheduler;
  CHECK(scheduler.kind == SchedulerKind::fleet);
  CHECK(scheduler.fleet.endpoint == "http://127.0.0.1:49153");
  CHECK(scheduler.fleet.endpoint_source == "deploy/c.yaml:3:13: scheduler.endpoint");
  REQUIRE(scheduler.fleet.tunnel);
  CHECK(scheduler.fleet.tunnel->str() == "core@10.0.0.1:2222");
  CHECK_FALSE(scheduler.fleet.strict_host_key_checking);
  CHECK(scheduler.fleet.known_hosts_file == "/etc/herald/fleet_known_hosts");
  CHECK(scheduler.fleet.ssh_timeout == 20s);
  CHECK(scheduler.fleet.request_timeout == 3s);
  REQUIRE(spec.routers.size() == 2);
  CHECK(spec.routers[0].name == "herald-router");
  CHECK(spec.routers[0].kind == RouterKind::nginx_path);
  CHECK(spec.routers[0].global); // the default on fleet
  CHECK(spec.routers[0].metadata == std::vector<std::string>{"role=edge"});
  CHECK_FALSE(spec.routers[1].global); // instances alone means a counted router
  CHECK(spec.routers[1].instances == 2);
  const AppSpec& web = spec.apps.at(0);
  CHECK(web.placement.spread);
  CHECK(web.placement.metadata == std::vector<std::string>{"role=web", "disk=ssd"});
  REQUIRE(spec.units.size() == 2);
  CHECK(spec.units[0].name == "registry.service");
  CHECK(spec.units[0].global);
  CHECK(spec.units[0].file.empty());
  CHECK(spec.units[0].text == "[Service]\nExecStart=/usr/bin/registry\n");
  CHECK(spec.units[1].name == "backup@1.service");
  CHECK_FALSE(spec.units[1].global);
  CHECK(spec.units[1].file == "units/backup.service");
  CHECK(spec.units[1].text == "[Service]\nExecStart=/bin/true\n");
  CHECK(spec.units[1].position == Position{29, 5});
}

TEST_CASE("anchors, merge keys and top-level x- keys are read as YAML means them") {
  std::string text = R"(x-app: &app
  image: web:v1
  port: 80
  instances: 3
  env: &env
    A: "1"
apps:
  - <<: *app
    name: web
    instances: 5
  - <<: [*app]
    name: api
    env:
      <<: *env
      B: "2"
)";
  ClusterSpec spec = parse(text);
  REQUIRE(spec.apps.size() == 2);
  CHECK(spec.apps[0].image == "web:v1");
  CHECK(spec.apps[0].instances == 5); // the mapping's own key wins over the merged one
  CHECK(spec.apps[0].env == std::vector<std::pair<std::string, std::string>>{{"A", "1"}});
  CHECK(spec.apps[1].instances == 3);
  CHECK(spec.apps[1].env ==
        std::vector<std::pair<std::string, std::string>>{{"B", "2"}, {"A", "1"}});
}

TEST_CASE("a YAML syntax error is bad data naming file, line and column") {
  CHECK(error_of("apps: [\n", ErrorKind::data).starts_with("c.yaml:2:1: invalid YAML: "));
  CHECK(error_of("apps:\n  - name: web\n   image: x\n", ErrorKind::data).starts_with("c.yaml:3:"));
  CHECK(error_of("a: 1\n---\nb: 2\n", ErrorKind::data) ==
        "c.yaml:2:1: a second YAML document: a cluster file is one document (remove the '---' "
        "line)");
  CHECK(error_of(std::string("apps: \0", 7), ErrorKind::data).find("NUL") != std::string::npos);
}

TEST_CASE("an unknown or misspelt key names where it is and the key it resembles") {
  CHECK(error_of("apps:\n  - name: web\n    image: nginx\n    port: 80\n    instnaces: 3\n") ==
        "c.yaml:5:5: apps[0].instnaces: unknown key \"instnaces\" (did you mean 'instances'?); "
        "apps[0] takes name, image, port, instances, routing, aliases, env, env_files, health, "
        "placement, update, on_demand");
  CHECK(error_of(std::string(k_app) + "    health:\n      intreval: 2s\n")
            .starts_with("c.yaml:6:7: apps[0].health.intreval: unknown key \"intreval\" (did you "
                         "mean 'interval'?)"));
  CHECK(error_of(std::string(k_app) + "routers:\n  - kind: haproxy\n    lisen: 80\n")
            .starts_with("c.yaml:7:5: routers[0].lisen: unknown key \"lisen\" (did you mean "
                         "'listen'?)"));
  CHECK(error_of(std::string("schedular:\n  kind: docker\n") + k_app)
            .starts_with("c.yaml:1:1: schedular: unknown key \"schedular\" (did you mean "
                         "'scheduler'?)"));
  // A key of the other scheduler is unknown to this one.
  CHECK(error_of(std::string("scheduler:\n  kind: docker\n  tunnel: core@h\n") + k_app)
            .starts_with("c.yaml:3:3: scheduler.tunnel: unknown key \"tunnel\"; scheduler takes "
                         "kind, endpoint, host_ip"));
  // Far from every key: no suggestion.
  CHECK(error_of(std::string(k_app) + "    zzzzzzzzzz: 1\n").find("did you mean") ==
        std::string::npos);
}

TEST_CASE("a key that would not show as it is is quoted and escaped where a message names it") {
  // YAML's escapes reach bytes no file would hold as they are: an escape sequence, and U+FFFE,
  // a non-character that is not UTF-8 by systemd's rules (fmt's {:?} must never see it).
  CHECK(error_of(std::string(k_app) + "    \"\\e]0;x\\a\\uFFFE\": 1\n") ==
        "c.yaml:5:5: apps[0].\"\\x1b]0;x\\x07\\xef\\xbf\\xbe\": unknown key "
        "\"\\x1b]0;x\\x07\\xef\\xbf\\xbe\"; apps[0] takes name, image, port, instances, routing, "
        "aliases, env, env_files, health, placement, update, on_demand");
  CHECK(error_of(std::string(k_app) + "    env:\n      \"A\\tB\": 1\n      \"A\\tB\": 2\n") ==
        "c.yaml:7:7: apps[0].env.\"A\\tB\": duplicate key: it is already set above in this "
        "mapping");
  CHECK(error_of(std::string(k_app) + "    env:\n      \"say \\\"hi\\\"\": 1\n") ==
        "c.yaml:6:7: apps[0].env.\"say \\\"hi\\\"\": invalid variable name \"say \\\"hi\\\"\": "
        "expected a POSIX name (letters, digits and '_', not starting with a digit)");
  // A plain key is named as it is.
  CHECK(error_of(std::string(k_app) + "    envs: {}\n")
            .starts_with("c.yaml:5:5: apps[0].envs: unknown key \"envs\" (did you mean 'env'?)"));
}

TEST_CASE("a cluster file that is not UTF-8 is refused where it stops being UTF-8") {
  // yaml-cpp would pass the bytes through into keys and values.
  CHECK(error_of(std::string(k_app) + "    e\xf2nv: {}\n", ErrorKind::data) ==
        "c.yaml:5:6: invalid YAML: the file is not UTF-8 here");
  CHECK(error_of("# caf\xe9\n" + std::string(k_app), ErrorKind::data) ==
        "c.yaml:1:6: invalid YAML: the file is not UTF-8 here");
  CHECK(parse("# caf\xc3\xa9\n" + std::string(k_app)).apps.size() == 1);
}

TEST_CASE("a ',' where a YAML document starts is an error, not an endless loop") {
  // yaml-cpp 0.7's LoadAll() builds empty documents there until memory runs out.
  CHECK(error_of(",\n", ErrorKind::data) ==
        "c.yaml:1:1: invalid YAML: ',' outside a flow collection ([...] or {...})");
  CHECK(error_of("# a comment\n, 10.0.0.11:2379\n", ErrorKind::data) ==
        "c.yaml:2:1: invalid YAML: ',' outside a flow collection ([...] or {...})");
  CHECK(error_of(std::string(k_app) + "...\n,\n", ErrorKind::data) ==
        "c.yaml:6:1: invalid YAML: ',' outside a flow collection ([...] or {...})");
  CHECK(parse(std::string(k_app) + "    aliases: [a.example.com, b.example.com]\n")
            .apps[0]
            .aliases.size() == 2);
}

TEST_CASE("a key given twice in one mapping is refused") {
  CHECK(error_of("apps:\n  - name: web\n    image: nginx\n    port: 80\n    port: 81\n") ==
        "c.yaml:5:5: apps[0].port: duplicate key: it is already set above in this mapping");
  CHECK(error_of(std::string(k_app) + "    env:\n      A: 1\n      A: 2\n")
            .starts_with("c.yaml:7:7: apps[0].env.A: duplicate key"));
  CHECK(error_of(std::string(k_app) + "apps: []\n").starts_with("c.yaml:5:1: apps: duplicate key"));
}

TEST_CASE("the first problem in file order is the one reported") {
  // The port (line 4) comes before the unknown scheduler key (line 6), whatever order the
  // parser reads sections in.
  std::string text = "apps:\n  - name: web\n    image: nginx\n    port: 0\n"
                     "scheduler:\n  kind: docker\n  bogus: 1\n";
  CHECK(error_of(text).starts_with("c.yaml:4:11: apps[0].port: "));
}

TEST_CASE("bad values name the key and the expected form") {
  auto app_with = [](const std::string& lines) {
    return error_of("apps:\n  - name: web\n    image: nginx\n    port: 80\n" + lines);
  };
  SUBCASE("port out of range") {
    CHECK(error_of("apps:\n  - name: web\n    image: nginx\n    port: 65536\n") ==
          "c.yaml:4:11: apps[0].port: expected the port the app listens on in its container "
          "(1-65535), not \"65536\"");
    CHECK(error_of("apps:\n  - name: web\n    image: nginx\n    port: http\n")
              .starts_with("c.yaml:4:11: apps[0].port: expected the port"));
  }
  SUBCASE("negative instances") {
    CHECK(app_with("    instances: -1\n") ==
          "c.yaml:5:16: apps[0].instances: expected a count from 0 to 1000, not \"-1\"");
  }
  SUBCASE("an image that is no Docker reference") {
    for (const char* image : {"Nginx", "nginx:", "nginx:-x", "-x", "a//b", "web@sha256:abc",
                              "nginx latest", "host:99999999/x"}) {
      CAPTURE(image);
      std::string text =
          std::string("apps:\n  - name: web\n    image: \"") + image + "\"\n    port: 80\n";
      std::string message = error_of(text);
      CHECK(message.starts_with("c.yaml:3:12: apps[0].image: "));
      CHECK(message.find("expected a Docker image reference such as nginx:1.25") !=
            std::string::npos);
    }
  }
  SUBCASE("an app name that is no DNS label") {
    CHECK(error_of("apps:\n  - name: Web_1\n    image: nginx\n    port: 80\n") ==
          "c.yaml:2:11: apps[0].name: invalid value \"Web_1\": use lower-case letters, digits "
          "and '-' (a DNS label: at most 63, starting and ending with a letter or digit)");
  }
  SUBCASE("a missing required key") {
    CHECK(error_of("apps:\n  - name: web\n    port: 80\n") ==
          "c.yaml:2:5: apps[0]: image is missing");
    CHECK(error_of("registry:\n  url: etcd://h:2379\n") ==
          "c.yaml:1:1: apps: apps is missing: a cluster file lists the apps it runs");
  }
  SUBCASE("env keys that are no POSIX names") {
    CHECK(app_with("    env:\n      1BAD: x\n") ==
          "c.yaml:6:7: apps[0].env.1BAD: invalid variable name \"1BAD\": expected a POSIX name "
          "(letters, digits and '_', not starting with a digit)");
    CHECK(app_with("    env:\n      MY-VAR: x\n").starts_with("c.yaml:6:7: apps[0].env.MY-VAR: "));
  }
  SUBCASE("env values with control bytes") {
    CHECK(app_with("    env:\n      A: \"one\\ntwo\"\n")
              .starts_with("c.yaml:6:10: apps[0].env.A: invalid value: it holds control "
                           "characters"));
    CHECK(app_with("    env:\n      A: \"\\e[31m\"\n").find("control characters") !=
          std::string::npos);
    CHECK(app_with("    env:\n      A:\n")
              .starts_with("c.yaml:6:7: apps[0].env.A: expected a value (write A: \"\" for an "
                           "empty one), not nothing"));
  }
  SUBCASE("durations") {
    CHECK(app_with("    health:\n      interval: 2 seconds\n") ==
          "c.yaml:6:17: apps[0].health.interval: expected a duration such as 2s, 500ms or "
          "1m30s, not \"2 seconds\"");
    CHECK(app_with("    health:\n      interval: 0s\n") ==
          "c.yaml:6:17: apps[0].health.interval: must be greater than zero (such as 2s)");
    CHECK(app_with("    health:\n      interval: 1s\n      timeout: 2s\n")
              .starts_with("c.yaml:7:16: apps[0].health.timeout: the timeout 2s is longer than "
                           "the interval 1s"));
  }
  SUBCASE("rise and fall within announce's bounds") {
    CHECK(app_with("    health:\n      rise: 0\n") ==
          "c.yaml:6:13: apps[0].health.rise: expected a count from 1 to 1000, not \"0\"");
    CHECK(app_with("    health:\n      fall: 1001\n")
              .starts_with("c.yaml:6:13: apps[0].health.fall: expected a count from 1 to 1000"));
  }
  SUBCASE("health path") {
    CHECK(app_with("    health:\n      path: health\n")
              .starts_with("c.yaml:6:13: apps[0].health.path: invalid value \"health\": expected "
                           "a path such as /health"));
  }
  SUBCASE("update quantities") {
    CHECK(app_with("    update:\n      max_surge: 101%\n")
              .starts_with("c.yaml:6:18: apps[0].update.max_surge: expected a count such as 1 or "
                           "a percentage such as 25%"));
    CHECK(app_with("    update:\n      max_surge: 0\n      max_unavailable: 0%\n")
              .starts_with("c.yaml:6:7: apps[0].update: max_surge and max_unavailable are both "
                           "0"));
  }
  SUBCASE("booleans are true or false") {
    CHECK(app_with("    placement:\n      spread: yes\n") ==
          "c.yaml:6:15: apps[0].placement.spread: expected true or false, not \"yes\"");
  }
  SUBCASE("routing") {
    CHECK(app_with("    routing: hots\n") ==
          "c.yaml:5:14: apps[0].routing: unknown routing \"hots\" (did you mean 'host'?); "
          "expected host (APP.DOMAIN), path (/APP/) or none");
    CHECK(app_with("    routing: path\n    aliases: [www.example.com]\n")
              .starts_with("c.yaml:6:14: apps[0].aliases: aliases are host names, for routing: "
                           "host"));
    CHECK(app_with("    aliases: [www..example.com]\n")
              .starts_with("c.yaml:5:15: apps[0].aliases[0]: invalid value \"www..example.com\": "
                           "expected a DNS name"));
  }
  SUBCASE("a mapping where a list belongs, and the reverse") {
    CHECK(error_of("apps:\n  name: web\n") == "c.yaml:2:3: apps: expected a list of apps");
    CHECK(app_with("    env: [A=1]\n") ==
          "c.yaml:5:10: apps[0].env: expected a mapping of NAME: value");
    CHECK(app_with("    image: [a]\n").find("duplicate key") != std::string::npos);
  }
}

TEST_CASE("the registry, scheduler and routers are checked") {
  CHECK(error_of(std::string("registry:\n  url: etdc://h:2379\n") + k_app)
            .starts_with("c.yaml:2:8: registry.url: unknown registry scheme 'etdc' (did you mean "
                         "'etcd'?)"));
  CHECK(error_of(std::string("registry:\n  prefix: services\n") + k_app)
            .starts_with("c.yaml:2:11: registry.prefix: invalid value \"services\""));
  CHECK(error_of(std::string("scheduler:\n  kind: flet\n") + k_app) ==
        "c.yaml:2:9: scheduler.kind: unknown scheduler \"flet\" (did you mean 'fleet'?); "
        "expected docker or fleet");
  CHECK(error_of(std::string("scheduler:\n  endpoint: x\n") + k_app) ==
        "c.yaml:2:3: scheduler: kind is missing: write kind: docker or kind: fleet");
  CHECK(error_of(std::string("scheduler:\n  kind: docker\n  endpoint: ssh://h\n") + k_app)
            .starts_with("c.yaml:3:13: scheduler.endpoint: invalid endpoint \"ssh://h\": expected "
                         "unix:///var/run/docker.sock or tcp://HOST:PORT"));
  CHECK(error_of(std::string("scheduler:\n  kind: docker\n  host_ip: localhost\n") + k_app)
            .starts_with("c.yaml:3:12: scheduler.host_ip: invalid value \"localhost\": expected "
                         "an IP address"));
  CHECK(error_of(std::string("scheduler:\n  kind: fleet\n  tunnel: -oProxyCommand=x\n") + k_app)
            .starts_with("c.yaml:3:11: scheduler.tunnel: invalid value"));
  CHECK(error_of(std::string("scheduler:\n  kind: fleet\n  ssh_timeout: soon\n") + k_app)
            .starts_with("c.yaml:3:16: scheduler.ssh_timeout: expected a duration"));
  CHECK(error_of(std::string(k_app) + "routers:\n  - kind: ngnix-host\n") ==
        "c.yaml:6:11: routers[0].kind: unknown router kind \"ngnix-host\" (did you mean "
        "'nginx-host'?); expected nginx-host, nginx-path or haproxy");
  CHECK(error_of(std::string(k_app) + "routers:\n  - listen: 80\n") ==
        "c.yaml:6:5: routers[0]: kind is missing: write kind: nginx-host, nginx-path or haproxy");
  CHECK(error_of(std::string(k_app) + "routers:\n  - kind: haproxy\n    listen: \"80; evil\"\n")
            .starts_with("c.yaml:7:13: routers[0].listen: invalid value"));
  CHECK(error_of(std::string(k_app) + "routers:\n  - kind: haproxy\n  - kind: nginx-host\n") ==
        "c.yaml:7:5: routers[1]: router \"herald-router\" is already routers[0]: give each "
        "router its own name");
}

TEST_CASE("the docker scheduler refuses what only fleet can do") {
  CHECK(error_of(std::string(k_app) + "    placement:\n      spread: true\n") ==
        "c.yaml:6:15: apps[0].placement.spread: spread (one instance per machine) needs the "
        "fleet scheduler; the docker scheduler runs every container on its one engine");
  CHECK(error_of(std::string(k_app) + "    placement:\n      metadata: [role=web]\n")
            .starts_with("c.yaml:6:17: apps[0].placement.metadata: placing instances by machine "
                         "metadata needs the fleet scheduler"));
  CHECK(error_of(std::string(k_app) + "routers:\n  - kind: nginx-host\n    global: true\n")
            .starts_with("c.yaml:7:13: routers[0].global: a global router (one on every "
                         "machine) needs the fleet scheduler"));
  CHECK(error_of(std::string(k_app) + "units:\n  - name: a.service\n    text: \"[Service]\"\n")
            .starts_with("c.yaml:6:3: units: an extra unit"));
  CHECK(error_of(std::string(k_app) + "routers:\n  - kind: haproxy\n    instances: 2\n")
            .starts_with("c.yaml:7:16: routers[0].instances: the docker scheduler runs one "
                         "engine"));
  // On fleet they are fine; a global router with a count is not.
  std::string fleet = "scheduler:\n  kind: fleet\n";
  CHECK(parse(fleet + k_app + "    placement:\n      spread: true\n").apps[0].placement.spread);
  CHECK(
      error_of(fleet + k_app + "routers:\n  - kind: haproxy\n    global: true\n    instances: 2\n")
          .starts_with("c.yaml:10:16: routers[0].instances: a global router runs on every "
                       "machine"));
}

TEST_CASE("apps may not share a name or a host") {
  std::string two = std::string(k_app) + "  - name: web\n    image: nginx\n    port: 81\n";
  CHECK(error_of(two) == "c.yaml:5:11: apps[1].name: app \"web\" is already apps[0]: give each "
                         "app its own name");
  std::string routers = "routers:\n  - kind: nginx-host\n    domain: example.com\n";
  std::string aliased = routers + k_app +
                        "  - name: api\n    image: nginx\n    port: 81\n"
                        "    aliases: [web.example.com]\n";
  CHECK(error_of(aliased) ==
        "c.yaml:11:15: apps[1].aliases[0]: host \"web.example.com\" is already routed to "
        "apps[0].name: two apps cannot share a host name");
  std::string both =
      std::string(k_app) + "    aliases: [a.example.com]\n" +
      "  - name: api\n    image: nginx\n    port: 81\n    aliases: [a.example.com]\n";
  CHECK(error_of(both).starts_with("c.yaml:9:15: apps[1].aliases[0]: host \"a.example.com\" is "
                                   "already routed to apps[0].aliases[0]"));
}

TEST_CASE("an app's routing needs a router that routes that way") {
  std::string text =
      std::string("routers:\n  - kind: nginx-host\n") + k_app + "    routing: path\n";
  CHECK(error_of(text) == "c.yaml:7:14: apps[0].routing: no router routes by path: add a router "
                          "of kind nginx-path or haproxy, or route this app by host");
  // haproxy routes both ways; without routers, nothing is checked.
  CHECK(parse(std::string("routers:\n  - kind: haproxy\n") + k_app + "    routing: path\n")
            .apps[0]
            .routing == Routing::path);
  CHECK(parse(std::string(k_app) + "    routing: path\n").apps[0].routing == Routing::path);
}

TEST_CASE("env files are read beside the cluster file and checked") {
  std::string text = std::string(k_app) + "    env_files: [web.env]\n";
  auto with = [&](const std::string& content) { return test::files({{"conf/web.env", content}}); };
  ClusterSpec spec = parse_cluster(text, "conf/c.yaml", with("A=1\n"));
  CHECK(spec.apps[0].env_files.at(0).vars ==
        std::vector<std::pair<std::string, std::string>>{{"A", "1"}});
  auto fails = [&](const LoadOptions& options) {
    try {
      parse_cluster(text, "conf/c.yaml", options);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::config);
      return std::string(e.what());
    }
    FAIL("no error");
    return std::string();
  };
  CHECK(fails(test::files({})) ==
        "conf/c.yaml:5:17: apps[0].env_files[0]: env file \"conf/web.env\" does not exist");
  CHECK(fails(with("1A=x\n"))
            .starts_with("conf/c.yaml:5:17: apps[0].env_files[0]: web.env:1: "
                         "invalid variable name"));
  CHECK(fails(with("HOME\n")).find("web.env: HOME has no value: write HOME=VALUE") !=
        std::string::npos);
  CHECK(fails(with("A=\x1b[31m\n")).find("web.env: invalid value of A: it holds control") !=
        std::string::npos);
  CHECK(fails(with("A=1\nB\xff=2\n")) ==
        "conf/c.yaml:5:17: apps[0].env_files[0]: web.env:2:2: invalid UTF-8");
  CHECK(fails(with("A=caf\xe9\n")) ==
        "conf/c.yaml:5:17: apps[0].env_files[0]: web.env:1:6: invalid UTF-8");
}

TEST_CASE("extra units are unit files under names herald does not use") {
  std::string fleet = std::string("scheduler:\n  kind: fleet\n") + k_app;
  auto unit = [&](const std::string& lines) { return error_of(fleet + "units:\n" + lines); };
  CHECK(unit("  - name: registry\n    text: \"[Service]\"\n")
            .starts_with("c.yaml:8:11: units[0].name: invalid value \"registry\": "));
  CHECK(unit("  - name: registry@.service\n    text: \"[Service]\"\n").find("it is a template") !=
        std::string::npos);
  CHECK(unit("  - name: r.service\n") ==
        "c.yaml:8:5: units[0]: the unit file is missing: write text: (the unit inline) or file: "
        "(a path)");
  CHECK(unit("  - name: r.service\n    text: x\n    file: y\n")
            .find("text and file exclude each other") != std::string::npos);
  CHECK(unit("  - name: r.service\n    text: \"no section\"\n")
            .starts_with("c.yaml:9:11: units[0].text: r.service:1"));
  CHECK(unit("  - name: r.service\n    file: r.service\n") ==
        "c.yaml:9:11: units[0].file: unit file \"./r.service\" does not exist");
  // A unit is text: fleet carries it in JSON strings.
  CHECK(unit("  - name: r.service\n    text: \"[Service]\\nA=\\uFFFE\"\n") ==
        "c.yaml:9:11: units[0].text: r.service:2:3: invalid UTF-8");
  CHECK(error_of(fleet + "units:\n  - name: r.service\n    file: r.service\n", ErrorKind::config,
                 test::files({{"./r.service", "[Service]\nExecStart=/bin/caf\xe9\n"}})) ==
        "c.yaml:9:11: units[0].file: r.service:2:19: invalid UTF-8");
  CHECK(unit("  - name: web@1.service\n    text: \"[Service]\"\n")
            .starts_with("c.yaml:8:11: units[0].name: \"web@1.service\" is a unit herald writes "
                         "for apps[0]"));
  CHECK(unit("  - name: web-discovery@2.service\n    text: \"[Service]\"\n")
            .find("is a unit herald writes for apps[0]") != std::string::npos);
  CHECK(unit("  - name: a.service\n    text: \"[Service]\"\n  - name: a.service\n    text: "
             "\"[Service]\"\n")
            .starts_with("c.yaml:10:11: units[1].name: unit \"a.service\" is already units[0]"));
}

TEST_CASE("a cluster file that is missing, empty or not a mapping says so") {
  CHECK(error_of("") == "c.yaml:1:1: apps: the file is empty: a cluster file lists at least its "
                        "apps");
  CHECK(error_of("- a\n") == "c.yaml:1:1: expected a mapping with registry, scheduler, routers, "
                             "apps, units and launch");
  try {
    load_cluster_file("/nonexistent/cluster.yaml");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::config);
    CHECK(std::string(e.what()) == "cluster file /nonexistent/cluster.yaml does not exist: pass "
                                   "-f FILE (see herald-cluster(5))");
  }
}

TEST_CASE("merge keys cannot blow up the parser") {
  std::string text = "x-0: &a0 {A: '1'}\n";
  for (int i = 1; i < 30; ++i) {
    text += fmt::format("x-{}: &a{} {{<<: [*a{}, *a{}]}}\n", i, i, i - 1, i - 1);
  }
  text += std::string(k_app) + "    env: {<<: *a29}\n";
  CHECK(error_of(text).find("merge keys (<<) nest too deep") != std::string::npos);
}

TEST_CASE("the canonical dump parses back to the same spec") {
  std::string text = R"(registry: {url: "consul://h:8500", prefix: /p}
scheduler: {kind: fleet, tunnel: "core@h", ssh_timeout: 90s}
routers: [{kind: haproxy, domain: example.com, metadata: [a=b]}]
apps:
  - {name: web, image: "web:1", port: 80, instances: 2, aliases: [x.example.com],
     env: {"null": "true", B: "x y", C: "~"}, env_files: [e.env],
     health: {path: /h, interval: 3s, timeout: 250ms, rise: 4, fall: 5},
     placement: {spread: true, metadata: [r=1]},
     update: {max_unavailable: 10%, max_surge: 0, min_ready: 1m, drain: 0s}}
units: [{name: u.service, text: "[Service]\nExecStart=/bin/echo \"a\tb\"\n", global: true}]
)";
  ClusterSpec spec = parse(text, test::files({{"./e.env", "F=from file\n"}}));
  std::string dumped = dump_cluster(spec);
  CAPTURE(dumped);
  ClusterSpec again = parse(dumped);
  CHECK(dump_cluster(again) == dumped);
  CHECK(again.apps[0].environment() == spec.apps[0].environment());
  CHECK(again.apps[0].health == spec.apps[0].health);
  CHECK(again.apps[0].update == spec.apps[0].update);
  CHECK(again.apps[0].placement == spec.apps[0].placement);
  CHECK(again.units[0].text == spec.units[0].text);
  CHECK(again.scheduler.fleet.tunnel->str() == "core@h");
  CHECK(again.routers[0].global);
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("cluster");

TEST_CASE("behind nginx-path routers alone an app routes by path unless it says otherwise") {
  std::string routers = "routers:\n  - kind: nginx-path\n";
  CHECK(parse(routers + k_app).apps[0].routing == Routing::path);
  CHECK(error_of(routers + k_app + "    aliases: [www.example.com]\n")
            .starts_with("c.yaml:7:14: apps[0].aliases: no router routes by host"));
  CHECK(error_of(routers + k_app + "    routing: host\n")
            .starts_with("c.yaml:7:14: apps[0].routing: no router routes by host"));
}

TEST_CASE("durations and odd text survive the canonical dump") {
  std::string text = std::string(k_app) +
                     "    env: {A: \"\\u2028 \\u0085 é\", B: \" lead and trail \", C: \"'\\\"\"}\n"
                     "    health: {interval: 1h1m1s, timeout: 1500ms}\n"
                     "    update: {drain: 250ms, min_ready: 0}\n";
  ClusterSpec spec = parse(text);
  std::string dumped = dump_cluster(spec);
  CAPTURE(dumped);
  ClusterSpec again = parse(dumped);
  CHECK(again.apps[0].env == spec.apps[0].env);
  CHECK(again.apps[0].health == spec.apps[0].health);
  CHECK(again.apps[0].update == spec.apps[0].update);
  CHECK(dump_cluster(again) == dumped);
}

TEST_SUITE_END();
