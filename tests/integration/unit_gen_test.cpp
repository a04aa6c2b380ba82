// herald unit gen, driven as users run it: files written and rewritten, printed, refused; and
// every unit it generates accepted by Debian's systemd-analyze verify.
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace herald::test;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> gen(std::vector<std::string> args) {
  std::vector<std::string> argv = {herald_bin(), "unit", "gen"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

/// Every file of `dir`, sorted.
std::vector<std::string> files_of(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// systemd-analyze, or skips the test.
std::string systemd_analyze() {
  std::string tool = find_program("systemd-analyze");
  if (tool.empty()) {
    skip("systemd-analyze is not installed (Debian package systemd)");
  }
  return tool;
}

} // namespace

TEST_SUITE_BEGIN("integration");

TEST_CASE("every unit herald unit gen writes passes systemd-analyze verify") {
  std::string analyze = systemd_analyze();
  TempDir dir;
  std::string env_file = dir.write("app.env", "# from a file\nFROM_FILE=a b c\nQUOTES=\"'\\\n");
  // The units run the herald under test, so that verify finds every program they name.
  std::string herald = herald_bin();
  const std::vector<std::vector<std::string>> commands = {
      {"web",
       "--image",
       "registry.example.com:5000/team/web:1.4",
       "--port",
       "3000",
       "--health-path",
       "/health?full=1",
       "--domain",
       "example.com",
       "--conflicts",
       "--metadata",
       "role=web",
       "--machine-of",
       "db@%i.service",
       "--env-file",
       env_file,
       "--env",
       "NEWLINE=one\ntwo",
       "--env",
       "PERCENT=100% %i %%",
       "--env",
       "SHELLISH=$HOME ${PATH} `id` ; rm -rf / \\ \" '",
       "--env",
       "EMPTY="},
      {"api", "--image", "api:2", "--port", "8080", "--host-port", "8080", "--host-ip", "10.0.0.5",
       "--path", "/api", "--pull-timeout", "90s"},
      {"native", "--port", "9000", "--health-path", "/ping"},
      {"router", "--template", "nginx-host", "--domain", "example.com", "--listen", "8080"},
      {"router", "--template", "nginx-path", "--name", "paths", "--routes-prefix",
       "/services/clusters"},
      {"router", "--template", "haproxy", "--name", "edge", "--listen", "*:8080", "--metadata",
       "role=router"},
      {"launcher", "-f", "/etc/herald/cluster.yaml", "--listen", "127.0.0.1:8099"},
      {"registrator"},
      {"registrator", "--registry", "etcd://10.0.0.1:2379,10.0.0.2:2379", "--name", "reg-prod",
       "--prefix", "/prod/web", "--node", "node-1", "--host", "10.0.0.5", "--ttl", "30s",
       "--metadata", "role=docker"},
  };
  std::size_t verified = 0;
  for (const auto& args : commands) {
    CAPTURE(args.front());
    std::vector<std::string> argv = gen(args);
    argv.insert(argv.end(), {"--herald-path", herald, "-o", dir.path() + "/units"});
    auto r = run(argv);
    REQUIRE_MESSAGE(r.status == 0, r.err);
  }
  // native-discovery@ binds to the app's own native@.service, which its user writes: a stand-in
  // lets verify resolve BindsTo= as it would on the machine.
  std::string native = dir.write("units/native@.service", "[Service]\nExecStart=/bin/true\n");
  for (const std::string& file : files_of(dir.path() + "/units")) {
    if (file == native) {
      continue;
    }
    CAPTURE(file);
    // --man=no: the herald pages are installed by cmake --install, not on this machine; a unit
    // test checks that every man page the templates name exists in man/.
    auto r = run({analyze, "verify", "--man=no", file});
    CHECK_MESSAGE(r.status == 0, (r.out + r.err));
    CHECK_MESSAGE(r.out + r.err == "", (r.out + r.err)); // not even a warning
    ++verified;
  }
  CHECK(verified == 14);
}

TEST_CASE("systemd-analyze verify catches a broken unit (the check above can fail)") {
  std::string analyze = systemd_analyze();
  TempDir dir;
  std::string file = dir.write("broken@.service", "[Unit]\nDescription=x\n[Service]\n"
                                                  "Environment=\"A=1\nExecStart=/usr/bin/true\n");
  auto r = run({analyze, "verify", "--man=no", file});
  CHECK(r.out + r.err != "");
}

TEST_CASE("unit gen writes new files, leaves identical ones alone and says which") {
  TempDir dir;
  std::string out = dir.path() + "/units";
  std::vector<std::string> base = {"web", "--image", "web:1", "--port", "3000", "-o", out};
  auto first = run(gen(base));
  REQUIRE_MESSAGE(first.status == 0, first.err);
  CHECK(first.out ==
        "created   " + out + "/web@.service\n" + "created   " + out + "/web-discovery@.service\n");
  struct stat before {};
  REQUIRE(::stat((out + "/web@.service").c_str(), &before) == 0);

  auto again = run(gen(base));
  CHECK(again.status == 0);
  CHECK(again.out ==
        "unchanged " + out + "/web@.service\n" + "unchanged " + out + "/web-discovery@.service\n");
  struct stat after {};
  REQUIRE(::stat((out + "/web@.service").c_str(), &after) == 0);
  CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);

  std::vector<std::string> changed = base;
  changed[2] = "web:2";
  auto dry = run(gen([&] {
    auto args = changed;
    args.push_back("--dry-run");
    return args;
  }()));
  CHECK(dry.status == 0);
  CHECK(contains(dry.out, "would be updated " + out + "/web@.service\n"));
  CHECK(contains(dry.out, "-ExecStartPre=-/usr/bin/timeout 300 /usr/bin/docker pull web:1\n"));
  CHECK(contains(dry.out, "+ExecStartPre=-/usr/bin/timeout 300 /usr/bin/docker pull web:2\n"));
  CHECK(contains(dry.out, "unchanged " + out + "/web-discovery@.service\n"));
  CHECK(contains(read_file(out + "/web@.service"), "web:1"));

  auto update = run(gen(changed));
  CHECK(update.status == 0);
  CHECK(contains(update.out, "updated   " + out + "/web@.service\n"));
  CHECK(contains(read_file(out + "/web@.service"), "web:2"));
  for (const std::string& file : files_of(out)) {
    CHECK_FALSE(fs::path(file).filename().string().starts_with("."));
  }
}

TEST_CASE("unit gen registrator writes the global --registry into the unit, and no environment "
          "variable") {
  auto bare = run(gen({"registrator", "-o", "-"}), {{"HERALD_REGISTRY", "etcd://10.9.9.9:2379"}});
  REQUIRE_MESSAGE(bare.status == 0, bare.err);
  CHECK(contains(bare.out, " announce --docker-events \\\n    --prefix /services/web --ttl 60s\n"));
  CHECK_FALSE(contains(bare.out, "10.9.9.9"));
  auto given = run({herald_bin(), "--registry", "etcd://10.0.0.1:2379", "unit", "gen",
                    "registrator", "--prefix", "/prod/web", "-o", "-"});
  REQUIRE_MESSAGE(given.status == 0, given.err);
  CHECK(contains(given.out, " --registry etcd://10.0.0.1:2379 announce --docker-events \\\n"
                            "    --prefix /prod/web --ttl 60s\n"));
}

TEST_CASE("unit gen -o - prints the units for a script") {
  auto r = run(gen({"web", "--image", "web:1", "--port", "3000", "-o", "-"}));
  REQUIRE(r.status == 0);
  CHECK(r.out.starts_with("# web@.service\n# web@.service: "));
  CHECK(contains(r.out, "\n\n# web-discovery@.service\n"));
  CHECK(contains(r.out, "ExecStart=/usr/bin/docker run --name web.%i"));
}

TEST_CASE("unit gen refuses bad input with the documented exit codes") {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    int status;
    const char* message;
  };
  dir.write("file", "");
  dir.write("templates/app@.service.tmpl", "[Unit]\nDescription={{.Nope}}\n");
  const std::vector<Case> cases = {
      {{"Web", "--image", "web:1", "--port", "3000", "-o", "-"}, 2, "invalid app name \"Web\""},
      {{"web", "--image", "web:1 --privileged", "--port", "3000", "-o", "-"}, 2, "invalid image"},
      {{"web", "--image", "web:1", "-o", "-"}, 2, "--port"},
      {{"web", "--image", "web:1", "--port", "70000", "-o", "-"}, 2, "--port"},
      {{"web", "--port", "1", "--domain", "a.b", "--path", "/x", "-o", "-"}, 2, "--path"},
      {{"web", "--port", "1", "--env", "NOEQUALS", "-o", "-"}, 2, "KEY=VALUE"},
      {{"web", "--port", "1", "--env-file", dir.file("missing.env"), "-o", "-"}, 2, "missing.env"},
      {{"--port", "1", "-o", "-"}, 2, "name the APP"},
      {{"router", "-o", "-"}, 2, "--template"},
      {{"router", "--template", "traefik", "-o", "-"}, 2, "traefik"},
      {{"--image", "x", "router", "--template", "haproxy", "-o", "-"}, 2, "--image is for"},
      {{"registrator", "--prefix", "/herald", "-o", "-"}, 2, "registrators announce themselves"},
      {{"registrator", "--node", "a:b", "-o", "-"}, 2, "invalid node name"},
      {{"registrator", "--ttl", "1s", "-o", "-"}, 2, "--ttl"},
      {{"web", "--image", "web:1", "--port", "3000", "--templates", dir.file("templates"), "-o",
        "-"},
       65,
       "Nope"},
      {{"web", "--image", "web:1", "--port", "3000", "--templates", dir.file("none"), "-o", "-"},
       78,
       "does not exist"},
      {{"web", "--image", "web:1", "--port", "3000", "-o", dir.file("file")},
       78,
       "is not a directory"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    auto r = run(gen(c.args));
    CHECK(r.status == c.status);
    CHECK_MESSAGE(contains(r.err, c.message), r.err);
    CHECK(r.out.empty());
  }
  auto bare = run({herald_bin(), "unit"});
  CHECK(bare.status == 2);
}

TEST_CASE("unit gen --help shows real examples") {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--help"}, std::vector<std::string>{"router", "--help"},
        std::vector<std::string>{"launcher", "--help"},
        std::vector<std::string>{"registrator", "--help"}}) {
    auto r = run(gen(args));
    CHECK(r.status == 0);
    CHECK(contains(r.out, "Examples:"));
    CHECK(contains(r.out, "herald unit gen "));
  }
}

