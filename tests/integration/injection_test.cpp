#include "herald/core/base64.hpp"
#include "support/consul_double.hpp"
#include "support/etcd_server.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <doctest/doctest.h>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace herald::test;
using namespace std::chrono_literals;

// The injection corpus (tests/fixtures/injection/payloads.txt) against the trust model: announce
// refuses every payload, and raw writes of every payload (as a value, a JSON host, a tag, a meta
// value, a key part, a setting) to etcd v3, etcd v2 and the Consul double never reach a config
// rendered from a bundled template, while the one good instance still does and real `nginx -t` /
// `haproxy -c` accept the result.

namespace {

/// C escapes of the fixture: \n \r \t \0 \\ \xHH.
std::string unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out.push_back(text[i]);
      continue;
    }
    char c = text[++i];
    switch (c) {
    case 'n':
      out.push_back('\n');
      break;
    case 'r':
      out.push_back('\r');
      break;
    case 't':
      out.push_back('\t');
      break;
    case '0':
      out.push_back('\0');
      break;
    case 'x':
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
      break;
    default:
      out.push_back(c);
      break;
    }
  }
  return out;
}

/// The corpus, unescaped.
std::vector<std::string> payloads() {
  std::vector<std::string> out;
  std::string text = read_fixture("injection/payloads.txt");
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    if (line.empty() || line.starts_with("## ")) {
      continue;
    }
    if (line.starts_with("@repeat ")) {
      auto a = line.find(' ', 8);
      auto b = line.find(' ', a + 1);
      int n = std::stoi(line.substr(8, a - 8));
      std::string unit = unescape(line.substr(a + 1, b - a - 1));
      std::string repeated;
      for (int i = 0; i < n; ++i) {
        repeated += unit;
      }
      out.push_back(repeated + unescape(line.substr(b + 1)));
      continue;
    }
    out.push_back(unescape(line));
  }
  return out;
}

/// A payload hostile in ASCII terms: a control byte, config syntax or its size.
bool ascii_hostile(const std::string& p) {
  if (p.size() > 512) {
    return true;
  }
  for (char c : p) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || std::string_view(";{}#\"'`$\\").find(c) != std::string::npos) {
      return true;
    }
  }
  return false;
}

/// What makes a payload hostile: the above, or a non-ASCII byte (look-alikes, invisible
/// characters, invalid UTF-8).
bool hostile(const std::string& p) {
  return ascii_hostile(p) || std::any_of(p.begin(), p.end(), [](char c) {
           return static_cast<unsigned char>(c) >= 0x80;
         });
}

/// `text` as a JSON string literal, bytes >= 0x80 kept as they are (invalid UTF-8 stays invalid).
std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string url_encode(const std::string& text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += c;
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", u);
      out += buf;
    }
  }
  return out;
}

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

std::string bundled(const std::string& name) {
  return std::string(HERALD_SOURCE_DIR) + "/templates/" + name;
}

/// Writes one key with any bytes in key and value.
using Writer = std::function<void(const std::string& key, const std::string& value)>;

/// Every payload as a value, a JSON host, a tag, a meta value and an app name, next to one good
/// instance (127.0.0.1:`port`) and settings the templates read; and as a launcher's address
/// (/services/launchers, where the router templates send unknown apps) beside a good launcher.
void write_corpus(const Writer& put, int port) {
  std::string good = "127.0.0.1:" + std::to_string(port);
  put("/services/web/good/good@1", good);
  put("/services/launchers/herald-launcher/herald-launcher@good", good);
  auto all = payloads();
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::string& p = all[i];
    std::string n = std::to_string(i);
    put("/services/web/bad/bad@v" + n, p);
    put("/services/web/good/good@v" + n, p); // beside the good one: it must keep rendering
    put("/services/web/bad/bad@h" + n, R"({"host":)" + json_string(p) + R"(,"port":80})");
    put("/services/launchers/herald-launcher/herald-launcher@v" + n, p);
    put("/services/launchers/herald-launcher/herald-launcher@h" + n,
        R"({"host":)" + json_string(p) + R"(,"port":80})");
    put("/services/web/good/good@t" + n, R"({"host":"127.0.0.1","port":)" + std::to_string(port) +
                                             R"(,"tags":[)" + json_string(p) + "]}");
    put("/services/web/good/good@m" + n, R"({"host":"127.0.0.1","port":)" + std::to_string(port) +
                                             R"(,"meta":{"k":)" + json_string(p) + "}}");
    if (p.size() < 200 && p.find('\0') == std::string::npos && p.find('/') == std::string::npos) {
      put("/services/web/" + p + "/x@1", good);
    }
  }
  put("/services/domain", all[0]);
  put("/service/haproxy/domain", all[1]);
  put("/service/haproxy/maxconn", "4096\nfrontend evil\n    bind *:1");
  put("/service/haproxy/timeouts/connect", all[2]);
}

