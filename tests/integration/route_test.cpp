#include "support/consul_double.hpp"
#include "support/etcd_server.hpp"
#include "support/listener.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

using namespace herald::test;
using namespace std::chrono_literals;
using nlohmann::json;

// `herald route ls` against real etcd (v3 and v2 keyspaces), checked against the JSON schema
// documented in man/herald-route.scd.

namespace {

enum class Api { v3, v2 };

const char* name_of(Api api) {
  return api == Api::v3 ? "etcd v3" : "etcd v2";
}

/// Nothing inherited that would point herald elsewhere or change its log lines.
std::map<std::string, std::string> clean_env() {
  return {{"HERALD_REGISTRY", ""}, {"ETCDCTL_ENDPOINTS", ""},     {"CONSUL_HTTP_ADDR", ""},
          {"JOURNAL_STREAM", ""},  {"HERALD_LOG_FORMAT", "text"}, {"HERALD_LOG_LEVEL", "info"}};
}

RunResult route_ls(const std::string& url, std::vector<std::string> args) {
  std::vector<std::string> argv{herald_bin(), "--registry", url, "route", "ls"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, clean_env(), 30s);
}

/// An etcd with instances in the chosen keyspace: web@1 (hostport, with a TTL), web@2 (the JSON
/// form with tags and meta), web@10, api@1 (malformed), and db in the single-key layout.
struct Loaded {
  EtcdServer server;
  Api api;
  std::string url;

  explicit Loaded(Api which) : api(which) {
    url = api == Api::v3 ? server.v3_url() : server.v2_url();
    put("/services/web/web/web@2",
        R"({"host":"10.0.0.2","port":3000,"tags":["blue","v2"],"meta":{"zone":"a"}})");
    put("/services/web/web/web@10", "10.0.0.10:3000");
    put("/services/web/api/api@1", "not-an-address");
    put("/services/clusters/db", "10.0.0.5:5432");
    put_with_ttl("/services/web/web/web@1", "10.0.0.1:3000", 300);
  }

  void put(const std::string& key, const std::string& value) {
    if (api == Api::v3) {
      server.etcdctl({"put", key, value});
    } else {
      server.etcdctl2({"set", key, value});
    }
  }

