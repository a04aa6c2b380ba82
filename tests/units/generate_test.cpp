#include "herald/core/error.hpp"
#include "herald/units/fleet_options.hpp"
#include "herald/units/generate.hpp"
#include "herald/units/quote.hpp"
#include "herald/units/unit_file.hpp"
#include "herald/units/unit_name.hpp"
#include "herald/units/write.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <functional>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace herald;
using namespace herald::units;
using namespace std::chrono_literals;

namespace {

HostPaths test_paths() {
  HostPaths paths = HostPaths::installed();
  paths.herald = "/opt/bin/herald";
  return paths;
}

AppSpec web() {
  AppSpec spec;
  spec.app = "web";
  spec.image = "registry.example.com:5000/team/web:1.4";
  spec.port = 3000;
  return spec;
}

const GeneratedUnit& unit_named(const std::vector<GeneratedUnit>& units, const std::string& name) {
  for (const auto& unit : units) {
    if (unit.name == name) {
      return unit;
    }
  }
  FAIL("no unit " << name);
  return units.front();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The argv systemd would give the command of `value` (an Exec line) for instance `unit`.
std::vector<std::string> exec_words(const std::string& value, const std::string& unit) {
  std::vector<std::string> words;
  UnitName name = parse_unit_name(unit);
  for (const auto& word : split_words(value)) {
    words.push_back(resolve_specifiers(word, name));
  }
  return words;
}

ErrorKind error_kind(auto&& fn, std::string& message) {
  try {
    fn();
  } catch (const Error& e) {
    message = e.what();
    return e.kind();
  }
  FAIL("no error");
  return ErrorKind::internal;
}

} // namespace

TEST_SUITE_BEGIN("units");

TEST_CASE("gen APP writes the app's instance template and its Docker sidekick") {
  auto units = generate_app(web(), UnitTemplates(), test_paths());
  REQUIRE(units.size() == 2);
  UnitFile app = UnitFile::parse(unit_named(units, "web@.service").text, "web@.service");
  CHECK(app.value("Unit", "Requires") == "docker.service");
  CHECK(app.value("Service", "TimeoutStartSec") == "360");
  std::vector<std::string> pre = app.values("Service", "ExecStartPre");
  REQUIRE(pre.size() == 3);
  CHECK(pre[0] == "-/usr/bin/docker kill web.%i");
  CHECK(pre[1] == "-/usr/bin/docker rm web.%i");
  CHECK(pre[2] == "-/usr/bin/timeout 300 /usr/bin/docker pull "
                  "registry.example.com:5000/team/web:1.4");
  CHECK(exec_words(*app.value("Service", "ExecStart"), "web@2.service") ==
        std::vector<std::string>{"/usr/bin/docker", "run", "--name", "web.2", "--label",
                                 "herald.app=web", "--label", "herald.instance=2", "-p",
                                 "${COREOS_PRIVATE_IPV4}::3000",
                                 "registry.example.com:5000/team/web:1.4"});
  CHECK(app.value("Service", "ExecStop") == "/usr/bin/docker stop -t 10 web.%i");
  CHECK(app.value("Service", "ExecStopPost") == "-/usr/bin/docker rm web.%i");
  CHECK(app.section("X-Fleet") == nullptr);
  CHECK_FALSE(contains(units[0].text, "replace"));

  UnitFile side =
      UnitFile::parse(unit_named(units, "web-discovery@.service").text, "web-discovery@.service");
  CHECK(side.value("Unit", "BindsTo") == "web@%i.service");
  CHECK(side.value("Unit", "After") == "web@%i.service docker.service");
  CHECK(side.value("Service", "Type") == "notify");
  CHECK(side.value("Service", "WatchdogSec") == "60");
  CHECK(side.value("Service", "Restart") == "on-failure");
  CHECK(side.value("X-Fleet", "MachineOf") == "web@%i.service");
  CHECK(exec_words(*side.value("Service", "ExecStart"), "web-discovery@2.service") ==
        std::vector<std::string>{"/opt/bin/herald", "announce", "web@2", "--docker", "web.2",
                                 "--container-port", "3000", "--follow", "--ttl", "60s"});
  // What fleet gets: every value on one line.
  for (const auto& option : to_fleet_options(side)) {
    CHECK(option.value.find('\n') == std::string::npos);
  }
}

TEST_CASE("gen APP places, publishes and checks as asked") {
  AppSpec spec = web();
  spec.host_port = 8080;
  spec.host_ip = "10.0.0.5";
  spec.metadata = {"role=web", "disk=ssd"};
  spec.machine_of = "db@%i.service";
  spec.health_path = "/health?full=1";
  spec.domain = "example.com";
  spec.pull_timeout = std::chrono::seconds(30);
  auto units = generate_app(spec, UnitTemplates(), test_paths());
  UnitFile app = UnitFile::parse(units[0].text);
  CHECK(contains(*app.value("Service", "ExecStart"), "-p 10.0.0.5:8080:3000 "));
  CHECK(app.value("X-Fleet", "Conflicts") == "web@*.service"); // a fixed host port implies it
  CHECK(app.value("X-Fleet", "MachineOf") == "db@%i.service");
  CHECK(app.values("X-Fleet", "MachineMetadata") ==
        std::vector<std::string>{"role=web", "disk=ssd"});
  CHECK(app.value("Service", "TimeoutStartSec") == "90");
  UnitFile side = UnitFile::parse(units[1].text);
  std::vector<std::string> words =
      exec_words(*side.value("Service", "ExecStart"), "web-discovery@1.service");
  std::vector<std::string> tail(words.begin() + 10, words.end());
  CHECK(tail == std::vector<std::string>{"--check-http", "/health?full=1", "--value", "json",
                                         "--meta", "host=web.example.com"});

  spec = web();
  spec.host_ip = "::1";
  spec.path = "/shop";
  spec.conflicts = true;
  units = generate_app(spec, UnitTemplates(), test_paths());
  app = UnitFile::parse(units[0].text);
  CHECK(contains(*app.value("Service", "ExecStart"), "-p [::1]::3000 "));
  CHECK(app.value("X-Fleet", "Conflicts") == "web@*.service");
  CHECK(contains(units[1].text, "--meta path=/shop"));
}

TEST_CASE("env values reach the container exactly, whatever they hold") {
  AppSpec spec = web();
  const std::string hostile = "50% of \"x\" 'y' $HOME ${PATH} %i \\n\nline2\tend;";
  spec.env = {{"PLAIN", "1"}, {"HOSTILE", hostile}, {"EMPTY", ""}, {"PLAIN", "2"}};
  auto units = generate_app(spec, UnitTemplates(), test_paths());
  UnitFile app = UnitFile::parse(units[0].text);
  UnitName instance = parse_unit_name("web@1.service");
  std::vector<std::string> assignments;
  for (const auto& value : app.values("Service", "Environment")) {
    for (const auto& word : split_words(value)) {
      assignments.push_back(resolve_specifiers(word, instance));
    }
  }
  CHECK(assignments == std::vector<std::string>{"PLAIN=2", "HOSTILE=" + hostile, "EMPTY="});
  std::vector<std::string> run = exec_words(*app.value("Service", "ExecStart"), "web@1.service");
  // Names only: docker takes each value from the environment systemd gave it (none in argv).
  std::vector<std::string> tail(run.end() - 7, run.end());
  CHECK(tail ==
        std::vector<std::string>{"-e", "PLAIN", "-e", "HOSTILE", "-e", "EMPTY", spec.image});
  for (const auto& option : to_fleet_options(app)) {
    CHECK(option.value.find('\n') == std::string::npos);
  }
}

TEST_CASE("gen APP without an image writes the sidekick of a native app") {
  AppSpec spec;
  spec.app = "api";
  spec.port = 8080;
  spec.health_path = "/ping";
  auto units = generate_app(spec, UnitTemplates(), test_paths());
  REQUIRE(units.size() == 1);
  CHECK(units[0].name == "api-discovery@.service");
  UnitFile side = UnitFile::parse(units[0].text);
  CHECK(exec_words(*side.value("Service", "ExecStart"), "api-discovery@3.service") ==
        std::vector<std::string>{"/opt/bin/herald", "announce", "api@3", "--port", "8080", "--ttl",
                                 "60s", "--check-http", "/ping"});
  CHECK(side.value("Unit", "After") == "api@%i.service");
  spec.env = {{"A", "1"}};
  std::string message;
  CHECK(error_kind([&] { generate_app(spec, UnitTemplates(), test_paths()); }, message) ==
        ErrorKind::usage);
  CHECK(contains(message, "--env/--env-file shapes api@.service, which is written only with "
                          "--image"));
  spec.env.clear();
  spec.conflicts = true;
  CHECK_THROWS_AS(generate_app(spec, UnitTemplates(), test_paths()), Error);
}

TEST_CASE("gen APP refuses values that are not what they claim to be, naming them") {
  struct Case {
    std::function<void(AppSpec&)> change;
    const char* message;
  };
  const Case cases[] = {
      {[](AppSpec& s) { s.app = "Web"; }, "invalid app name \"Web\""},
      {[](AppSpec& s) { s.app = "web.1"; }, "invalid app name"},
      {[](AppSpec& s) { s.app = "-web"; }, "invalid app name"},
      {[](AppSpec& s) { s.app = std::string(64, 'a'); }, "invalid app name"},
      {[](AppSpec& s) { s.image = "web:1 --privileged"; }, "invalid image"},
      {[](AppSpec& s) { s.image = "web%i"; }, "invalid image"},
      {[](AppSpec& s) { s.port = 0; }, "--port"},
      {[](AppSpec& s) { s.domain = "exa mple.com"; }, "invalid domain"},
      {[](AppSpec& s) { s.path = "/a b"; }, "invalid path"},
      {[](AppSpec& s) { s.path = "shop"; }, "invalid path"},
      {[](AppSpec& s) {
         s.path = "/a";
         s.domain = "b.c";
       },
       "exclude each other"},
      {[](AppSpec& s) { s.health_path = "/a/../etc"; }, "invalid health path"},
      {[](AppSpec& s) { s.machine_of = "db"; }, "invalid MachineOf"},
      {[](AppSpec& s) { s.machine_of = "db@%H.service"; }, "invalid MachineOf"},
      {[](AppSpec& s) { s.metadata = {"role"}; }, "invalid metadata"},
      {[](AppSpec& s) { s.metadata = {"role=a b"}; }, "invalid metadata"},
      {[](AppSpec& s) { s.host_ip = "10.0.0.300"; }, "invalid host IP"},
      {[](AppSpec& s) { s.host_ip = "${1X}"; }, "invalid host IP"},
      {[](AppSpec& s) {
         s.env = {{"A-B", "x"}};
       },
       "invalid environment variable name"},
      {[](AppSpec& s) {
         s.env = {{"A", std::string("x\0y", 3)}};
       },
       "NUL"},
  };
  for (const Case& c : cases) {
    AppSpec spec = web();
    c.change(spec);
    std::string message;
    CHECK(error_kind([&] { generate_app(spec, UnitTemplates(), test_paths()); }, message) !=
          ErrorKind::internal);
    CHECK_MESSAGE(contains(message, c.message), message);
  }
  HostPaths paths = test_paths();
  paths.herald = "opt/bin/herald";
  std::string message;
  CHECK(error_kind([&] { generate_app(web(), UnitTemplates(), paths); }, message) ==
        ErrorKind::usage);
  CHECK(contains(message, "invalid herald path"));
}

TEST_CASE("gen router writes a Global router and the render unit that feeds it") {
  RouterSpec spec;
  spec.kind = RouterKind::nginx_host;
  spec.domain = "example.com";
  spec.listen = "8080";
  spec.metadata = {"role=router"};
  auto units = generate_router(spec, UnitTemplates(), test_paths());
  REQUIRE(units.size() == 2);
  UnitFile router = UnitFile::parse(unit_named(units, "herald-router.service").text);
  CHECK(router.value("X-Fleet", "Global") == "true");
  CHECK(router.value("X-Fleet", "MachineMetadata") == "role=router");
  CHECK(router.value("Unit", "Conflicts") == "nginx.service");
  CHECK(exec_words(*router.value("Service", "ExecStart"), "herald-router.service") ==
        std::vector<std::string>{"/usr/sbin/nginx", "-g", "daemon off; master_process on;"});
  CHECK(router.values("Service", "ExecReload").back() == "/bin/kill -HUP $MAINPID");

  UnitFile render = UnitFile::parse(unit_named(units, "herald-router-render.service").text);
  CHECK(render.value("Unit", "PartOf") == "herald-router.service");
  CHECK(render.value("X-Fleet", "Global") == "true");
  std::string data = HostPaths::installed().data_dir;
  CHECK(exec_words(*render.value("Service", "ExecStart"), "herald-router-render.service") ==
        std::vector<std::string>{
            "/opt/bin/herald", "render", "--watch", "--wait", "2s:4s", "--template",
            data + "/templates/nginx-host.tmpl", "--dest", "/etc/nginx/conf.d/herald-hosts.conf",
            "--keys", "/services/web", "--keys", "/services/domain", "--keys",
            "/services/launchers", "--check-cmd", data + "/templates/nginx-check {{.src}}",
            "--reload-cmd", "/usr/bin/systemctl try-reload-or-restart herald-router.service"});
  std::vector<std::string> env;
  for (const auto& value : render.values("Service", "Environment")) {
    env.push_back(split_words(value).at(0));
  }
  CHECK(env == std::vector<std::string>{"HERALD_DOMAIN=example.com", "HERALD_NGINX_LISTEN=8080"});

  spec = RouterSpec();
  spec.kind = RouterKind::haproxy;
  spec.name = "edge";
  spec.listen = "*:80";
  units = generate_router(spec, UnitTemplates(), test_paths());
  UnitFile haproxy = UnitFile::parse(unit_named(units, "edge.service").text);
  CHECK(haproxy.value("Service", "Type") == "notify");
  CHECK(haproxy.value("Service", "ExecStart") ==
        "/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg -p /run/edge.pid");
  UnitFile haproxy_render = UnitFile::parse(unit_named(units, "edge-render.service").text);
  CHECK(contains(*haproxy_render.value("Service", "ExecStart"),
                 "--check-cmd \"/usr/sbin/haproxy -c -q -f {{.src}}\""));
  env.clear();
  for (const auto& value : haproxy_render.values("Service", "Environment")) {
    env.push_back(split_words(value).at(0));
  }
  CHECK(env == std::vector<std::string>{"HERALD_HAPROXY_BIND=*:80",
                                        "HERALD_HAPROXY_SOCKET=/run/edge/admin.sock"});
  // Servers come and go through haproxy's runtime API on the socket the router unit's runtime
  // directory holds; nginx has no such socket.
  std::vector<std::string> words =
      exec_words(*haproxy_render.value("Service", "ExecStart"), "edge-render.service");
  auto socket = std::find(words.begin(), words.end(), "--haproxy-socket");
  REQUIRE(socket != words.end());
  REQUIRE(socket + 1 != words.end());
  CHECK(socket[1] == "/run/edge/admin.sock");
  CHECK(haproxy.value("Service", "RuntimeDirectory") == "edge");
  auto nginx_units = generate_router(RouterSpec(), UnitTemplates(), test_paths());
  CHECK_FALSE(contains(unit_named(nginx_units, "herald-router-render.service").text, "haproxy"));
  spec.name = std::string(100, 'r');
  CHECK_THROWS_AS(generate_router(spec, UnitTemplates(), test_paths()), Error);

  spec = RouterSpec();
  spec.kind = RouterKind::nginx_path;
  units = generate_router(spec, UnitTemplates(), test_paths());
  CHECK_FALSE(contains(units[1].text, "/services/domain"));
  CHECK(parse_router_kind("haproxy") == RouterKind::haproxy);
  CHECK_THROWS_AS(parse_router_kind("traefik"), Error);
  spec.name = "bad name";
  CHECK_THROWS_AS(generate_router(spec, UnitTemplates(), test_paths()), Error);
}

TEST_CASE("gen router watches the launchers and reads the apps from --routes-prefix") {
  std::string data = HostPaths::installed().data_dir;
  auto render_words = [](const std::vector<GeneratedUnit>& units) {
    UnitFile render = UnitFile::parse(unit_named(units, "herald-router-render.service").text);
    return std::pair{
        exec_words(*render.value("Service", "ExecStart"), "herald-router-render.service"),
        render.values("Service", "Environment")};
  };
  auto keys_of = [](const std::vector<std::string>& words) {
    std::vector<std::string> keys;
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i] == "--keys") {
        keys.push_back(words[i + 1]);
      }
    }
    return keys;
  };
  auto env_of = [](const std::vector<std::string>& values) {
    std::vector<std::string> env;
    for (const auto& value : values) {
      env.push_back(split_words(value).at(0));
    }
    return env;
  };

  // The default: /services/web, no HERALD_ROUTES_PREFIX, and the launchers for every kind.
  RouterSpec spec;
  spec.kind = RouterKind::nginx_path;
  auto [words, env] = render_words(generate_router(spec, UnitTemplates(), test_paths()));
  CHECK(keys_of(words) == std::vector<std::string>{"/services/web", "/services/launchers"});
  CHECK(env_of(env).empty());

  // The single-key layout of path-routed clusters: the prefix is watched and handed to the
  // template, also by the one-shot render before the router starts.
  spec.routes_prefix = "/services/clusters/";
  UnitFile render = UnitFile::parse(unit_named(generate_router(spec, UnitTemplates(), test_paths()),
                                               "herald-router-render.service")
                                        .text);
  auto start = exec_words(*render.value("Service", "ExecStart"), "herald-router-render.service");
  CHECK(keys_of(start) == std::vector<std::string>{"/services/clusters", "/services/launchers"});
  CHECK(env_of(render.values("Service", "Environment")) ==
        std::vector<std::string>{"HERALD_ROUTES_PREFIX=/services/clusters"});
  auto pre = exec_words(render.values("Service", "ExecStartPre").at(0).substr(1),
                        "herald-router-render.service");
  CHECK(keys_of(pre) == std::vector<std::string>{"/services/clusters", "/services/launchers"});

  spec.kind = RouterKind::haproxy;
  spec.routes_prefix = "/services/clusters";
  std::tie(words, env) = render_words(generate_router(spec, UnitTemplates(), test_paths()));
  CHECK(keys_of(words) ==
        std::vector<std::string>{"/services/clusters", "/services/domain", "/services/launchers"});
  CHECK(env_of(env).front() == "HERALD_ROUTES_PREFIX=/services/clusters");

  // A prefix that is no instance prefix is refused, naming the flag's value.
  for (std::string bad : {"services/web", "/", "/herald", "/services/launchers",
                          "/services/launchers/x", "/herald/registrators", "/a\nb"}) {
    CAPTURE(bad);
    spec.routes_prefix = bad;
    std::string message;
    CHECK(error_kind([&] { generate_router(spec, UnitTemplates(), test_paths()); }, message) ==
          ErrorKind::usage);
    CHECK(contains(message, "invalid routes prefix"));
  }
}

