// The safe instance functions the bundled templates read (render/route_funcs.hpp).

#include "herald/render/route_funcs.hpp"
#include "herald/tmpl/funcs_confd.hpp"

#include <doctest/doctest.h>
#include <memory>
#include <string>

using namespace herald;

namespace {

std::string render_with(const std::shared_ptr<tmpl::KvStore>& store, const std::string& text,
                        std::shared_ptr<render::RouteReads> reads = nullptr) {
  tmpl::FuncMap funcs = tmpl::confd_funcs(store);
  render::add_route_funcs(funcs, store, std::move(reads));
  std::string out;
  tmpl::Template::parse("t", text, std::move(funcs)).execute(out, tmpl::Value(), {});
  return out;
}

} // namespace

TEST_SUITE_BEGIN("render");

TEST_CASE("routes gives apps and their valid instances only, in order") {
  auto store = std::make_shared<tmpl::KvStore>();
  store->set("/services/web/web/web@2", R"({"host":"fe80::1","port":81,"tags":["a=b"]})");
  store->set("/services/web/web/web@1", "10.0.0.1:80");
  store->set("/services/web/web/web@3", "10.0.0.3:80;}server{return 200 pwned;}");
  store->set("/services/web/api/api@1", "{\"host\":\"10.0.0.4\\r\",\"port\":80}");
  store->set("/services/web/x;y/x;y@1", "10.0.0.5:80");
  store->set("/services/web/db", "10.0.0.6:5432");
  store->set("/services/domain", "example.com");
  auto reads = std::make_shared<render::RouteReads>();
  std::string out = render_with(store,
                                "{{range routes \"/services/web\"}}{{.Name}}:{{range .Instances}} "
                                "{{.ID}}={{.Address}}{{range .Tags}}[{{.}}]{{end}}{{end}};{{end}}",
                                reads);
  CHECK(out == "db: db=10.0.0.6:5432;web: web@1=10.0.0.1:80 web@2=[fe80::1]:81[a=b];");
  CHECK(reads->called);
}

TEST_CASE("safeGetv gives a plain token or the default") {
  auto store = std::make_shared<tmpl::KvStore>();
  store->set("/services/domain", "example.com");
  store->set("/service/haproxy/maxconn", "4096\nfrontend evil");
  store->set("/bad", "x.com;}server{");
  CHECK(render_with(store, R"({{safeGetv "/services/domain" "d"}})") == "example.com");
  CHECK(render_with(store, R"({{safeGetv "service/haproxy/maxconn" "100"}})") == "100");
  CHECK(render_with(store, R"({{safeGetv "/bad" "d"}})") == "d");
  CHECK(render_with(store, R"({{safeGetv "/missing" "d"}})") == "d");
  // confd's getv keeps returning the raw bytes.
  CHECK(render_with(store, R"({{getv "/bad"}})") == "x.com;}server{");
}