  void put_with_ttl(const std::string& key, const std::string& value, int ttl) {
    if (api == Api::v2) {
      server.etcdctl2({"set", "--ttl", std::to_string(ttl), key, value});
      return;
    }
    // "lease 694d7b0f3b1c2a05 granted with TTL(300s)"
    std::istringstream granted(server.etcdctl({"lease", "grant", std::to_string(ttl)}));
    std::string word;
    std::string id;
    granted >> word >> id;
    REQUIRE(word == "lease");
    server.etcdctl({"put", "--lease=" + id, key, value});
  }
};

/// Checks one instance object against herald-route(1): every documented field, its type, and
/// nothing else.
void check_instance_schema(const json& i) {
  INFO("instance: " << i.dump());
  REQUIRE(i.is_object());
  CHECK(i.size() == 15);
  CHECK(i["app"].is_string());
  CHECK(i["instance"].is_string());
  CHECK(i["name"].is_string());
  CHECK(i["key"].is_string());
  CHECK(i["value"].is_string());
  CHECK(i["valid"].is_boolean());
  if (i["valid"].get<bool>()) {
    CHECK(i["address"].is_string());
    CHECK(i["host"].is_string());
    CHECK(i["port"].is_number_integer());
    CHECK(i["address"].get<std::string>().ends_with(":" + std::to_string(i["port"].get<int>())));
    CHECK(i["problem"].is_null());
  } else {
    CHECK(i["problem"].is_string());
    CHECK(i["address"].is_null());
    CHECK(i["host"].is_null());
    CHECK(i["port"].is_null());
  }
  CHECK(i["health"].is_string());
  std::string health = i["health"].is_string() ? i["health"].get<std::string>() : "";
  CHECK(
      (health == "passing" || health == "warning" || health == "critical" || health == "unknown"));
  CHECK((i["ttl_left"].is_null() || i["ttl_left"].is_number_integer()));
  REQUIRE(i["tags"].is_array());
  for (const auto& tag : i["tags"]) {
    CHECK(tag.is_string());
  }
  REQUIRE(i["meta"].is_object());
  for (const auto& [name, value] : i["meta"].items()) {
    CHECK(value.is_string());
  }
  CHECK(i["node"].is_string());
  std::string expected_name =
      i["instance"] == "" ? i["app"].get<std::string>()
                          : i["app"].get<std::string>() + "@" + i["instance"].get<std::string>();
  CHECK(i["name"] == expected_name);
}

/// Checks the whole document: {"schema", "backend", "instances", "malformed"}.
void check_document_schema(const json& doc, const std::string& backend) {
  REQUIRE(doc.is_object());
  CHECK(doc.size() == 4);
  CHECK(doc["schema"] == 1);
  CHECK(doc["backend"] == backend);
  REQUIRE(doc["instances"].is_array());
  CHECK(doc["malformed"].is_number_unsigned());
  std::size_t invalid = 0;
  for (const auto& i : doc["instances"]) {
    check_instance_schema(i);
    invalid += i["valid"] == false ? 1 : 0;
  }
  CHECK(doc["malformed"] == invalid);
}

const json* find_instance(const json& doc, const std::string& name) {
  for (const auto& i : doc["instances"]) {
    if (i["name"] == name) {
      return &i;
    }
  }
  return nullptr;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

/// Where each column starts: after a run of at least two spaces.
std::vector<std::size_t> column_starts(const std::string& line) {
  std::vector<std::size_t> starts{0};
  for (std::size_t i = 2; i < line.size(); ++i) {
    if (line[i] != ' ' && line[i - 1] == ' ' && line[i - 2] == ' ') {
      starts.push_back(i);
    }
  }
  return starts;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

/// Registers APP@INSTANCE in the Consul double as herald announce would: a service with a TTL
/// check, passing or (never passed) critical.
void consul_register(const ConsulDouble& consul, const std::string& app, int instance,
                     bool passing) {
  std::string id = app + "@" + std::to_string(instance);
  json service{{"ID", id},
               {"Name", app},
               {"Address", "10.1.0." + std::to_string(instance)},
               {"Port", 8000 + instance},
               {"Tags", json::array({"blue"})},
               {"Meta", {{"zone", "a"}}},
               {"Check", {{"CheckID", "service:" + id}, {"TTL", "60s"}}}};
  REQUIRE(http_request(consul.port(), "PUT", "/v1/agent/service/register", service.dump()).status ==
          200);
  if (passing) {
    REQUIRE(http_request(consul.port(), "PUT", "/v1/agent/check/pass/service:" + id).status == 200);
  }
}

} // namespace

TEST_SUITE_BEGIN("integration");

TEST_CASE("route ls -o json follows the documented schema on etcd v3 and v2") {
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    Loaded etcd(api);
    auto r = route_ls(etcd.url, {"-o", "json"});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    json doc = json::parse(r.out);
    check_document_schema(doc, api == Api::v3 ? "etcd3" : "etcd2");
    REQUIRE(doc["instances"].size() == 4); // /services/clusters is not under the default prefix
    std::vector<std::string> order;
    for (const auto& i : doc["instances"]) {
      order.push_back(i["name"]);
    }
    CHECK(order == std::vector<std::string>{"api@1", "web@1", "web@2", "web@10"});

    const json* web1 = find_instance(doc, "web@1");
    REQUIRE(web1 != nullptr);
    CHECK((*web1)["key"] == "/services/web/web/web@1");
    CHECK((*web1)["address"] == "10.0.0.1:3000");
    CHECK((*web1)["host"] == "10.0.0.1");
    CHECK((*web1)["port"] == 3000);
    CHECK((*web1)["health"] == "passing");
    REQUIRE((*web1)["ttl_left"].is_number_integer());
    CHECK((*web1)["ttl_left"].get<int>() > 200);
    CHECK((*web1)["ttl_left"].get<int>() <= 300);

    const json* web2 = find_instance(doc, "web@2");
    REQUIRE(web2 != nullptr);
    CHECK((*web2)["address"] == "10.0.0.2:3000");
    CHECK((*web2)["tags"] == json::array({"blue", "v2"}));
    CHECK((*web2)["meta"] == json{{"zone", "a"}});
    CHECK((*web2)["ttl_left"].is_null());
    CHECK((*web2)["value"].get<std::string>().front() == '{');
  }
}

TEST_CASE("route ls shows a malformed value flagged and counts it on stderr") {
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    Loaded etcd(api);
    auto r = route_ls(etcd.url, {});
    CHECK(r.status == 0);
    CHECK(r.out.find("!not-an-address") != std::string::npos);
    CHECK(r.err.find("1 instance with a malformed value") != std::string::npos);
    CHECK(r.err.find("/services/web/api/api@1") != std::string::npos);
    auto j = route_ls(etcd.url, {"-o", "json", "api"});
    CHECK(j.status == 0);
    json doc = json::parse(j.out);
    CHECK(doc["malformed"] == 1);
    CHECK(doc["instances"][0]["valid"] == false);
    CHECK(doc["instances"][0]["value"] == "not-an-address");
  }
}

