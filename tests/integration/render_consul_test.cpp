#include "support/consul_double.hpp"
#include "support/etcd_server.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace herald::test;
using namespace std::chrono_literals;

// `herald render` with consul-template's functions, end to end: the built binary against the
// Consul double (services registered through its agent API, keys through its KV API) and a real
// etcd, and the bundled haproxy-consul.tmpl checked by a real `haproxy -c`.

namespace {

std::map<std::string, std::string> clean_env(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> env{
      {"HERALD_REGISTRY", ""},       {"ETCDCTL_ENDPOINTS", ""},   {"CONSUL_HTTP_ADDR", ""},
      {"CONSUL_HTTP_TOKEN", ""},     {"NOTIFY_SOCKET", ""},       {"JOURNAL_STREAM", ""},
      {"HERALD_LOG_FORMAT", "text"}, {"HERALD_LOG_LEVEL", "info"}};
  for (auto& [k, v] : extra) {
    env[k] = v;
  }
  return env;
}

RunResult render(const std::string& url, std::vector<std::string> args,
                 std::map<std::string, std::string> env = {}) {
  std::vector<std::string> argv{herald_bin(), "--registry", url, "render"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, clean_env(std::move(env)), 60s);
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

/// Registers a service with a passing TTL check on the double's agent.
void register_service(const ConsulDouble& consul, const std::string& name, const std::string& id,
                      int port, const std::string& tags_json = "[]") {
  std::string body = R"({"ID":")" + id + R"(","Name":")" + name +
                     R"(","Address":"127.0.0.1","Port":)" + std::to_string(port) + R"(,"Tags":)" +
                     tags_json + R"(,"Check":{"CheckID":"service:)" + id + R"(","TTL":"300s"}})";
  auto reply = http_request(consul.port(), "PUT", "/v1/agent/service/register", body);
  REQUIRE_MESSAGE(reply.status == 200, reply.body);
  auto pass = http_request(consul.port(), "PUT", "/v1/agent/check/pass/service:" + id);
  REQUIRE_MESSAGE(pass.status == 200, pass.body);
}

void kv_put(const ConsulDouble& consul, const std::string& key, const std::string& value) {
  auto reply = http_request(consul.port(), "PUT", "/v1/kv/" + key, value);
  REQUIRE_MESSAGE(reply.status == 200, reply.body);
}

/// Skips the test when this build has no Consul backend yet.
void require_consul_backend(const ConsulDouble& consul) {
  auto r = render(consul.url(), {"--template", "/dev/null", "--stdout", "--keys", "/none"});
  if (contains(r.err, "unknown") || contains(r.err, "not supported") ||
      contains(r.err, "not built")) {
    skip("consul:// does not open in this build: " + r.err);
  }
}

constexpr const char* k_template = R"({{range services}}{{.Name}}:{{range service .Name}} )"
                                   R"({{.ID}}={{.Address}}:{{.Port}}{{end}}
{{end}}maxconn={{keyOrDefault "service/haproxy/maxconn" "100"}}
{{range tree "service/haproxy"}}{{.Key}}={{.Value}};{{end}}
)";

std::string bundled(const std::string& name) {
  return std::string(HERALD_SOURCE_DIR) + "/templates/" + name;
}

} // namespace

TEST_SUITE_BEGIN("integration");

TEST_CASE("render on consul reads services and keys with consul-template's functions") {
  ConsulDouble consul;
  require_consul_backend(consul);
  TempDir dir;
  dir.write("t.ctmpl", k_template);
  register_service(consul, "web", "web@2", 8002);
  register_service(consul, "web", "web@1", 8001);
  register_service(consul, "api", "api@1", 9001);
  kv_put(consul, "service/haproxy/maxconn", "2048");
  kv_put(consul, "service/haproxy/timeouts/connect", "5s");
  auto r = render(consul.url(),
                  {"--template", dir.file("t.ctmpl"), "--stdout", "--keys", "/service/haproxy"});
  INFO("stderr: " << r.err << "\ndouble: " << consul.log());
  REQUIRE(r.status == 0);
  CHECK(r.out == "api: api@1=127.0.0.1:9001\n"
                 "web: web@1=127.0.0.1:8001 web@2=127.0.0.1:8002\n"
                 "maxconn=2048\n"
                 "maxconn=2048;timeouts/connect=5s;\n");
}

TEST_CASE("render on consul fails with exit 65 on a missing key and names it") {
  ConsulDouble consul;
  require_consul_backend(consul);
  TempDir dir;
  dir.write("t.ctmpl", R"({{key "service/haproxy/absent"}})");
  auto r = render(consul.url(),
                  {"--template", dir.file("t.ctmpl"), "--stdout", "--keys", "/service/haproxy"});
  CHECK(r.status == 65);
  CHECK(contains(r.err, "key \"service/haproxy/absent\" does not exist"));
}

TEST_CASE("render --watch on consul picks up a new service and a key change") {
  ConsulDouble consul;
  require_consul_backend(consul);
  TempDir dir;
  dir.write("t.ctmpl", k_template);
  register_service(consul, "web", "web@1", 8001);
  kv_put(consul, "service/haproxy/maxconn", "2048");
  std::string dest = dir.file("out.txt");
  Process herald({herald_bin(), "--registry", consul.url(), "render", "--watch", "--wait",
                  "100ms:1s", "--template", dir.file("t.ctmpl"), "--dest", dest, "--keys",
                  "/service/haproxy"},
                 clean_env());
  INFO("herald stderr: " << herald.err());
  REQUIRE(eventually([&] { return contains(read_file(dest), "web: web@1=127.0.0.1:8001"); }, 10s));

  register_service(consul, "web", "web@2", 8002);
  CHECK(eventually([&] { return contains(read_file(dest), "web@2=127.0.0.1:8002"); }, 10s));
  register_service(consul, "db", "db@1", 5432);
  CHECK(eventually([&] { return contains(read_file(dest), "db: db@1=127.0.0.1:5432"); }, 10s));

  kv_put(consul, "service/haproxy/maxconn", "4096");
  CHECK(eventually([&] { return contains(read_file(dest), "maxconn=4096\n"); }, 10s));

  auto deregistered = http_request(consul.port(), "PUT", "/v1/agent/service/deregister/web@1");
  REQUIRE(deregistered.status == 200);
  CHECK(eventually([&] { return !contains(read_file(dest), "web@1"); }, 10s));

  herald.signal(SIGTERM);
  CHECK(herald.wait(10s) == 0);
}

