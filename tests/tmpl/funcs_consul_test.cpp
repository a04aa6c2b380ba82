// consul-template's Consul functions, read from the memory registry through the same views the
// render loop uses (render::KeyView for keys, render::ServiceView for instances).

#include "herald/registry/backends.hpp"
#include "herald/render/key_view.hpp"
#include "herald/render/service_view.hpp"
#include "herald/tmpl/funcs_confd.hpp"
#include "herald/tmpl/funcs_consul.hpp"

#include <doctest/doctest.h>
#include <memory>
#include <string>

using namespace herald;
using namespace herald::tmpl;

namespace {

/// A memory registry with KV data and instances, and a way to render a template over it.
struct Fixture {
  std::unique_ptr<registry::Registry> reg = registry::make_memory_registry();

  Fixture() {
    reg->put("/service/haproxy/maxconn", "4096");
    reg->put("/service/haproxy/timeouts/connect", "5s");
    reg->put("/service/haproxy/timeouts/server", "30s");
    reg->put("/service/haproxy-extra", "not below service/haproxy");
    reg->put("/service/empty", "");
    instance("web", "2",
             R"({"host":"10.0.0.2","port":8080,"tags":["http","server_alias=www","blue"]})");
    instance("web", "1", R"({"host":"10.0.0.1","port":8080,"tags":["http"],"meta":{"v":"3"}})");
    instance("api", "1", "10.0.1.1:9000");
  }

  void instance(const std::string& app, const std::string& i, const std::string& value) {
    reg->put("/services/web/" + app + "/" + app + "@" + i, value);
  }

  std::string render(const std::string& text) {
    render::KeyView keys("/", {"/"});
    keys.load(reg->list("/"));
    auto services = std::make_shared<render::ServiceView>();
    FuncMap funcs = confd_funcs(keys.store());
    add_consul_funcs(funcs, text, keys.store(), services);
    if (services->wanted()) {
      services->load(*reg);
    }
    try {
      return Template::parse("t.ctmpl", text, funcs).execute(Value());
    } catch (const TemplateError& e) {
      return std::string("ERROR: ") + e.what();
    }
  }
};

/// Instances given as data, for what the memory backend cannot hold (nodes, failing checks).
class ListedServices final : public ServiceSource {
public:
  explicit ListedServices(std::vector<ServiceInstance> all) : m_all(std::move(all)) {}
  const std::vector<ServiceInstance>& service_instances() const override { return m_all; }
  void subscribe() override {}

private:
  std::vector<ServiceInstance> m_all;
};

ServiceInstance on_node(std::string id, std::string node, std::string status) {
  ServiceInstance s;
  s.id = std::move(id);
  s.name = "db";
  s.address = "10.0.2.1";
  s.port = 5432;
  s.node = std::move(node);
  s.status = std::move(status);
  return s;
}

std::string render_listed(const std::string& text) {
  auto source = std::make_shared<ListedServices>(std::vector<ServiceInstance>{
      on_node("db3", "n2", "passing"), on_node("db2", "n1", "warning"),
      on_node("db1", "n2", "critical"), on_node("db0", "n1", "passing")});
  FuncMap funcs = consul_funcs(std::make_shared<KvStore>(), source, true);
  try {
    return Template::parse("t.ctmpl", text, funcs).execute(Value());
  } catch (const TemplateError& e) {
    return std::string("ERROR: ") + e.what();
  }
}

} // namespace

TEST_SUITE_BEGIN("tmpl");

TEST_CASE("service lists the healthy instances of a service with their fields") {
  Fixture f;
  CHECK(f.render(R"({{range service "web"}}{{.ID}} {{.Name}} {{.Address}}:{{.Port}} {{.Tags}} )"
                 R"({{.Meta.v}}|{{end}})") ==
        "web@1 web 10.0.0.1:8080 [http] 3|web@2 web 10.0.0.2:8080 [blue http server_alias=www] "
        "<no value>|");
  CHECK(f.render(R"({{range service "api"}}{{.ID}}={{.Address}}:{{.Port}} node="{{.Node}}")"
                 R"({{end}})") == R"(api@1=10.0.1.1:9000 node="")");
  CHECK(f.render(R"({{len (service "nope")}} {{len (service "")}})") == "0 0");
}

TEST_CASE("service TAG.NAME keeps the instances carrying the tag") {
  Fixture f;
  CHECK(f.render(R"({{range service "blue.web"}}{{.ID}} {{end}})") == "web@2 ");
  // consul-template's query syntax has no room for '=' in a tag.
  CHECK(f.render(R"({{service "server_alias=www.web"}})")
            .ends_with("invalid health service dependency format: \"server_alias=www.web\""));
  CHECK(f.render(R"({{range service "http.web"}}{{.ID}} {{end}})") == "web@1 web@2 ");
  CHECK(f.render(R"({{len (service "grpc.web")}})") == "0");
}