TEST_CASE("route ls prints aligned columns and --no-legend leaves out the header") {
  Loaded etcd(Api::v3);
  auto r = route_ls(etcd.url, {});
  REQUIRE(r.status == 0);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0].rfind("APP", 0) == 0);
  auto header = column_starts(lines[0]);
  REQUIRE(header.size() == 6);
  const char* titles[] = {"APP", "INSTANCE", "ADDRESS", "HEALTH", "TTL", "TAGS"};
  for (std::size_t c = 0; c < header.size(); ++c) {
    CHECK(lines[0].compare(header[c], std::string(titles[c]).size(), titles[c]) == 0);
  }
  for (std::size_t l = 1; l < lines.size(); ++l) {
    auto starts = column_starts(lines[l]);
    REQUIRE(starts.size() == header.size());
    CHECK(starts == header);
  }
  CHECK(lines[1].rfind("api", 0) == 0);
  CHECK(lines[2].find("10.0.0.1:3000") == header[2]);
  CHECK(lines[3].find("blue,v2") == header[5]);
  CHECK(lines[4].find("10.0.0.10:3000") == header[2]);

  auto bare = route_ls(etcd.url, {"--no-legend"});
  CHECK(bare.status == 0);
  auto bare_lines = lines_of(bare.out);
  REQUIRE(bare_lines.size() == 4);
  CHECK(bare_lines[0].rfind("api", 0) == 0);
  CHECK(bare.out.find("APP") == std::string::npos);
}

TEST_CASE("route ls --fields picks and orders columns, and -o simple separates them by tabs") {
  Loaded etcd(Api::v3);
  auto r = route_ls(etcd.url, {"web", "--fields", "address,app,key"});
  REQUIRE(r.status == 0);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "ADDRESS          APP   KEY");
  CHECK(lines[1] == "10.0.0.1:3000    web   /services/web/web/web@1");

  auto simple = route_ls(etcd.url, {"-o", "simple", "--fields", "app,instance,address"});
  REQUIRE(simple.status == 0);
  CHECK(simple.out == "api\t1\t!not-an-address\n"
                      "web\t1\t10.0.0.1:3000\n"
                      "web\t2\t10.0.0.2:3000\n"
                      "web\t10\t10.0.0.10:3000\n");
}