TEST_CASE("gen launcher writes a Global herald launch serve") {
  LauncherSpec spec;
  spec.cluster_file = "/etc/herald/prod.yaml";
  auto units = generate_launcher(spec, UnitTemplates(), test_paths());
  REQUIRE(units.size() == 1);
  CHECK(units[0].name == "herald-launcher.service");
  UnitFile launcher = UnitFile::parse(units[0].text);
  CHECK(launcher.value("Service", "ExecStart") ==
        "/opt/bin/herald launch serve -f /etc/herald/prod.yaml --listen 127.0.0.1:8090");
  CHECK(launcher.value("X-Fleet", "Global") == "true");
  spec.listen = "nowhere";
  CHECK_THROWS_AS(generate_launcher(spec, UnitTemplates(), test_paths()), Error);
}

TEST_CASE("gen registrator writes a Global herald announce --docker-events after docker.service") {
  RegistratorSpec spec;
  auto units = generate_registrator(spec, UnitTemplates(), test_paths());
  REQUIRE(units.size() == 1);
  CHECK(units[0].name == "herald-registrator.service");
  UnitFile unit = UnitFile::parse(units[0].text);
  CHECK(exec_words(*unit.value("Service", "ExecStart"), "herald-registrator.service") ==
        std::vector<std::string>{"/opt/bin/herald", "announce", "--docker-events", "--prefix",
                                 "/services/web", "--ttl", "60s"});
  CHECK(contains(*unit.value("Unit", "After"), "docker.service"));
  CHECK(unit.value("Service", "Type") == "notify");
  CHECK(unit.value("Service", "Restart") == "always");
  CHECK(unit.value("Service", "SupplementaryGroups") == "docker");
  CHECK(unit.value("X-Fleet", "Global") == "true");
  // Without --registry the unit reads it from /etc/herald/environment.
  CHECK(contains(units[0].text, "HERALD_REGISTRY=etcd://10.0.0.1:2379"));

  spec.name = "reg-prod";
  spec.registry = "etcd://10.0.0.1:2379,10.0.0.2:2379";
  spec.prefix = "/prod/web";
  spec.node = "node-1";
  spec.host = "10.0.0.5";
  spec.ttl = 30s;
  spec.metadata = {"role=docker"};
  units = generate_registrator(spec, UnitTemplates(), test_paths());
  REQUIRE(units.size() == 1);
  CHECK(units[0].name == "reg-prod.service");
  unit = UnitFile::parse(units[0].text);
  CHECK(exec_words(*unit.value("Service", "ExecStart"), "reg-prod.service") ==
        std::vector<std::string>{"/opt/bin/herald", "--registry",
                                 "etcd://10.0.0.1:2379,10.0.0.2:2379", "announce",
                                 "--docker-events", "--prefix", "/prod/web", "--node", "node-1",
                                 "--host", "10.0.0.5", "--ttl", "30s"});
  CHECK(unit.value("X-Fleet", "MachineMetadata") == "role=docker");
  CHECK_FALSE(contains(units[0].text, "HERALD_REGISTRY="));
}

