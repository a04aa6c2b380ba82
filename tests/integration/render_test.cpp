#include "herald/core/error.hpp"
#include "herald/render/haproxy_runtime.hpp"
#include "support/etcd_server.hpp"
#include "support/haproxy.hpp"
#include "support/listener.hpp"
#include "support/nginx.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace herald::test;
using namespace std::chrono_literals;

// `herald render` end to end: the built binary against a real etcd (v3 JSON gateway and v2 keys
// API), a real nginx it reloads, real busybox httpd backends behind it, and real `nginx -t` /
// `haproxy -c` validating the bundled templates.

namespace {

namespace fs = std::filesystem;

/// Which etcd API a case writes and renders through.
enum class Api { v3, v2 };

const char* name_of(Api api) {
  return api == Api::v3 ? "etcd v3" : "etcd v2";
}

std::string url_of(const EtcdServer& server, Api api) {
  return api == Api::v3 ? server.v3_url() : server.v2_url();
}

void put(const EtcdServer& server, Api api, const std::string& key, const std::string& value) {
  if (api == Api::v3) {
    server.etcdctl({"put", key, value});
  } else {
    server.etcdctl2({"set", key, value});
  }
}

void del(const EtcdServer& server, Api api, const std::string& key) {
  if (api == Api::v3) {
    server.etcdctl({"del", key});
  } else {
    server.etcdctl2({"rm", key});
  }
}

/// The environment every herald run gets: nothing inherited that would change its behaviour.
std::map<std::string, std::string> clean_env(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> env{
      {"HERALD_REGISTRY", ""}, {"ETCDCTL_ENDPOINTS", ""},     {"NOTIFY_SOCKET", ""},
      {"JOURNAL_STREAM", ""},  {"HERALD_LOG_FORMAT", "text"}, {"HERALD_LOG_LEVEL", "info"}};
  for (auto& [k, v] : extra) {
    env[k] = v;
  }
  return env;
}

/// `herald --registry URL render ARGS...` run to completion.
RunResult render(const std::string& url, std::vector<std::string> args,
                 std::map<std::string, std::string> env = {}) {
  std::vector<std::string> argv{herald_bin(), "--registry", url, "render"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, clean_env(std::move(env)), 60s);
}

/// `herald --registry URL render --watch ARGS...` in the background.
std::unique_ptr<Process> render_watch(const std::string& url, std::vector<std::string> args,
                                      std::map<std::string, std::string> env = {}) {
  std::vector<std::string> argv{herald_bin(), "--registry", url, "render", "--watch"};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<Process>(argv, clean_env(std::move(env)));
}

/// Stops a watching herald with SIGTERM and returns its exit status (0 expected).
std::optional<int> stop_watch(Process& herald) {
  herald.signal(SIGTERM);
  return herald.wait(10s);
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

/// What identifies one version of a file on disk: its bytes, inode and modification time.
struct FileState {
  std::string content;
  ino_t inode = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileState&) const = default;
};

FileState state_of(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return {read_file(path), info.st_ino,
          static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec};
}

/// Files herald may have left in a directory (its stage files start with '.').
std::set<std::string> names_in(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    out.insert(entry.path().filename().string());
  }
  return out;
}

/// A tiny HTTP server (busybox httpd) answering every GET / with its own name.
class Backend {
public:
  Backend(const TempDir& dir, const std::string& name) : m_name(name), m_port(free_port()) {
    std::string busybox = find_program("busybox");
    if (busybox.empty()) {
      skip("busybox is not installed (Debian package busybox)");
    }
    std::string root = dir.file("www-" + name);
    dir.write("www-" + name + "/index.html", name + "\n");
    m_process = std::make_unique<Process>(std::vector<std::string>{
        busybox, "httpd", "-f", "-p", "127.0.0.1:" + std::to_string(m_port), "-h", root});
    REQUIRE(eventually([&] { return port_open(m_port); }, 5s));
  }

  const std::string& name() const { return m_name; }
  std::string address() const { return "127.0.0.1:" + std::to_string(m_port); }

private:
  std::string m_name;
  int m_port;
  std::unique_ptr<Process> m_process;
};

/// The bodies of `n` requests through nginx, as a set (round robin shows every backend).
std::set<std::string> bodies_of(const Nginx& nginx, int n, const std::string& host = "127.0.0.1",
                                const std::string& path = "/") {
  std::set<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.insert(nginx.get(host, path));
  }
  return out;
}

/// An upstream per app under /services/web, each served on NGINX_PORT (what the sidekicks
/// register, rendered the way a confd user writes it).
const char* const k_upstream_template = R"(# rendered by herald
{{- range $app := lsdir "/services/web"}}
upstream {{$app}} {
{{- range getvs (printf "/services/web/%s/*" $app)}}
    server {{.}};
{{- end}}
}
server {
    listen 127.0.0.1:{{getenv "NGINX_PORT"}};
    location / { proxy_pass http://{{$app}}; }
}
{{- end}}
)";