TEST_CASE("route ls --fields with an unknown field exits 2 naming the nearest valid one") {
  // Checked before the registry is opened: no server needed.
  std::string url = "etcd://127.0.0.1:" + std::to_string(free_port());
  auto r = route_ls(url, {"--fields", "app,adress"});
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("herald: route ls: unknown field 'adress' in --fields; did you mean "
                   "'address'?") == 0);
  CHECK(r.err.find("app, instance, address, health, ttl, tags, key, node, meta") !=
        std::string::npos);
  auto json_fields = route_ls(url, {"-o", "json", "--fields", "app"});
  CHECK(json_fields.status == 2);
}

TEST_CASE("route ls exits 1 when stdout cannot be written") {
  Loaded etcd(Api::v3);
  for (std::string format : {"table", "json", "yaml"}) {
    CAPTURE(format);
    auto r = run({"sh", "-c", "exec \"$0\" \"$@\" > /dev/full", herald_bin(), "--registry",
                  etcd.url, "route", "ls", "-o", format},
                 clean_env(), 30s);
    CHECK(r.status == 1);
    CHECK(r.err.find("herald: route ls: cannot write the output: No space left on device") !=
          std::string::npos);
  }
}

TEST_CASE("route ls APP lists only that app and an unknown APP exits 1 with a suggestion") {
  Loaded etcd(Api::v3);
  auto r = route_ls(etcd.url, {"web", "-o", "json"});
  CHECK(r.status == 0);
  json doc = json::parse(r.out);
  REQUIRE(doc["instances"].size() == 3);
  for (const auto& i : doc["instances"]) {
    CHECK(i["app"] == "web");
  }
  auto missing = route_ls(etcd.url, {"web", "wbe"});
  CHECK(missing.status == 1);
  CHECK(missing.out.find("10.0.0.1:3000") != std::string::npos); // the rows found are printed
  CHECK(missing.err.find("no instance of 'wbe'") != std::string::npos);
  CHECK(missing.err.find("did you mean 'web'?") != std::string::npos);
}

TEST_CASE("route ls --all on etcd lists the same instances all passing") {
  Loaded etcd(Api::v2);
  auto plain = route_ls(etcd.url, {"-o", "json"});
  auto all = route_ls(etcd.url, {"-o", "json", "--all"});
  CHECK(plain.status == 0);
  CHECK(all.status == 0);
  json a = json::parse(plain.out);
  json b = json::parse(all.out);
  REQUIRE(a["instances"].size() == b["instances"].size());
  for (std::size_t i = 0; i < a["instances"].size(); ++i) {
    CHECK(a["instances"][i]["key"] == b["instances"][i]["key"]);
    CHECK(b["instances"][i]["health"] == "passing");
  }
}

TEST_CASE("route ls --prefix reads the single-key layout /services/clusters/APP") {
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    Loaded etcd(api);
    auto r = route_ls(etcd.url, {"--prefix", "/services/clusters", "-o", "json"});
    CHECK(r.status == 0);
    json doc = json::parse(r.out);
    check_document_schema(doc, api == Api::v3 ? "etcd3" : "etcd2");
    REQUIRE(doc["instances"].size() == 1);
    CHECK(doc["instances"][0]["name"] == "db");
    CHECK(doc["instances"][0]["instance"] == "");
    CHECK(doc["instances"][0]["address"] == "10.0.0.5:5432");
    auto table = route_ls(etcd.url, {"--prefix", "/services/clusters", "--no-legend"});
    CHECK(table.out.rfind("db   -   10.0.0.5:5432", 0) == 0);
  }
}

TEST_CASE("route ls -o yaml prints the same document as YAML") {
  Loaded etcd(Api::v3);
  auto r = route_ls(etcd.url, {"-o", "yaml", "web"});
  CHECK(r.status == 0);
  CHECK(r.out.rfind("schema: 1\nbackend: \"etcd3\"\ninstances:\n", 0) == 0);
  CHECK(r.out.find("instance: \"10\"") != std::string::npos);
  CHECK(r.out.find("port: 3000") != std::string::npos);
  CHECK(r.out.find("malformed: 0") != std::string::npos);
}