TEST_CASE("render --watch on etcd re-renders service functions when an instance appears") {
  EtcdServer server;
  TempDir dir;
  dir.write("t.ctmpl", R"({{range service "web"}}{{.ID}}={{.Address}}:{{.Port}} {{end}})"
                       "\n");
  server.etcdctl({"put", "/services/web/web/web@1", "10.0.0.1:80"});
  std::string dest = dir.file("out.txt");
  Process herald({herald_bin(), "--registry", server.v3_url(), "render", "--watch", "--template",
                  dir.file("t.ctmpl"), "--dest", dest, "--keys", "/config"},
                 clean_env());
  INFO("herald stderr: " << herald.err());
  REQUIRE(eventually([&] { return read_file(dest) == "web@1=10.0.0.1:80 \n"; }, 10s));
  server.etcdctl({"put", "/services/web/web/web@2", "10.0.0.2:80"});
  CHECK(
      eventually([&] { return read_file(dest) == "web@1=10.0.0.1:80 web@2=10.0.0.2:80 \n"; }, 10s));
  herald.signal(SIGTERM);
  CHECK(herald.wait(10s) == 0);
}

TEST_CASE("bundled haproxy-consul.tmpl gives each service a backend haproxy accepts") {
  std::string haproxy = find_program("haproxy");
  if (haproxy.empty()) {
    skip("haproxy is not installed (Debian package haproxy)");
  }
  EtcdServer server;
  TempDir dir;
  server.etcdctl({"put", "/services/web/web/web@1",
                  R"({"host":"127.0.0.1","port":8001,"tags":["server_alias=www.example.test",)"
                  R"("httpchk=/health"]})"});
  server.etcdctl({"put", "/services/web/web/web@2", R"({"host":"127.0.0.1","port":8002})"});
  server.etcdctl({"put", "/services/web/api/api@1",
                  R"({"host":"127.0.0.1","port":9001,"tags":["balance=leastconn"]})"});
  server.etcdctl({"put", "/service/haproxy/maxconn", "512"});
  server.etcdctl({"put", "/service/haproxy/domain", "example.test"});
  std::string dest = dir.file("haproxy.cfg");
  auto r = render(server.v3_url(),
                  {"--template", bundled("haproxy-consul.tmpl"), "--dest", dest, "--keys",
                   "/service/haproxy", "--check-cmd", haproxy + " -c -q -f {{.src}}"},
                  {{"HERALD_HAPROXY_BIND", "127.0.0.1:" + std::to_string(free_port())}});
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 0);
  std::string conf = read_file(dest);
  INFO("rendered: " << conf);
  auto checked = run({haproxy, "-c", "-f", dest});
  INFO("haproxy -c: " << checked.out << checked.err);
  CHECK(checked.status == 0);
  CHECK(contains(conf, "maxconn 512\n"));
  CHECK(contains(conf, "acl host_web req.hdr(host),field(1,:) -m str -i web.example.test\n"));
  CHECK(contains(conf, "acl host_web req.hdr(host),field(1,:) -m str -i www.example.test\n"));
  CHECK(contains(conf, "use_backend api if host_api\n"));
  CHECK(contains(conf, "backend web\n    balance roundrobin\n    option httpchk GET /health\n"));
  CHECK(contains(conf, "backend api\n    balance leastconn\n    default-server"));
  CHECK(contains(conf, "    server web-1 127.0.0.1:8001 check\n"
                       "    server web-2 127.0.0.1:8002 check\n"));
}

TEST_CASE("bundled haproxy-consul.tmpl renders from consul and haproxy accepts it") {
  std::string haproxy = find_program("haproxy");
  if (haproxy.empty()) {
    skip("haproxy is not installed (Debian package haproxy)");
  }
  ConsulDouble consul;
  require_consul_backend(consul);
  TempDir dir;
  register_service(consul, "web", "web@1", 8001, R"(["server_alias=www.example.test"])");
  register_service(consul, "api", "api@1", 9001);
  std::string dest = dir.file("haproxy.cfg");
  auto r = render(consul.url(),
                  {"--template", bundled("haproxy-consul.tmpl"), "--dest", dest, "--keys",
                   "/service/haproxy", "--check-cmd", haproxy + " -c -q -f {{.src}}"},
                  {{"HERALD_HAPROXY_BIND", "127.0.0.1:" + std::to_string(free_port())}});
  INFO("stderr: " << r.err << "\ndouble: " << consul.log());
  REQUIRE(r.status == 0);
  std::string conf = read_file(dest);
  INFO("rendered: " << conf);
  CHECK(run({haproxy, "-c", "-f", dest}).status == 0);
  CHECK(contains(conf, "acl host_web req.hdr(host),field(1,:) -m str -i www.example.test\n"));
  CHECK(contains(conf, "server web-1 127.0.0.1:8001 check\n"));
  CHECK(contains(conf, "server api-1 127.0.0.1:9001 check\n"));
}