TEST_CASE("service sorts by node then ID and filters by status as consul-template does") {
  CHECK(render_listed(R"({{range service "db"}}{{.Node}}/{{.ID}} {{end}})") == "n1/db0 n2/db3 ");
  CHECK(render_listed(R"({{range service "db" "any"}}{{.Node}}/{{.ID}}/{{.Status}} {{end}})") ==
        "n1/db0/passing n1/db2/warning n2/db1/critical n2/db3/passing ");
  CHECK(render_listed(R"({{range service "db" "passing, warning"}}{{.ID}} {{end}})") ==
        "db0 db2 db3 ");
  CHECK(render_listed(R"({{service "db" "any,passing"}})") ==
        "ERROR: template: t.ctmpl:1:2: executing \"t.ctmpl\" at <service \"db\" \"any,passing\">: "
        "error calling service: service filter: cannot specify extra keys when using \"any\"");
  CHECK(render_listed(R"({{service "db" "healthy"}})") ==
        "ERROR: template: t.ctmpl:1:2: executing \"t.ctmpl\" at <service \"db\" \"healthy\">: "
        "error calling service: service filter: invalid filter \"healthy\"");
  CHECK(render_listed(R"({{service "db" "any" "x"}})") ==
        "ERROR: template: t.ctmpl:1:2: executing \"t.ctmpl\" at <service \"db\" \"any\" \"x\">: "
        "error calling service: expected 1 or 2 arguments, got 3");
  CHECK(render_listed(R"({{service "db!"}})")
            .find("invalid health service dependency format: \"db!\"") != std::string::npos);
  CHECK(render_listed(R"({{service "db@dc2"}})").find("local datacenter only") !=
        std::string::npos);
}

TEST_CASE("services lists every service sorted by name with its merged, sorted tags") {
  Fixture f;
  CHECK(f.render(R"({{range services}}{{.Name}}:{{.Tags}} {{end}})") ==
        "api:[] web:[blue http server_alias=www] ");
  CHECK(f.render(R"({{range services}}{{.Name}}={{range service .Name}}{{.Port}},{{end}} )"
                 R"({{end}})") == "api=9000, web=8080,8080, ");
}

TEST_CASE("key reads a value and fails on a missing key where keyOrDefault falls back") {
  Fixture f;
  CHECK(f.render(R"({{key "service/haproxy/maxconn"}} {{key "/service/haproxy/maxconn"}})") ==
        "4096 4096");
  CHECK(f.render(R"({{key "service/haproxy/nope"}})") ==
        "ERROR: template: t.ctmpl:1:2: executing \"t.ctmpl\" at <key \"service/haproxy/nope\">: "
        "error calling key: key \"service/haproxy/nope\" does not exist (consul-template waits "
        "for it; herald renders once it exists; keyOrDefault gives a default)");
  CHECK(f.render(R"({{keyOrDefault "service/haproxy/nope" "2000"}})") == "2000");
  CHECK(f.render(R"({{keyOrDefault "service/empty" "dflt"}})") == "dflt");
  CHECK(f.render(R"({{keyOrDefault "service/haproxy/maxconn" "1"}})") == "4096");
  CHECK(f.render(R"({{keyExists "service/empty"}} {{keyExists "service/nope"}})") == "true false");
}

TEST_CASE("ls returns the direct children that are keys and tree every key below") {
  Fixture f;
  CHECK(f.render(R"({{range ls "service/haproxy"}}{{.Key}}={{.Value}} {{end}})") ==
        "maxconn=4096 ");
  CHECK(f.render(R"({{range tree "service/haproxy/"}}{{.Key}}={{.Value}} {{end}})") ==
        "maxconn=4096 timeouts/connect=5s timeouts/server=30s ");
  CHECK(f.render(R"({{range tree "service/haproxy"}}{{.Path}} {{end}}{{len (tree "x")}})") ==
        "service/haproxy/maxconn service/haproxy/timeouts/connect "
        "service/haproxy/timeouts/server 0");
  CHECK(f.render(R"({{range service "web"}}{{end}}{{range ls "service/haproxy/timeouts"}})"
                 R"({{.Key}} {{end}})") == "connect server ");
}

TEST_CASE("a confd template keeps confd's ls and contains next to the Consul functions") {
  Fixture f;
  CHECK(f.render(R"({{ls "/service/haproxy"}} {{contains "abc" "b"}})") ==
        "[maxconn timeouts] true");
  // consul-template's contains takes the value, then the list (`.Tags | contains "http"`).
  CHECK(f.render(R"({{range service "web"}}{{if .Tags | contains "server_alias=www"}}{{.ID}})"
                 R"({{end}}{{end}})") == "web@2");
  CHECK(uses_consul_template(R"({{range tree "a"}}{{end}})"));
  CHECK_FALSE(uses_consul_template(R"({{range ls "/a"}}{{"service"}}{{.key}}{{end}})"));
  CHECK(uses_service_functions(R"({{range services}}{{end}})"));
  CHECK_FALSE(uses_service_functions(R"({{key "a"}})"));
}