TEST_CASE("gen registrator refuses what the registrator would refuse, naming it") {
  struct Case {
    std::function<void(RegistratorSpec&)> change;
    ErrorKind kind;
    const char* message;
  };
  const std::vector<Case> cases = {
      {[](RegistratorSpec& s) { s.name = "two words"; }, ErrorKind::usage, "registrator name"},
      {[](RegistratorSpec& s) { s.name = "reg@1"; }, ErrorKind::usage, "registrator name"},
      {[](RegistratorSpec& s) { s.registry = "zookeeper://h:2181"; }, ErrorKind::config,
       "zookeeper"},
      {[](RegistratorSpec& s) { s.prefix = "services/web"; }, ErrorKind::usage, "starts with '/'"},
      {[](RegistratorSpec& s) { s.prefix = "/herald"; }, ErrorKind::usage,
       "registrators announce themselves under /herald/registrators"},
      {[](RegistratorSpec& s) { s.prefix = "/"; }, ErrorKind::usage, "registrators"},
      {[](RegistratorSpec& s) { s.node = "node:1"; }, ErrorKind::usage, "invalid node name"},
      {[](RegistratorSpec& s) { s.host = "10.0.0.5; rm -rf"; }, ErrorKind::usage, "invalid host"},
      {[](RegistratorSpec& s) { s.ttl = 1s; }, ErrorKind::usage, "at least 2s"},
      {[](RegistratorSpec& s) { s.metadata = {"role"}; }, ErrorKind::usage, "metadata"},
  };
  for (const Case& c : cases) {
    RegistratorSpec spec;
    c.change(spec);
    std::string message;
    CHECK(error_kind([&] { generate_registrator(spec, UnitTemplates(), test_paths()); }, message) ==
          c.kind);
    CHECK_MESSAGE(contains(message, c.message), message);
  }
}