/// The first byte of `text` that is a control byte (other than '\n') or DEL, -1 when none.
int first_control_byte(const std::string& text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n') || u == 0x7f) {
      return u;
    }
  }
  return -1;
}

/// Like first_control_byte, non-ASCII bytes included.
int first_unclean_byte(const std::string& text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n') || u >= 0x7f) {
      return u;
    }
  }
  return -1;
}

/// Asserts a rendered config: the good instance is in, no payload and no marker is.
void check_clean(const std::string& conf, const std::string& what, int port) {
  INFO(what << " rendered:\n" << conf);
  CHECK(conf.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(conf.find("pwned") == std::string::npos);
  CHECK(conf.find("evil") == std::string::npos);
  std::size_t leaked = 0;
  for (const auto& p : payloads()) {
    if (conf.find(p) != std::string::npos) {
      ++leaked;
    }
  }
  CHECK(leaked == 0);
  // Templates are ASCII: a control byte, DEL or a non-ASCII byte can only come from a value.
  CHECK(first_unclean_byte(conf) == -1);
}

/// Asserts herald's stderr: warnings name the skipped keys, escaped, one per line.
void check_log(const std::string& err) {
  INFO("stderr: " << err);
  CHECK(err.find("skipping") != std::string::npos);
  CHECK(first_control_byte(err) == -1);
}

struct Tools {
  std::string nginx = find_program("nginx");
  std::string haproxy = find_program("haproxy");
  Tools() {
    if (nginx.empty()) {
      skip("nginx is not installed (Debian package nginx-light)");
    }
    if (haproxy.empty()) {
      skip("haproxy is not installed (Debian package haproxy)");
    }
  }
};

/// Renders every bundled template from `url` into `dir` with its real check, and checks each.
void render_bundled(const std::string& url, const TempDir& dir, const Tools& tools, int port) {
  std::map<std::string, std::string> env{
      {"HERALD_NGINX_LISTEN", "127.0.0.1:" + std::to_string(free_port())},
      {"HERALD_NGINX_BIN", tools.nginx},
      {"HERALD_HAPROXY_BIND", "127.0.0.1:" + std::to_string(free_port())}};
  std::string nginx_check = bundled("nginx-check") + " {{.src}}";
  std::string haproxy_check = tools.haproxy + " -c -q -f {{.src}}";
  struct Case {
    std::string tmpl;
    std::vector<std::string> keys;
    std::string check;
  };
  std::vector<Case> cases{
      {"nginx-host.tmpl",
       {"/services/web", "/services/domain", "/services/launchers"},
       nginx_check},
      {"nginx-path.tmpl", {"/services/web", "/services/launchers"}, nginx_check},
      {"haproxy.tmpl", {"/services/web", "/services/domain", "/services/launchers"}, haproxy_check},
      {"haproxy-consul.tmpl", {"/service/haproxy"}, haproxy_check}};
  for (const auto& c : cases) {
    CAPTURE(c.tmpl);
    std::string dest = dir.file(c.tmpl + ".conf");
    std::vector<std::string> argv{herald_bin(),    "--registry", url,  "render",      "--template",
                                  bundled(c.tmpl), "--dest",     dest, "--check-cmd", c.check};
    for (const auto& k : c.keys) {
      argv.push_back("--keys");
      argv.push_back(k);
    }
    auto r = run(argv, clean_env(env), 60s);
    INFO("stderr: " << r.err);
    if (r.status != 0) {
      argv.push_back("--stdout");
      auto shown = run(argv, clean_env(env), 60s);
      std::string saved = dir.write(c.tmpl + ".rejected", shown.out);
      auto t = run({tools.haproxy, "-c", "-f", saved});
      INFO("rendered:\n" << shown.out << "\nhaproxy -c: " << t.out << t.err);
      REQUIRE(r.status == 0);
    }
    std::string conf = read_file(dest);
    check_clean(conf, c.tmpl, port);
    check_log(r.err);
    if (c.tmpl != "haproxy-consul.tmpl") {
      // The good launcher is the one unknown apps go to.
      CHECK(conf.find("herald-launchers") != std::string::npos);
    }
    // The real checks once more, outside herald.
    if (c.check == nginx_check) {
      auto t = run({bundled("nginx-check"), dest}, {{"HERALD_NGINX_BIN", tools.nginx}});
      INFO("nginx -t: " << t.out << t.err);
      CHECK(t.status == 0);
    } else {
      auto t = run({tools.haproxy, "-c", "-q", "-f", dest});
      INFO("haproxy -c: " << t.out << t.err);
      CHECK(t.status == 0);
    }
  }
}

} // namespace