TEST_CASE("route ls on an empty registry prints the header only and exits 0") {
  EtcdServer server;
  auto r = route_ls(server.v3_url(), {});
  CHECK(r.status == 0);
  REQUIRE(lines_of(r.out).size() == 1);
  CHECK(r.out.rfind("APP", 0) == 0);
  auto j = route_ls(server.v3_url(), {"-o", "json"});
  CHECK(j.status == 0);
  CHECK(json::parse(j.out)["instances"] == json::array());
}

TEST_CASE("route ls explains an empty v3 listing when the v2 keyspace holds the keys") {
  EtcdServer server;
  server.etcdctl2({"set", "/services/web/web/web@1", "10.0.0.1:80"});
  auto r = route_ls(server.v3_url(), {});
  CHECK(r.status == 0);
  CHECK(r.err.find("etcd2://") != std::string::npos);
}

TEST_CASE("route ls exits 69 when the registry cannot be reached and 2 on a bad flag") {
  int port = free_port();
  auto r = route_ls("etcd://127.0.0.1:" + std::to_string(port), {});
  CHECK(r.status == 69);
  CHECK(r.err.find("herald: route ls:") == 0);
  CHECK(r.out.empty());
  auto bad = route_ls("etcd://127.0.0.1:" + std::to_string(port), {"-o", "xml"});
  CHECK(bad.status == 2);
  CHECK(bad.err.find("'xml'") != std::string::npos);
  auto bad_app = route_ls("etcd://127.0.0.1:" + std::to_string(port), {"web/1"});
  CHECK(bad_app.status == 2);
}

TEST_CASE("route ls --watch prints a second table after a change and exits 0 on SIGTERM") {
  for (Api api : {Api::v3, Api::v2}) {
    CAPTURE(name_of(api));
    Loaded etcd(api);
    Process watch({herald_bin(), "--registry", etcd.url, "route", "ls", "--watch", "web"},
                  clean_env());
    REQUIRE(
        eventually([&] { return watch.out().find("10.0.0.10:3000") != std::string::npos; }, 10s));
    CHECK(watch.out().find("---") == std::string::npos);
    etcd.put("/services/web/web/web@3", "10.0.0.3:3000");
    REQUIRE(
        eventually([&] { return watch.out().find("10.0.0.3:3000") != std::string::npos; }, 10s));
    std::string out = watch.out();
    CHECK(count_of(out, "---\n") == 1);
    CHECK(count_of(out, "APP ") == 2);
    CHECK(out.find("10.0.0.3:3000") > out.find("---\n"));
    watch.signal(SIGTERM);
    CHECK(watch.wait(10s) == 0);
  }
}

TEST_CASE("route ls --watch -o json prints one document per line") {
  Loaded etcd(Api::v3);
  Process watch({herald_bin(), "--registry", etcd.url, "route", "ls", "-w", "-o", "json"},
                clean_env());
  REQUIRE(eventually([&] { return count_of(watch.out(), "\n") == 1; }, 10s));
  etcd.put("/services/web/api/api@1", "10.0.0.4:9000"); // the malformed one is fixed
  REQUIRE(eventually([&] { return count_of(watch.out(), "\n") == 2; }, 10s));
  auto lines = lines_of(watch.out());
  REQUIRE(lines.size() == 2);
  json first = json::parse(lines[0]);
  json second = json::parse(lines[1]);
  check_document_schema(first, "etcd3");
  check_document_schema(second, "etcd3");
  CHECK(first["malformed"] == 1);
  CHECK(second["malformed"] == 0);
  CHECK((*find_instance(second, "api@1"))["address"] == "10.0.0.4:9000");
  watch.signal(SIGINT);
  CHECK(watch.wait(10s) == 0);
}