TEST_CASE("a template directory overrides the built-in templates file by file") {
  herald::test::TempDir dir;
  dir.write("app@.service.tmpl", "[Unit]\nDescription=custom {{.App}} on {{.Port}}\n"
                                 "[Service]\nExecStart={{.Docker}} run {{.Image}}\n");
  auto units = generate_app(web(), UnitTemplates(dir.path()), test_paths());
  CHECK(units[0].text == "[Unit]\nDescription=custom web on 3000\n[Service]\n"
                         "ExecStart=/usr/bin/docker run registry.example.com:5000/team/web:1.4\n");
  CHECK(contains(units[1].text, "announce web@%i")); // the built-in sidekick

  dir.write("app@.service.tmpl", "[Unit]\nDescription={{.Imgae}}\n");
  std::string message;
  CHECK(error_kind([&] { generate_app(web(), UnitTemplates(dir.path()), test_paths()); },
                   message) == ErrorKind::data);
  CHECK(contains(message, dir.path() + "/app@.service.tmpl"));
  CHECK(contains(message, "Imgae"));

  dir.write("app@.service.tmpl", "[Unit]\nDescription={{.App}}\nExecStart {{.Image}}\n");
  CHECK(error_kind([&] { generate_app(web(), UnitTemplates(dir.path()), test_paths()); },
                   message) == ErrorKind::data);
  CHECK_MESSAGE(contains(message, "web@.service:3:1: expected NAME=VALUE"), message);
  CHECK(contains(message, "(rendered from " + dir.path() + "/app@.service.tmpl)"));

  dir.write("app@.service.tmpl", "{{if}}");
  CHECK(error_kind([&] { generate_app(web(), UnitTemplates(dir.path()), test_paths()); },
                   message) == ErrorKind::data);

  CHECK(error_kind([&] { UnitTemplates(dir.path() + "/nope"); }, message) == ErrorKind::config);
  CHECK(UnitTemplates::builtin_names().size() == 8);
}