TEST_CASE("the injection corpus has at least 50 hostile payloads") {
  auto all = payloads();
  CHECK(all.size() >= 50);
  for (const auto& p : all) {
    CAPTURE(p);
    CHECK(hostile(p));
  }
}

namespace {

/// Runs `herald announce` with every payload of the corpus in `flag` and checks each is refused
/// with exit 2 naming the flag. Some 60 runs of a sanitized binary, four at a time; the results
/// are checked on the test's thread.
void check_announce_refuses(const std::string& flag) {
  // Refused before the registry is opened: nothing answers at this URL.
  std::string url = "etcd://127.0.0.1:" + std::to_string(free_port());
  struct Attempt {
    std::string payload;
    std::vector<std::string> argv;
    RunResult result;
  };
  std::vector<Attempt> attempts;
  for (const auto& p : payloads()) {
    if (p.find('\0') != std::string::npos) {
      continue; // argv cannot hold NUL; the value decoder sees those (raw writes, below)
    }
    std::map<std::string, std::vector<std::string>> args{
        {"--addr", {"--addr", p}},
        {"--host", {"--host", p, "--port", "80"}},
        {"--tag", {"--addr", "127.0.0.1:80", "--tag", p}},
        {"--meta", {"--addr", "127.0.0.1:80", "--meta", "k=" + p}}};
    std::vector<std::string> argv{herald_bin(), "--registry", url, "announce", "web@1", "--once"};
    argv.insert(argv.end(), args.at(flag).begin(), args.at(flag).end());
    attempts.push_back({p, std::move(argv), {}});
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      for (std::size_t i = next++; i < attempts.size(); i = next++) {
        attempts[i].result = run(attempts[i].argv, clean_env(), 30s);
      }
    });
  }
  for (auto& worker : workers) {
    worker.join();
  }
  for (const Attempt& a : attempts) {
    const RunResult& r = a.result;
    CAPTURE(a.payload);
    INFO("stderr: " << r.err);
    // A meta value may hold UTF-8 text (never emitted into a config): a visible look-alike
    // without ASCII syntax passes; everything else is refused, naming the flag.
    if (flag == "--meta" && !ascii_hostile(a.payload) && r.status != 2) {
      continue;
    }
    CHECK(r.status == 2);
    CHECK(r.err.find(flag) != std::string::npos);
    CHECK(r.err.find("pwned\n") == std::string::npos);
  }
  CHECK(attempts.size() >= 50);
}

} // namespace

TEST_CASE("announce refuses every injection payload as --addr") {
  check_announce_refuses("--addr");
}

TEST_CASE("announce refuses every injection payload as --host") {
  check_announce_refuses("--host");
}

TEST_CASE("announce refuses every injection payload as --tag") {
  check_announce_refuses("--tag");
}

TEST_CASE("announce refuses every injection payload as --meta, but for UTF-8 text") {
  check_announce_refuses("--meta");
}