/// A one-line-per-instance listing, easy to compare byte for byte.
const char* const k_list_template = R"({{range gets "/services/web/web/*"}}{{base .Key}} {{.Value}}
{{end}})";

/// Asserts the failure contract of a once render: exit `code`, exactly one line on stderr that
/// names `needle`, and nothing on stdout.
void require_one_line_error(const RunResult& r, int code, const std::string& needle) {
  INFO("stderr: " << r.err);
  INFO("stdout: " << r.out);
  CHECK(r.status == code);
  auto lines = nonempty_lines(r.err);
  CHECK(lines.size() == 1);
  CHECK(contains(r.err, needle));
  CHECK(r.out.empty());
}

} // namespace

TEST_SUITE_BEGIN("integration");

TEST_CASE("render writes dest once from a template over etcd v3 and v2") {
  EtcdServer server;
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    TempDir dir;
    std::string templ = dir.write("list.tmpl", k_list_template);
    std::string tag = api == Api::v3 ? "3" : "2";
    put(server, api, "/services/web/web/web@1", "10.0.0.1:80" + tag);
    put(server, api, "/services/web/web/web@2", "10.0.0.2:80" + tag);
    put(server, api, "/services/web/other/other@1", "10.0.0.3:80" + tag);
    std::string dest = dir.file("list.txt");
    auto r = render(url_of(server, api),
                    {"--template", templ, "--dest", dest, "--keys", "/services/web"});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK(read_file(dest) == "web@1 10.0.0.1:80" + tag + "\nweb@2 10.0.0.2:80" + tag + "\n");
    CHECK((fs::status(dest).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
           fs::perms::others_read));
    CHECK(names_in(dir.path()) == std::set<std::string>{"list.tmpl", "list.txt"});

    // Unchanged output is not rewritten and does not reload.
    FileState before = state_of(dest);
    std::string marker = dir.file("reloaded");
    r = render(url_of(server, api), {"--template", templ, "--dest", dest, "--keys", "/services/web",
                                     "--reload-cmd", "touch " + marker});
    CHECK(r.status == 0);
    CHECK(state_of(dest) == before);
    CHECK_FALSE(fs::exists(marker));
  }
}

TEST_CASE("render --watch of one app's keys follows its instances and ignores the other apps") {
  EtcdServer server;
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    TempDir dir;
    // The bundled templates' way of reading instances, over a resource that reads one app.
    std::string templ = dir.write("routes.tmpl", R"({{range routes "/services/web"}}{{.Name}}:)"
                                                 R"({{range .Instances}} {{.Address}}{{end}}
{{end}})");
    std::string dest = dir.file("routes.txt");
    put(server, api, "/p/services/web/web/web@1", "10.0.0.1:80");
    put(server, api, "/p/services/web/web2/web2@1", "10.0.0.9:80");
    auto herald = render_watch(url_of(server, api),
                               {"--template", templ, "--dest", dest, "--prefix", "/p", "--keys",
                                "/services/web/web", "--reload-cmd", "echo reload"});
    INFO("herald: " << herald->err());
    REQUIRE(eventually([&] { return fs::exists(dest); }, 10s));
    CHECK(read_file(dest) == "web: 10.0.0.1:80\n");
    CHECK(eventually([&] { return contains(herald->err(), "(1 instance)"); }, 5s));

    put(server, api, "/p/services/web/web/web@2", "10.0.0.2:80");
    REQUIRE(eventually([&] { return read_file(dest) == "web: 10.0.0.1:80 10.0.0.2:80\n"; }, 10s));
    del(server, api, "/p/services/web/web/web@1");
    REQUIRE(eventually([&] { return read_file(dest) == "web: 10.0.0.2:80\n"; }, 10s));
    // Another app (web2 shares web's name as a string prefix) is not this resource's to read.
    FileState before = state_of(dest);
    put(server, api, "/p/services/web/web2/web2@2", "10.0.0.8:80");
    sleep_ms(1000);
    CHECK(state_of(dest) == before);
    CHECK_FALSE(contains(herald->err(), "left unchanged"));
    CHECK(stop_watch(*herald) == 0);
  }
}

TEST_CASE("render --watch keeps nginx in step as instances come and go and nginx serves them") {
  EtcdServer server;
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    TempDir dir;
    Backend a(dir, "backend-a");
    Backend b(dir, "backend-b");
    Backend c(dir, "backend-c");
    Nginx nginx(dir);
    nginx.start();
    std::string templ = dir.write("upstreams.tmpl", k_upstream_template);
    std::string dest = nginx.conf_d() + "/apps.conf";
    put(server, api, "/services/web/web/web@1", a.address());

    auto herald =
        render_watch(url_of(server, api),
                     {"--template", templ, "--dest", dest, "--keys", "/services/web", "--check-cmd",
                      nginx.check_cmd(), "--reload-cmd", nginx.reload_cmd()},
                     {{"NGINX_PORT", std::to_string(nginx.port())}});
    INFO("herald stderr: " << herald->err());

    // The first render installs the upstream and reloads nginx, which then serves backend a.
    REQUIRE(eventually([&] { return contains(read_file(dest), a.address()); }, 10s));
    REQUIRE(eventually([&] { return nginx.get() == "backend-a\n"; }, 10s));

    // An instance comes: both are served, round robin.
    put(server, api, "/services/web/web/web@2", b.address());
    REQUIRE(eventually([&] { return contains(read_file(dest), b.address()); }, 10s));
    CHECK(eventually(
        [&] {
          return bodies_of(nginx, 6) == std::set<std::string>{"backend-a\n", "backend-b\n"};
        },
        10s));

    // An instance goes: nginx stops sending traffic to it.
    del(server, api, "/services/web/web/web@1");
    REQUIRE(eventually([&] { return !contains(read_file(dest), a.address()); }, 10s));
    CHECK(eventually([&] { return bodies_of(nginx, 6) == std::set<std::string>{"backend-b\n"}; },
                     10s));

    // A value nginx rejects fails check_cmd: dest keeps the working config, nginx keeps serving.
    FileState good = state_of(dest);
    put(server, api, "/services/web/web/web@3", "127.0.0.1:99999");
    REQUIRE(eventually([&] { return contains(herald->err(), "check_cmd"); }, 10s));
    CHECK(contains(herald->err(), "invalid port"));
    CHECK(state_of(dest) == good);
    // (Eventually: on a loaded machine the reload of the previous change may still be ending.)
    CHECK(eventually([&] { return bodies_of(nginx, 4) == std::set<std::string>{"backend-b\n"}; },
                     5s));

    // Fixed in the registry: the next render goes through.
    put(server, api, "/services/web/web/web@3", c.address());
    REQUIRE(eventually([&] { return contains(read_file(dest), c.address()); }, 10s));
    CHECK(eventually(
        [&] {
          return bodies_of(nginx, 6) == std::set<std::string>{"backend-b\n", "backend-c\n"};
        },
        10s));
    CHECK_FALSE(contains(read_file(dest), "99999"));
    // No stage file is left beside dest.
    CHECK(names_in(nginx.conf_d()) == std::set<std::string>{"apps.conf"});
    CHECK(herald->running());
    CHECK(stop_watch(*herald) == 0);
  }
}

TEST_CASE("render --watch never reloads for a heartbeat: sidekicks refreshing short TTLs") {
  EtcdServer server;
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    TempDir dir;
    std::string templ = dir.write("list.tmpl", k_list_template);
    std::string dest = dir.file("list.txt");
    std::string reloads = dir.file("reloads");
    // Two real sidekicks whose 2 s TTL is refreshed several times a second.
    std::vector<std::unique_ptr<Process>> sidekicks;
    for (int i = 1; i <= 2; ++i) {
      sidekicks.push_back(std::make_unique<Process>(
          std::vector<std::string>{herald_bin(), "--registry", url_of(server, api), "announce",
                                   "web@" + std::to_string(i), "--addr",
                                   "10.0.0." + std::to_string(i) + ":80", "--ttl", "2s"},
          clean_env()));
    }
    // Both registered before render starts, so its first render is the whole picture.
    REQUIRE(eventually(
        [&] {
          for (const char* key : {"/services/web/web/web@1", "/services/web/web/web@2"}) {
            if (!(api == Api::v3 ? server.get3(key) : server.get2(key))) {
              return false;
            }
          }
          return true;
        },
        10s));
    auto herald = render_watch(url_of(server, api),
                               {"--template", templ, "--dest", dest, "--keys", "/services/web",
                                "--reload-cmd", "sh -c 'echo >> " + reloads + "'"});
    INFO("herald stderr: " << herald->err());
    REQUIRE(eventually(
        [&] { return contains(read_file(dest), "web@1") && contains(read_file(dest), "web@2"); },
        10s));
    REQUIRE(eventually([&] { return !read_file(reloads).empty(); }, 10s));
    std::size_t settled = read_file(reloads).size();
    FileState before = state_of(dest);
    // Three TTLs of heartbeats: the registry is written many times, the config never.
    sleep_ms(6000);
    // Still registered after three TTLs: the sidekicks did refresh.
    const std::string key = "/services/web/web/web@1";
    CHECK((api == Api::v3 ? server.get3(key) : server.get2(key)).has_value());
    CHECK(read_file(reloads).size() == settled);
    CHECK(state_of(dest) == before);
    // And a real change still gets through: a sidekick stops, its instance goes.
    sidekicks[1]->signal(SIGTERM);
    CHECK(eventually([&] { return !contains(read_file(dest), "web@2"); }, 10s));
    CHECK(eventually([&] { return read_file(reloads).size() > settled; }, 5s));
    sidekicks[0]->signal(SIGTERM);
    sidekicks[0]->wait(10s);
    sidekicks[1]->wait(10s);
    CHECK(stop_watch(*herald) == 0);
  }
}

TEST_CASE("render --watch leaves dest untouched while etcd is down and renders what changed") {
  EtcdServer server;
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    TempDir dir;
    std::string templ = dir.write("list.tmpl", k_list_template);
    std::string dest = dir.file("list.txt");
    put(server, api, "/services/web/web/web@1", "10.0.0.1:80");
    auto herald = render_watch(url_of(server, api),
                               {"--template", templ, "--dest", dest, "--keys", "/services/web"});
    INFO("herald stderr: " << herald->err());
    REQUIRE(eventually([&] { return read_file(dest) == "web@1 10.0.0.1:80\n"; }, 10s));
    FileState before = state_of(dest);

    server.stop();
    REQUIRE(eventually([&] { return contains(herald->err(), "registry lost: "); }, 15s));
    // Long enough for several retries, which must neither rewrite nor empty dest.
    sleep_ms(2500);
    CHECK(herald->running());
    CHECK(state_of(dest) == before);

    // etcd comes back on the same data dir; a change made before herald is back in touch (it is
    // in backoff) must still be rendered.
    server.start();
    put(server, api, "/services/web/web/web@2", "10.0.0.2:80");
    CHECK(eventually([&] { return read_file(dest) == "web@1 10.0.0.1:80\nweb@2 10.0.0.2:80\n"; },
                     20s));
    CHECK(eventually([&] { return contains(herald->err(), "registry back after "); }, 5s));
    // One line when lost, however many attempts the outage took.
    std::string err = herald->err();
    CHECK(err.find("registry lost: ") == err.rfind("registry lost: "));

    // And the watch keeps following after the outage.
    del(server, api, "/services/web/web/web@1");
    CHECK(eventually([&] { return read_file(dest) == "web@2 10.0.0.2:80\n"; }, 10s));
    CHECK(stop_watch(*herald) == 0);
  }
}

TEST_CASE("render never replaces dest when check_cmd rejects the render") {
  EtcdServer server;
  TempDir dir;
  std::string templ = dir.write("list.tmpl", k_list_template);
  std::string dest = dir.write("list.txt", "the config that works\n");
  FileState before = state_of(dest);
  put(server, Api::v3, "/services/web/web/web@1", "10.0.0.1:80");
  // The check sees the staged file, says why it refuses it and fails.
  std::string check = dir.write("check", "#!/bin/sh\necho \"rejecting $1\"; exit 3\n");
  fs::permissions(check, fs::perms::owner_all);
  std::string marker = dir.file("reloaded");
  auto r = render(server.v3_url(),
                  {"--template", templ, "--dest", dest, "--keys", "/services/web", "--check-cmd",
                   check + " {{.src}}", "--reload-cmd", "touch " + marker});
  require_one_line_error(r, 1, "check_cmd");
  CHECK(contains(r.err, "exit 3"));
  CHECK(contains(r.err, "rejecting " + dir.path() + "/.list.txt.herald-"));
  CHECK(state_of(dest) == before);
  CHECK_FALSE(fs::exists(marker));
  CHECK(names_in(dir.path()) == std::set<std::string>{"check", "list.tmpl", "list.txt"});
}

TEST_CASE("render --noop prints a unified diff and touches nothing") {
  EtcdServer server;
  TempDir dir;
  std::string templ = dir.write("list.tmpl", k_list_template);
  std::string dest = dir.write("list.txt", "web@1 10.0.0.1:80\nweb@9 10.0.0.9:80\n");
  FileState before = state_of(dest);
  put(server, Api::v3, "/services/web/web/web@1", "10.0.0.1:80");
  put(server, Api::v3, "/services/web/web/web@2", "10.0.0.2:80");
  std::string marker = dir.file("reloaded");
  auto r = render(server.v3_url(), {"--template", templ, "--dest", dest, "--keys", "/services/web",
                                    "--reload-cmd", "touch " + marker, "--noop"});
  INFO("stderr: " << r.err);
  CHECK(r.status == 0);
  CHECK(contains(r.out, "--- " + dest));
  CHECK(contains(r.out, "+++ " + dest));
  CHECK(contains(r.out, "@@ "));
  CHECK(contains(r.out, "\n web@1 10.0.0.1:80\n"));
  CHECK(contains(r.out, "\n-web@9 10.0.0.9:80\n"));
  CHECK(contains(r.out, "\n+web@2 10.0.0.2:80\n"));
  CHECK(state_of(dest) == before);
  CHECK_FALSE(fs::exists(marker));
  CHECK(names_in(dir.path()) == std::set<std::string>{"list.tmpl", "list.txt"});
}

TEST_CASE("render --stdout exits 1 when stdout cannot be written") {
  EtcdServer server;
  TempDir dir;
  std::string templ = dir.write("list.tmpl", k_list_template);
  put(server, Api::v3, "/services/web/web/web@1", "10.0.0.1:80");
  auto r =
      run({"sh", "-c", "exec \"$0\" \"$@\" > /dev/full", herald_bin(), "--registry",
           server.v3_url(), "render", "--template", templ, "--keys", "/services/web", "--stdout"},
          clean_env(), 60s);
  CHECK(r.status == 1);
  CHECK(contains(r.err, "herald: render: cannot write the output: No space left on device"));
}

TEST_CASE("render says so when the keys are in the other etcd keyspace") {
  EtcdServer server;
  for (Api written : {Api::v2, Api::v3}) {
    CAPTURE(name_of(written));
    TempDir dir;
    std::string templ = dir.write("list.tmpl", k_list_template);
    std::string dest = dir.write("list.txt", "web@1 10.0.0.1:80\n");
    FileState before = state_of(dest);
    std::string app = written == Api::v2 ? "v2only" : "v3only";
    put(server, written, "/services/" + app + "/web/web@1", "10.0.0.1:80");
    Api read = written == Api::v2 ? Api::v3 : Api::v2;
    auto r = render(url_of(server, read),
                    {"--template", templ, "--dest", dest, "--keys", "/services/" + app});
    require_one_line_error(r, 78, "/services/" + app);
    CHECK(contains(r.err, std::string("but ") + name_of(written) + " has 1"));
    CHECK(contains(r.err, "--registry " + url_of(server, written)));
    CHECK(state_of(dest) == before);
  }
}

TEST_CASE("render rejects bad input with one line, its exit code and dest untouched") {
  EtcdServer server;
  put(server, Api::v3, "/services/web/web/web@1", "10.0.0.1:80");
  TempDir dir;
  std::string dest = dir.write("out/list.txt", "the config that works\n");
  FileState before = state_of(dest);
  std::string good = dir.write("good.tmpl", k_list_template);
  auto render_with = [&](const std::string& templ, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--template", templ, "--dest", dest, "--keys", "/services/web"};
    args.insert(args.end(), extra.begin(), extra.end());
    return render(server.v3_url(), args);
  };

  SUBCASE("a template syntax error names file:line:col") {
    std::string templ = dir.write("syntax.tmpl", "line one\n{{range gets \"/services/web/*\"}}\n"
                                                 "  {{.Value}\n{{end}}\n");
    require_one_line_error(render_with(templ), 65, "syntax.tmpl:3:");
  }
  SUBCASE("an unknown function is named with its position") {
    std::string templ = dir.write("unknown.tmpl", "{{getvv \"/services/web/web/web@1\"}}\n");
    auto r = render_with(templ);
    require_one_line_error(r, 65, "unknown.tmpl:1:");
    CHECK(contains(r.err, "\"getvv\" not defined"));
  }
  SUBCASE("a missing key without a default names the key") {
    std::string templ = dir.write("missing.tmpl", "ok\n{{getv \"/services/web/web/web@7\"}}\n");
    auto r = render_with(templ);
    require_one_line_error(r, 65, "/services/web/web/web@7");
    CHECK(contains(r.err, "missing.tmpl:2:"));
  }
  SUBCASE("TOML that does not parse names file:line:col") {
    dir.write("confd/templates/list.tmpl", k_list_template);
    std::string toml =
        dir.write("confd/conf.d/list.toml", "[template]\nsrc = \"list.tmpl\"\ndest = \"" + dest +
                                                "\"\nkeys = [\"/services/web\"\n");
    auto r = render(server.v3_url(), {"--confdir", dir.file("confd")});
    require_one_line_error(r, 65, toml + ":");
  }
  SUBCASE("a dest directory that does not exist is a configuration error") {
    auto r = render(server.v3_url(), {"--template", good, "--dest", dir.file("nowhere/list.txt"),
                                      "--keys", "/services/web"});
    require_one_line_error(r, 78, dir.file("nowhere"));
    CHECK_FALSE(fs::exists(dir.file("nowhere")));
  }
  SUBCASE("a check command that is not executable is a configuration error") {
    std::string script = dir.write("not-executable", "#!/bin/sh\nexit 0\n");
    fs::permissions(script, fs::perms::owner_read | fs::perms::owner_write);
    auto r = render_with(good, {"--check-cmd", script + " {{.src}}"});
    require_one_line_error(r, 78, "not-executable");
    r = render_with(good, {"--check-cmd", "no-such-program-herald {{.src}}"});
    require_one_line_error(r, 78, "no-such-program-herald");
  }
  SUBCASE("a template that is a FIFO or a device is refused without blocking") {
    // Before the fix a FIFO blocked open() forever and /dev/zero grew herald by 100 MB/s.
    std::string fifo = dir.file("fifo.tmpl");
    REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
    require_one_line_error(render_with(fifo), 78, fifo + " is a FIFO");
    require_one_line_error(render_with("/dev/zero"), 78, "/dev/zero is a character device");
  }
  SUBCASE("a dest that is a link to a device is refused and left alone") {
    std::string link = dir.file("out/null.conf");
    REQUIRE(::symlink("/dev/null", link.c_str()) == 0);
    auto r =
        render(server.v3_url(), {"--template", good, "--dest", link, "--keys", "/services/web"});
    require_one_line_error(r, 78, link + " is a symbolic link to /dev/null");
    CHECK(fs::is_symlink(link));
    fs::remove(link);
  }
  SUBCASE("a mode with the setuid bit is a usage error") {
    require_one_line_error(render_with(good, {"--mode", "4755"}), 2, "setuid");
  }
  SUBCASE("a render larger than --max-output fails as a template error") {
    std::string big = dir.write("big.tmpl", "{{range seq 1 100000}}0123456789{{end}}");
    auto r = render_with(big, {"--max-output", "512K"});
    require_one_line_error(r, 65, "output larger than 512 KiB");
    std::string huge = dir.write("huge.tmpl", "{{range seq 1 100000000}}x{{end}}");
    require_one_line_error(render_with(huge), 65, "error calling seq");
  }
  CHECK(state_of(dest) == before);
  CHECK(names_in(dir.file("out")) == std::set<std::string>{"list.txt"});
}

TEST_CASE("render --mode is octal as chmod reads it") {
  // Before the fix --mode 644 was read as decimal: mode 01204.
  EtcdServer server;
  put(server, Api::v3, "/services/web/web/web@1", "10.0.0.1:80");
  TempDir dir;
  std::string templ = dir.write("list.tmpl", k_list_template);
  std::string dest = dir.file("list.txt");
  auto r = render(server.v3_url(), {"--template", templ, "--dest", dest, "--keys", "/services/web",
                                    "--mode", "644"});
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 0);
  struct stat info {};
  REQUIRE(::stat(dest.c_str(), &info) == 0);
  CHECK((info.st_mode & 07777) == 0644);
}

TEST_CASE("SIGTERM during a one-shot render's check stops it, keeps dest and exits 130") {
  // Before the fix herald waited for the check, then installed, reloaded and exited 0.
  EtcdServer server;
  put(server, Api::v3, "/services/web/web/web@1", "10.0.0.1:80");
  TempDir dir;
  std::string templ = dir.write("list.tmpl", k_list_template);
  std::string dest = dir.write("list.txt", "the config that works\n");
  FileState before = state_of(dest);
  std::string started = dir.file("check-started");
  std::string check = dir.write("check", "#!/bin/sh\ntouch \"$1\"\nsleep 30\n");
  fs::permissions(check, fs::perms::owner_all);
  std::string marker = dir.file("reloaded");
  std::vector<std::string> argv{herald_bin(),    "--registry",
                                server.v3_url(), "render",
                                "--template",    templ,
                                "--dest",        dest,
                                "--keys",        "/services/web",
                                "--check-cmd",   check + " " + started,
                                "--reload-cmd",  "touch " + marker};
  Process herald(argv, clean_env());
  REQUIRE(eventually([&] { return fs::exists(started); }, 20s));
  auto sent = std::chrono::steady_clock::now();
  herald.signal(SIGTERM);
  auto status = herald.wait(15s);
  REQUIRE(status);
  CHECK(*status == 130);
  CHECK(std::chrono::steady_clock::now() - sent < 10s);
  INFO("stderr: " << herald.err());
  CHECK(contains(herald.err(), "stopped by SIGTERM"));
  CHECK(state_of(dest) == before);
  CHECK_FALSE(fs::exists(marker));
  CHECK(names_in(dir.path()) ==
        std::set<std::string>{"check", "check-started", "list.tmpl", "list.txt"});
}

TEST_CASE("render once exits 69 and leaves dest untouched when etcd is unreachable") {
  EtcdServer server;
  TempDir dir;
  std::string templ = dir.write("list.tmpl", k_list_template);
  std::string dest = dir.write("list.txt", "the config that works\n");
  FileState before = state_of(dest);
  server.stop();
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    auto r = render(url_of(server, api),
                    {"--template", templ, "--dest", dest, "--keys", "/services/web"});
    require_one_line_error(r, 69, "127.0.0.1:" + std::to_string(server.client_port()));
    CHECK(state_of(dest) == before);
  }
}

TEST_CASE("render --timeout is the time a user waits for a server that accepts and never answers") {
  Listener silent; // the kernel completes the handshake; nobody ever reads or writes
  TempDir dir;
  std::string templ = dir.write("list.tmpl", k_list_template);
  std::string dest = dir.write("list.txt", "the config that works\n");
  FileState before = state_of(dest);
  std::string address = "127.0.0.1:" + std::to_string(silent.port());
  // What starting herald costs here (an ASan build on a busy machine): a refused connection.
  Listener closed;
  closed.close();
  auto begin = std::chrono::steady_clock::now();
  render("etcd://127.0.0.1:" + std::to_string(closed.port()),
         {"--template", templ, "--dest", dest, "--keys", "/services/web"});
  auto startup = std::chrono::steady_clock::now() - begin;
  for (const std::string& url : {"etcd://" + address, "etcd2://" + address}) {
    CAPTURE(url);
    auto start = std::chrono::steady_clock::now();
    auto r = render(
        url, {"--template", templ, "--dest", dest, "--keys", "/services/web", "--timeout", "2s"});
    auto waited = std::chrono::steady_clock::now() - start;
    MESSAGE(url << ": --timeout 2s waited "
                << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count() << " ms");
    require_one_line_error(r, 69, "timed out after 2s");
    CHECK(waited >= 2s);
    CHECK(waited < 2s + startup + 1500ms); // not one timeout per attempt (gRPC, then gateway)
    CHECK(state_of(dest) == before);
  }
}

// --- the bundled templates (templates/ in the source tree, share/herald/templates installed) ---

namespace {

std::string bundled(const std::string& name) {
  return std::string(HERALD_SOURCE_DIR) + "/templates/" + name;
}

/// The instances the bundled-template cases render: app web with a plain and a JSON value, app
/// api with one instance, and the domain key.
void put_apps(const EtcdServer& server, Api api, const Backend& web1, const Backend& web2,
              const Backend& api1) {
  auto colon = web2.address().find(':');
  put(server, api, "/services/web/web/web@1", web1.address());
  put(server, api, "/services/web/web/web@2",
      R"({"host":")" + web2.address().substr(0, colon) + R"(","port":)" +
          web2.address().substr(colon + 1) + "}");
  put(server, api, "/services/web/api/api@1", api1.address());
  put(server, api, "/services/domain", "example.test");
}

} // namespace

TEST_CASE("bundled nginx-host.tmpl gives each app a virtual host nginx accepts and serves") {
  EtcdServer server;
  TempDir dir;
  Backend web1(dir, "web-1");
  Backend web2(dir, "web-2");
  Backend api1(dir, "api-1");
  Nginx nginx(dir);
  put_apps(server, Api::v3, web1, web2, api1);
  std::string dest = nginx.conf_d() + "/hosts.conf";
  std::map<std::string, std::string> env{
      {"HERALD_NGINX_LISTEN", "127.0.0.1:" + std::to_string(nginx.port())},
      {"HERALD_NGINX_BIN", find_program("nginx")}};
  auto r =
      render(server.v3_url(),
             {"--template", bundled("nginx-host.tmpl"), "--dest", dest, "--keys", "/services/web",
              "--keys", "/services/domain", "--check-cmd", bundled("nginx-check") + " {{.src}}"},
             env);
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 0);
  std::string conf = read_file(dest);
  INFO("rendered: " << conf);
  CHECK(nginx.test_fragment(dest).empty());
  CHECK(contains(conf, "server_name web.example.test;"));
  CHECK(contains(conf, "server_name api.example.test;"));
  CHECK(contains(conf, "server " + web2.address() + " "));
  CHECK(contains(conf, "proxy_next_upstream error timeout"));

  nginx.start();
  CHECK(eventually(
      [&] {
        return bodies_of(nginx, 6, "web.example.test") ==
               std::set<std::string>{"web-1\n", "web-2\n"};
      },
      10s));
  CHECK(bodies_of(nginx, 3, "api.example.test") == std::set<std::string>{"api-1\n"});

  // Without the domain key the domain comes from HERALD_DOMAIN.
  env["HERALD_DOMAIN"] = "env.test";
  r = render(server.v3_url(),
             {"--template", bundled("nginx-host.tmpl"), "--keys", "/services/web", "--stdout"},
             env);
  CHECK(r.status == 0);
  CHECK(contains(r.out, "server_name web.env.test;"));
}

TEST_CASE("bundled nginx-path.tmpl routes /APP/ to the app and other paths to the launcher") {
  EtcdServer server;
  TempDir dir;
  Backend web1(dir, "web-1");
  Backend web2(dir, "web-2");
  Backend api1(dir, "api-1");
  Backend launcher(dir, "launcher");
  for (const auto* b : {&web1, &web2, &api1}) {
    dir.write("www-" + b->name() + "/web/index.html", b->name() + " at /web/\n");
    dir.write("www-" + b->name() + "/api/index.html", b->name() + " at /api/\n");
  }
  dir.write("www-launcher/other/index.html", "launcher at /other/\n");
  Nginx nginx(dir);
  put_apps(server, Api::v2, web1, web2, api1);
  std::string dest = nginx.conf_d() + "/paths.conf";
  std::map<std::string, std::string> env{
      {"HERALD_NGINX_LISTEN", "127.0.0.1:" + std::to_string(nginx.port())},
      {"HERALD_LAUNCHER", launcher.address()},
      {"HERALD_NGINX_BIN", find_program("nginx")}};
  auto r = render(server.v2_url(),
                  {"--template", bundled("nginx-path.tmpl"), "--dest", dest, "--keys",
                   "/services/web", "--check-cmd", bundled("nginx-check") + " {{.src}}"},
                  env);
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 0);
  std::string conf = read_file(dest);
  INFO("rendered: " << conf);
  CHECK(nginx.test_fragment(dest).empty());
  CHECK(contains(conf, "location /web/ {"));
  CHECK(contains(conf, "location /api/ {"));

  nginx.start();
  CHECK(eventually(
      [&] {
        return bodies_of(nginx, 6, "127.0.0.1", "/web/") ==
               std::set<std::string>{"web-1 at /web/\n", "web-2 at /web/\n"};
      },
      10s));
  CHECK(bodies_of(nginx, 2, "127.0.0.1", "/api/") == std::set<std::string>{"api-1 at /api/\n"});
  CHECK(bodies_of(nginx, 2, "127.0.0.1", "/other/") ==
        std::set<std::string>{"launcher at /other/\n"});
}

TEST_CASE("bundled haproxy.tmpl gives each app a health-checked backend haproxy accepts") {
  std::string haproxy = find_program("haproxy");
  if (haproxy.empty()) {
    skip("haproxy is not installed (Debian package haproxy)");
  }
  EtcdServer server;
  TempDir dir;
  Backend web1(dir, "web-1");
  Backend web2(dir, "web-2");
  Backend api1(dir, "api-1");
  put_apps(server, Api::v3, web1, web2, api1);
  int port = free_port();
  std::string dest = dir.file("haproxy.cfg");
  std::string socket = dir.file("admin.sock");
  auto r = render(server.v3_url(),
                  {"--template", bundled("haproxy.tmpl"), "--dest", dest, "--keys", "/services/web",
                   "--keys", "/services/domain", "--check-cmd", haproxy + " -c -q -f {{.src}}"},
                  {{"HERALD_HAPROXY_BIND", "127.0.0.1:" + std::to_string(port)},
                   {"HERALD_HAPROXY_SOCKET", socket}});
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 0);
  std::string conf = read_file(dest);
  INFO("rendered: " << conf);
  auto checked = run({haproxy, "-c", "-f", dest});
  INFO("haproxy -c: " << checked.out << checked.err);
  CHECK(checked.status == 0);
  CHECK(contains(conf, "backend web\n"));
  CHECK(contains(conf, "backend api\n"));
  CHECK(contains(conf, "option httpchk GET /"));
  CHECK(contains(conf, "server web-1 " + web1.address() + " check"));
  CHECK(contains(conf, "server web-2 " + web2.address() + " check"));
  CHECK(contains(conf, "    stats socket " + socket + " mode 600 level admin\n"));

  // Served for real: by Host and by path, round robin over the checked servers.
  Process proxy({haproxy, "-db", "-f", dest});
  REQUIRE(eventually([&] { return port_open(port); }, 10s));
  CHECK(eventually(
      [&] {
        std::set<std::string> seen;
        for (int i = 0; i < 6; ++i) {
          seen.insert(Nginx::http_get(port, "web.example.test", "/"));
        }
        return seen == std::set<std::string>{"web-1\n", "web-2\n"};
      },
      10s));
  CHECK(Nginx::http_get(port, "api.example.test:" + std::to_string(port), "/") == "api-1\n");
}

TEST_CASE("bundled confd resources load with --confdir") {
  EtcdServer server;
  TempDir dir;
  fs::create_directories(dir.file("confd/templates"));
  fs::create_directories(dir.file("confd/conf.d"));
  for (std::string name : {"nginx-host", "nginx-path", "haproxy"}) {
    fs::copy_file(bundled(name + ".tmpl"), dir.file("confd/templates/" + name + ".tmpl"));
    fs::copy_file(bundled(name + ".toml"), dir.file("confd/conf.d/" + name + ".toml"));
  }
  put(server, Api::v3, "/services/web/web/web@1", "127.0.0.1:8001");
  // --stdout installs nothing, so the /etc destinations named in the examples stay untouched.
  auto r = render(server.v3_url(), {"--confdir", dir.file("confd"), "--stdout"});
  INFO("stderr: " << r.err);
  CHECK(r.status == 0);
  CHECK(contains(r.out, "server_name web.localhost;"));
  CHECK(contains(r.out, "location /web/ {"));
  CHECK(contains(r.out, "backend web\n"));
}

namespace {

/// How many times `needle` occurs in `text`.
std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

/// The flags of a haproxy.tmpl resource reading /services/web and /services/domain.
std::vector<std::string> haproxy_resource(const Haproxy& haproxy, const std::string& dest) {
  return {"--template",  bundled("haproxy.tmpl"), "--dest", dest,
          "--keys",      "/services/web",         "--keys", "/services/domain",
          "--check-cmd", haproxy.check_cmd()};
}

/// Renders `dest` once (no reload: haproxy is not running yet) and starts haproxy on it.
void render_and_start(const EtcdServer& server, Haproxy& haproxy, const std::string& dest) {
  auto r = render(server.v3_url(), haproxy_resource(haproxy, dest), haproxy.env());
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 0);
  haproxy.start(dest);
}

/// Watches with the runtime API on and reload_cmd counting reloads; `socket` overrides the one
/// haproxy listens on.
std::unique_ptr<Process> watch_haproxy(const EtcdServer& server, const Haproxy& haproxy,
                                       const std::string& dest, const std::string& socket = "") {
  auto args = haproxy_resource(haproxy, dest);
  args.insert(args.end(), {"--reload-cmd", haproxy.reload_cmd(), "--haproxy-socket",
                           socket.empty() ? haproxy.socket() : socket});
  return render_watch(server.v3_url(), args, haproxy.env());
}

} // namespace

TEST_CASE("haproxy runtime: instances added and removed through the stats socket, no reload, a "
          "new app reloads") {
  EtcdServer server;
  TempDir dir;
  Haproxy haproxy(dir);
  Backend web1(dir, "web-1");
  Backend web2(dir, "web-2");
  Backend web3(dir, "web-3");
  Backend api1(dir, "api-1");
  put(server, Api::v3, "/services/domain", "example.test");
  put(server, Api::v3, "/services/web/web/web@1", web1.address());
  put(server, Api::v3, "/services/web/web/web@2", web2.address());
  std::string dest = dir.file("haproxy.cfg");
  render_and_start(server, haproxy, dest);
  const std::set<std::string> both{"web-1\n", "web-2\n"};
  REQUIRE(eventually([&] { return haproxy.bodies(6, "web.example.test") == both; }, 10s));
  long pid = haproxy.worker_pid();
  REQUIRE(pid > 0);

  auto herald = watch_haproxy(server, haproxy, dest);
  INFO("herald: " << herald->err());
  // The first render finds dest as it is: nothing to do.
  REQUIRE(eventually([&] { return contains(herald->err(), "watching"); }, 10s));

  // A new instance: added, health-checked and served with the same worker, and no reload.
  put(server, Api::v3, "/services/web/web/web@3", web3.address());
  REQUIRE(eventually(
      [&] { return contains(herald->err(), "haproxy runtime: web +1 servers, no reload"); }, 15s));
  CHECK(contains(read_file(dest), "server web-3 " + web3.address() + " check\n"));
  CHECK(haproxy.servers("web") == std::set<std::string>{"web-1", "web-2", "web-3"});
  const std::set<std::string> three{"web-1\n", "web-2\n", "web-3\n"};
  CHECK(eventually([&] { return haproxy.bodies(9, "web.example.test") == three; }, 10s));
  CHECK(eventually([&] { return haproxy.check_status("web", "web-3") == "L7OK"; }, 10s));
  CHECK(haproxy.worker_pid() == pid);
  CHECK(haproxy.reloads() == 0);

  // An instance gone: drained, deleted, no longer served; still the same worker, no reload.
  del(server, Api::v3, "/services/web/web/web@1");
  REQUIRE(eventually(
      [&] { return contains(herald->err(), "haproxy runtime: web -1 servers, no reload"); }, 15s));
  CHECK(contains(herald->err(), "and applied through haproxy's runtime API (2 reloads avoided)"));
  CHECK_FALSE(contains(read_file(dest), "server web-1 "));
  CHECK(haproxy.servers("web") == std::set<std::string>{"web-2", "web-3"});
  CHECK(haproxy.bodies(6, "web.example.test") == std::set<std::string>{"web-2\n", "web-3\n"});
  CHECK(haproxy.worker_pid() == pid);
  CHECK(haproxy.reloads() == 0);

  // A new app is a new backend: the runtime API cannot make one, so reload_cmd runs.
  put(server, Api::v3, "/services/web/api/api@1", api1.address());
  REQUIRE(eventually(
      [&] {
        return contains(herald->err(), "haproxy runtime: backend api is new; running reload_cmd");
      },
      15s));
  CHECK(eventually([&] { return haproxy.reloads() == 1; }, 10s));
  CHECK(eventually(
      [&] { return haproxy.bodies(2, "api.example.test") == std::set<std::string>{"api-1\n"}; },
      10s));
  CHECK(eventually([&] { return haproxy.worker_pid() != pid && haproxy.worker_pid() != 0; }, 10s));

  // The new worker takes runtime changes as well.
  put(server, Api::v3, "/services/web/web/web@1", web1.address());
  CHECK(eventually(
      [&] { return occurrences(herald->err(), "haproxy runtime: web +1 servers, no reload") == 2; },
      15s));
  CHECK(eventually([&] { return haproxy.bodies(9, "web.example.test") == three; }, 10s));
  CHECK(haproxy.reloads() == 1);
  CHECK(stop_watch(*herald) == 0);
}

TEST_CASE("haproxy runtime: a server named by DNS, or a socket that cannot be reached, falls back "
          "to reload_cmd") {
  EtcdServer server;
  TempDir dir;
  Haproxy haproxy(dir);
  Backend web1(dir, "web-1");
  Backend web2(dir, "web-2");
  Backend web3(dir, "web-3");
  put(server, Api::v3, "/services/domain", "example.test");
  put(server, Api::v3, "/services/web/web/web@1", web1.address());
  std::string dest = dir.file("haproxy.cfg");
  render_and_start(server, haproxy, dest);
  REQUIRE(eventually(
      [&] { return haproxy.bodies(2, "web.example.test") == std::set<std::string>{"web-1\n"}; },
      10s));

  {
    auto herald = watch_haproxy(server, haproxy, dest);
    INFO("herald: " << herald->err());
    // `add server` resolves no name: the server would have no address until the next reload.
    std::string by_name = "localhost:" + web2.address().substr(web2.address().find(':') + 1);
    put(server, Api::v3, "/services/web/web/web@2", by_name);
    REQUIRE(eventually(
        [&] {
          return contains(herald->err(), "haproxy runtime: server web/web-2: address \"" + by_name +
                                             "\" is not an IP literal");
        },
        15s));
    CHECK(eventually([&] { return haproxy.reloads() == 1; }, 10s));
    // Served by the new worker (localhost may resolve to ::1 first, where nothing answers:
    // only the server itself is checked).
    CHECK(eventually(
        [&] {
          return haproxy.servers("web") == std::set<std::string>{"web-1", "web-2"};
        },
        10s));
    CHECK(stop_watch(*herald) == 0);
  }

  // haproxy cannot be reached on the socket given: a warning, and the reload.
  auto herald = watch_haproxy(server, haproxy, dest, dir.file("missing.sock"));
  INFO("herald: " << herald->err());
  put(server, Api::v3, "/services/web/web/web@3", web3.address());
  REQUIRE(eventually(
      [&] {
        return contains(herald->err(), "haproxy runtime: web +1 (haproxy stats socket " +
                                           dir.file("missing.sock") + ": cannot connect");
      },
      15s));
  CHECK(contains(herald->err(), "; running reload_cmd"));
  CHECK(eventually([&] { return haproxy.reloads() == 2; }, 10s));
  CHECK(eventually(
      [&] {
        return haproxy.bodies(9, "web.example.test") ==
               std::set<std::string>{"web-1\n", "web-2\n", "web-3\n"};
      },
      10s));
  CHECK(stop_watch(*herald) == 0);
}