TEST_CASE("every herald man page the unit templates name exists") {
  std::size_t named = 0;
  for (const EmbeddedFile& file : builtin_unit_templates()) {
    std::string_view text = file.contents;
    for (std::size_t at = text.find("man:herald"); at != std::string_view::npos;
         at = text.find("man:herald", at + 1)) {
      std::string_view ref = text.substr(at + 4, text.find('(', at) - at - 4);
      CAPTURE(file.name);
      CAPTURE(ref);
      CHECK(std::filesystem::exists(std::string(HERALD_SOURCE_DIR) + "/man/" + std::string(ref) +
                                    ".scd"));
      ++named;
    }
  }
  CHECK(named >= 7);
}

TEST_CASE("write_units replaces only what changed, all or nothing") {
  herald::test::TempDir dir;
  std::string out = dir.path() + "/units";
  std::vector<GeneratedUnit> units = {{"a.service", "[Unit]\nDescription=a\n"},
                                      {"b.service", "[Unit]\nDescription=b\n"}};
  auto dry = write_units(out, units, true);
  CHECK(dry[0].outcome == WriteOutcome::created);
  CHECK_FALSE(std::filesystem::exists(out));

  auto first = write_units(out, units, false);
  CHECK(first[0].outcome == WriteOutcome::created);
  CHECK(first[1].path == out + "/b.service");
  CHECK(herald::test::read_file(out + "/a.service") == units[0].text);
  struct stat before {};
  REQUIRE(::stat((out + "/a.service").c_str(), &before) == 0);
  CHECK((before.st_mode & 0777) == 0644);

  units[1].text = "[Unit]\nDescription=b2\n";
  auto second = write_units(out, units, false);
  CHECK(second[0].outcome == WriteOutcome::unchanged);
  CHECK(second[1].outcome == WriteOutcome::updated);
  CHECK(second[1].previous == "[Unit]\nDescription=b\n");
  struct stat after {};
  REQUIRE(::stat((out + "/a.service").c_str(), &after) == 0);
  CHECK(after.st_ino == before.st_ino);
  CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
  CHECK(herald::test::read_file(out + "/b.service") == units[1].text);
  for (const auto& entry : std::filesystem::directory_iterator(out)) {
    CHECK_FALSE(entry.path().filename().string().starts_with(".")); // no stage file left
  }
  std::string message;
  CHECK(error_kind([&] { write_units(out + "/a.service", units, false); }, message) ==
        ErrorKind::config);
}

TEST_CASE("env files read as docker run --env-file reads them") {
  using Env = std::vector<std::pair<std::string, std::string>>;
  std::string message;
  CHECK(error_kind([&] { parse_env_file("A=1\nB C=2\n", "app.env", {}); }, message) ==
        ErrorKind::usage);
  CHECK(contains(message, "app.env:2:"));
  auto env = parse_env_file("# comment\n\n  A=1\nC\nD\nE=x=y\r\n", "app.env",
                            [](const std::string& name) -> std::optional<std::string> {
                              if (name == "C") {
                                return "from-env";
                              }
                              return std::nullopt;
                            });
  CHECK(env == Env{{"A", "1"}, {"C", "from-env"}, {"E", "x=y"}});
  CHECK(parse_env_assignment("K=v=w") == std::pair<std::string, std::string>{"K", "v=w"});
  CHECK_THROWS_AS(parse_env_assignment("K"), Error);
  CHECK_THROWS_AS(load_env_file("/nonexistent/app.env"), Error);
}

TEST_SUITE_END();