TEST_CASE("the units run the herald that cmake --install puts in place") {
  std::string cmake = find_program("cmake");
  if (cmake.empty()) {
    skip("cmake is not installed (Debian package cmake)");
  }
  TempDir dir;
  // DESTDIR: install as the packaging would, under a temp root.
  auto install = run({cmake, "--install", HERALD_BUILD_DIR}, {{"DESTDIR", dir.path()}},
                     std::chrono::seconds(120));
  REQUIRE_MESSAGE(install.status == 0, install.err);
  std::string herald = dir.path() + HERALD_INSTALLED_BIN;
  CHECK(::access(herald.c_str(), X_OK) == 0);
  CHECK(fs::exists(dir.path() + HERALD_INSTALLED_DATA_DIR + "/templates/nginx-host.tmpl"));
  CHECK(fs::exists(dir.path() + HERALD_INSTALLED_DATA_DIR + "/templates/nginx-check"));
  CHECK(fs::exists(dir.path() + HERALD_INSTALLED_DATA_DIR + "/unit_templates/app@.service.tmpl"));

  auto app = run(gen({"web", "--image", "web:1", "--port", "3000", "-o", "-"}));
  REQUIRE(app.status == 0);
  CHECK(contains(app.out, std::string("ExecStart=") + HERALD_INSTALLED_BIN + " announce web@%i"));
  auto router = run(gen({"router", "--template", "nginx-host", "-o", "-"}));
  REQUIRE(router.status == 0);
  CHECK(contains(router.out,
                 std::string(HERALD_INSTALLED_DATA_DIR) + "/templates/nginx-check {{.src}}"));
  auto flatcar = run(gen({"web", "--port", "3000", "--herald-path", "/opt/bin/herald", "-o", "-"}));
  CHECK(contains(flatcar.out, "ExecStart=/opt/bin/herald announce web@%i"));
}

TEST_SUITE_END();

TEST_CASE("unit ls --help names the columns of both listings") {
  auto r = run({herald_bin(), "unit", "ls", "--help"});
  CHECK(r.status == 0);
  // --fields takes the state columns, or with --files the unit file columns: both are named.
  CHECK(contains(r.out, "unit,machine,active,sub"));
  CHECK(contains(r.out, "with --files: unit,hash,dstate,state,target"));
}