TEST_CASE("raw etcd v3 and v2 writes of the corpus never reach a bundled template's output") {
  Tools tools;
  EtcdServer server;
  TempDir dir;
  int port = free_port();
  write_corpus(
      [&](const std::string& key, const std::string& value) {
        std::string body = R"({"key":")" + herald::base64_encode(key) + R"(","value":")" +
                           herald::base64_encode(value) + R"("})";
        auto reply = http_request(server.client_port(), "POST", "/v3/kv/put", body);
        REQUIRE_MESSAGE(reply.status == 200, reply.body);
      },
      port);
  write_corpus(
      [&](const std::string& key, const std::string& value) {
        std::string path = "/v2/keys" + url_encode(key) + "?value=" + url_encode(value);
        if (path.size() > 60000) {
          server.etcdctl2({"set", "--", key, value}); // too long for a request line
          return;
        }
        auto reply = http_request(server.client_port(), "PUT", path);
        REQUIRE_MESSAGE((reply.status == 200 || reply.status == 201),
                        reply.status << " " << reply.body);
      },
      port);
  SUBCASE("etcd v3") {
    render_bundled(server.v3_url(), dir, tools, port);
  }
  SUBCASE("etcd v2") {
    render_bundled(server.v2_url(), dir, tools, port);
  }
  SUBCASE("route ls flags every hostile value and escapes what it prints") {
    auto r = run({herald_bin(), "--registry", server.v3_url(), "route", "ls", "-o", "json"},
                 clean_env(), 60s);
    REQUIRE(r.status == 0);
    auto doc = nlohmann::json::parse(r.out);
    std::size_t valid = 0;
    for (const auto& inst : doc["instances"]) {
      if (inst["valid"].get<bool>()) {
        ++valid;
        INFO("instance: " << inst.dump());
        // The good one, or "\n10.0.0.9:80" read as the address it is once trimmed.
        CHECK((inst["address"] == "127.0.0.1:" + std::to_string(port) ||
               inst["address"] == "10.0.0.9:80"));
      } else {
        CHECK(inst["problem"].is_string());
      }
    }
    CHECK(valid >= 3); // and the look-alikes in meta values, which no template emits
    CHECK(doc["malformed"].get<std::size_t>() >= payloads().size() * 4 - 2);
    auto table = run({herald_bin(), "--registry", server.v3_url(), "route", "ls", "-o", "wide"},
                     clean_env(), 60s);
    INFO("route ls: " << table.err);
    REQUIRE(table.status == 0);
    CHECK(first_control_byte(table.out) == -1);
  }
}

TEST_CASE("Consul services and KV holding the corpus never reach a bundled template's output") {
  Tools tools;
  ConsulDouble consul;
  TempDir dir;
  int port = free_port();
  std::size_t accepted = 0;
  auto register_service = [&](const std::string& id, const nlohmann::json& fields) {
    nlohmann::json body = fields;
    body["ID"] = id;
    body["Check"] = {{"CheckID", "service:" + id}, {"TTL", "300s"}};
    auto text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    auto reply = http_request(consul.port(), "PUT", "/v1/agent/service/register", text);
    if (reply.status == 400) {
      return; // Consul itself refuses it (a meta value over 512 characters): nothing to render
    }
    REQUIRE_MESSAGE(reply.status == 200, reply.body);
    auto pass = http_request(consul.port(), "PUT", "/v1/agent/check/pass/service:" + id);
    REQUIRE_MESSAGE(pass.status == 200, pass.body);
    ++accepted;
  };
  register_service("good@1", {{"Name", "good"}, {"Address", "127.0.0.1"}, {"Port", port}});
  auto all = payloads();
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::string n = std::to_string(i);
    register_service("bad@a" + n, {{"Name", "bad"}, {"Address", all[i]}, {"Port", 80}});
    register_service("good@t" + n, {{"Name", "good"},
                                    {"Address", "127.0.0.1"},
                                    {"Port", port},
                                    {"Tags", {"server_alias=" + all[i]}}});
    register_service(
        "good@m" + n,
        {{"Name", "good"}, {"Address", "127.0.0.1"}, {"Port", port}, {"Meta", {{"k", all[i]}}}});
  }
  CHECK(accepted >= 3 * all.size() - 10); // the double takes all but oversized meta values
  write_corpus(
      [&](const std::string& key, const std::string& value) {
        auto reply = http_request(consul.port(), "PUT", "/v1/kv" + url_encode(key), value);
        if (reply.status == 400 && key.find("/x@1") != std::string::npos) {
          return; // Consul refuses such a key itself
        }
        REQUIRE_MESSAGE(reply.status == 200, reply.body);
      },
      port);
  render_bundled(consul.url(), dir, tools, port);
}