TEST_CASE("route ls -o json follows the documented schema on Consul") {
  ConsulDouble consul;
  consul_register(consul, "web", 1, true);
  consul_register(consul, "web", 2, false);
  consul_register(consul, "api", 1, true);
  auto r = route_ls(consul.url(), {"-o", "json"});
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 0);
  json doc = json::parse(r.out);
  check_document_schema(doc, "consul");
  REQUIRE(doc["instances"].size() == 2); // web@2 is critical: not routable
  const json* web1 = find_instance(doc, "web@1");
  REQUIRE(web1 != nullptr);
  CHECK((*web1)["key"] == "web@1");
  CHECK((*web1)["address"] == "10.1.0.1:8001");
  CHECK((*web1)["port"] == 8001);
  CHECK((*web1)["health"] == "passing");
  CHECK((*web1)["tags"] == json::array({"blue"}));
  CHECK((*web1)["meta"] == json{{"zone", "a"}});
  CHECK((*web1)["node"].get<std::string>() != "");
  CHECK(find_instance(doc, "api@1") != nullptr);
}

TEST_CASE("route ls --all on Consul adds critical instances with their health") {
  ConsulDouble consul;
  consul_register(consul, "web", 1, true);
  consul_register(consul, "web", 2, false);
  auto r = route_ls(consul.url(), {"--all", "-o", "json", "web"});
  REQUIRE(r.status == 0);
  json doc = json::parse(r.out);
  check_document_schema(doc, "consul");
  REQUIRE(doc["instances"].size() == 2);
  CHECK((*find_instance(doc, "web@2"))["health"] == "critical");
  auto table = route_ls(consul.url(), {"--all", "--no-legend"});
  REQUIRE(lines_of(table.out).size() == 2);
  CHECK(lines_of(table.out)[1].find("critical") != std::string::npos);
}

TEST_CASE("route ls on Consul names an app with critical instances only and exits 1") {
  ConsulDouble consul;
  consul_register(consul, "web", 1, false);
  auto r = route_ls(consul.url(), {"web"});
  CHECK(r.status == 1);
  CHECK(r.err.find("no instance of 'web'") != std::string::npos);
  CHECK(r.err.find("--all") != std::string::npos);
}

TEST_CASE("route ls waits --timeout in all for a server that accepts and never answers") {
  Listener silent; // the kernel completes the handshake; nobody ever reads or writes
  std::string address = "127.0.0.1:" + std::to_string(silent.port());
  // What starting herald costs here (an ASan build on a busy machine): a refused connection.
  Listener closed;
  closed.close();
  auto begin = std::chrono::steady_clock::now();
  route_ls("etcd://127.0.0.1:" + std::to_string(closed.port()), {});
  auto startup = std::chrono::steady_clock::now() - begin;
  for (const std::string& url :
       {"etcd://" + address, "etcd2://" + address, "consul://" + address}) {
    for (const char* timeout : {"", "2s"}) {
      CAPTURE(url);
      CAPTURE(timeout);
      std::vector<std::string> args;
      if (*timeout != '\0') {
        args = {"--timeout", timeout};
      }
      auto start = std::chrono::steady_clock::now();
      auto r = route_ls(url, args);
      auto waited = std::chrono::steady_clock::now() - start;
      auto expected = *timeout != '\0' ? 2s : 5s; // 5s: the default --timeout
      MESSAGE(url << " --timeout " << (*timeout != '\0' ? timeout : "(default 5s)") << ": waited "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()
                  << " ms");
      CHECK(r.status == 69);
      CHECK(r.err.find(std::string("timed out after ") + (*timeout != '\0' ? "2s" : "5s")) !=
            std::string::npos);
      CHECK(waited >= expected);
      CHECK(waited < expected + startup + 1500ms); // not one timeout per attempt
      CHECK(r.out.empty());
    }
  }
}

TEST_SUITE_END();
