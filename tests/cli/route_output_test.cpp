// route ls's output through the printer: these cases were written against the table, JSON and
// YAML code route ls had before the printer (route/format.cpp) and prove its output unchanged.
#include "herald/cli/route_output.hpp"
#include "herald/core/error.hpp"
#include "herald/registry/layout.hpp"

#include <doctest/doctest.h>
#include <sstream>
#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

using namespace herald;
using namespace herald::cli;
using namespace std::chrono_literals;
using registry::Instance;
using route::Listing;

namespace {

/// What `route ls` prints for `listing` with `options`.
std::string format_listing(const Listing& listing, const OutputOptions& options) {
  std::ostringstream out;
  Printer printer(out, route_columns(), options);
  print_routes(printer, listing);
  return out.str();
}

/// The documented document built field by field with nlohmann, apart from the streaming writer
/// route ls uses: the reference its output must match byte for byte.
nlohmann::ordered_json to_json(const Listing& listing) {
  nlohmann::ordered_json doc;
  doc["schema"] = 1;
  doc["backend"] = listing.backend;
  doc["instances"] = nlohmann::ordered_json::array();
  for (const auto& instance : listing.instances) {
    nlohmann::ordered_json j;
    j["app"] = instance.app;
    j["instance"] = instance.instance;
    j["name"] = instance.instance.empty() ? instance.app : instance.app + "@" + instance.instance;
    j["key"] = instance.key;
    j["value"] = instance.value;
    if (instance.address) {
      j["address"] = instance.address->str();
      j["host"] = instance.address->host;
      j["port"] = instance.address->port;
    } else {
      j["address"] = nullptr;
      j["host"] = nullptr;
      j["port"] = nullptr;
    }
    j["valid"] = instance.address.has_value();
    if (instance.address) {
      j["problem"] = nullptr;
    } else {
      j["problem"] = instance.problem;
    }
    j["health"] = registry::health_name(instance.health);
    if (instance.ttl_left) {
      j["ttl_left"] = instance.ttl_left->count();
    } else {
      j["ttl_left"] = nullptr;
    }
    j["tags"] = instance.tags;
    j["meta"] = nlohmann::ordered_json::object();
    for (const auto& [name, value] : instance.meta) {
      j["meta"][name] = value;
    }
    j["node"] = instance.node;
    doc["instances"].push_back(j);
  }
  doc["malformed"] = listing.malformed;
  return doc;
}

Instance instance(const std::string& app, const std::string& inst, const std::string& host,
                  std::uint16_t port) {
  Instance i;
  i.app = app;
  i.instance = inst;
  i.key = "/services/web/" + app + "/" + app + "@" + inst;
  i.value = host + ":" + std::to_string(port);
  i.address = HostPort{host, port};
  i.health = Instance::Health::passing;
  return i;
}

Instance malformed(const std::string& app, const std::string& inst, const std::string& value) {
  Instance i;
  i.app = app;
  i.instance = inst;
  i.key = "/services/web/" + app + "/" + app + "@" + inst;
  i.value = value;
  i.problem = "not HOST:PORT";
  i.health = Instance::Health::passing;
  return i;
}

Listing sample() {
  Listing listing;
  listing.backend = "etcd3";
  Instance api = instance("api", "1", "10.0.0.17", 8080);
  api.tags = {"blue", "v2"};
  api.ttl_left = 42s;
  listing.instances.push_back(api);
  Instance web = instance("web", "10", "192.168.100.200", 3000);
  web.meta = {{"zone", "a"}};
  web.health = Instance::Health::critical;
  listing.instances.push_back(web);
  listing.instances.push_back(malformed("web", "2", "not-an-address"));
  listing.malformed = 1;
  return listing;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

/// The JSON document `route ls -o json` prints for `listing`, parsed.
nlohmann::json printed_json(const Listing& listing) {
  OutputOptions options;
  options.format = OutputFormat::json;
  return nlohmann::json::parse(format_listing(listing, options));
}

/// Where each column starts in a table line: after runs of at least two spaces.
std::vector<std::size_t> column_starts(const std::string& line) {
  std::vector<std::size_t> starts{0};
  for (std::size_t i = 2; i < line.size(); ++i) {
    if (line[i] != ' ' && line[i - 1] == ' ' && line[i - 2] == ' ') {
      starts.push_back(i);
    }
  }
  return starts;
}

} // namespace

TEST_SUITE_BEGIN("route");

TEST_CASE("route table starts every column at the same place on every line") {
  auto lines = lines_of(format_listing(sample(), {}));
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].rfind("APP", 0) == 0);
  auto header = column_starts(lines[0]);
  CHECK(header.size() == 6);
  for (const auto& line : lines) {
    auto starts = column_starts(line);
    REQUIRE(starts.size() >= 5); // a row's last cell may be "-" like any other
    for (std::size_t i = 0; i < starts.size(); ++i) {
      CHECK(starts[i] == header[i]);
    }
    CHECK(line.back() != ' ');
  }
  CHECK(lines[1].find("api   1          10.0.0.17:8080") == 0);
  CHECK(lines[1].find("42s") != std::string::npos);
  CHECK(lines[1].find("blue,v2") != std::string::npos);
}

TEST_CASE("route table without legend prints only the rows") {
  OutputOptions options;
  options.legend = false;
  auto lines = lines_of(format_listing(sample(), options));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("api", 0) == 0);
  CHECK(format_listing(Listing{}, options).empty());
}

TEST_CASE("route table flags a malformed value and shows health and missing TTL") {
  auto lines = lines_of(format_listing(sample(), {}));
  CHECK(lines[2].find("critical") != std::string::npos);
  CHECK(lines[3].find("!not-an-address") != std::string::npos);
  CHECK(lines[3].find("passing") != std::string::npos);
}

TEST_CASE("route table keeps stored control characters from reaching the terminal") {
  Listing listing;
  listing.instances.push_back(malformed("web", "1", "evil\n\033[2Jvalue"));
  std::string text = format_listing(listing, {});
  CHECK(text.find('\033') == std::string::npos);
  CHECK(lines_of(text).size() == 2);
  CHECK(text.find("!evil??[2Jvalue") != std::string::npos);
}

TEST_CASE("route table cuts a long malformed value that -o wide shows whole") {
  Listing listing;
  listing.instances.push_back(malformed("web", "1", std::string(100, 'x')));
  std::string table = format_listing(listing, {});
  CHECK(table.find("!" + std::string(37, 'x') + "...") != std::string::npos);
  CHECK(table.find(std::string(38, 'x')) == std::string::npos);
  OutputOptions wide;
  wide.format = OutputFormat::wide;
  CHECK(format_listing(listing, wide).find("!" + std::string(100, 'x')) != std::string::npos);
}

TEST_CASE("route wide table adds KEY NODE and META") {
  OutputOptions wide;
  wide.format = OutputFormat::wide;
  auto lines = lines_of(format_listing(sample(), wide));
  CHECK(column_starts(lines[0]).size() == 9);
  CHECK(lines[0].find("KEY") != std::string::npos);
  CHECK(lines[0].find("META") != std::string::npos);
  CHECK(lines[2].find("/services/web/web/web@10") != std::string::npos);
  CHECK(lines[2].find("zone=a") != std::string::npos);
}

TEST_CASE("route table aligns by characters rather than bytes") {
  std::ostringstream out;
  OutputOptions options;
  options.legend = false;
  Printer printer(out, {{"a", "A"}, {"b", "B"}}, options);
  printer.print(
      [](Table& table) {
        table.add_row({"\xC3\xA9t\xC3\xA9", "x"});
        table.add_row({"abc", "y"});
      },
      nullptr);
  CHECK(out.str() == "\xC3\xA9t\xC3\xA9   x\nabc   y\n");
}

TEST_CASE("route single-key instances show - as INSTANCE and the app as name") {
  Listing listing;
  Instance single = instance("db", "", "10.0.0.9", 5432);
  single.key = "/services/clusters/db";
  listing.instances.push_back(single);
  OutputOptions options;
  options.legend = false;
  CHECK(format_listing(listing, options).rfind("db   -   10.0.0.9:5432", 0) == 0);
  auto doc = printed_json(listing);
  CHECK(doc["instances"][0]["name"] == "db");
  CHECK(doc["instances"][0]["instance"] == "");
}

TEST_CASE("route json output is byte for byte the documented document, indented or compact") {
  Listing listing = sample();
  // Values the fast path must hand to the escaper: quotes, control bytes, UTF-8, invalid UTF-8.
  Instance odd = instance("odd", "1", "10.0.0.1", 80);
  odd.value = std::string("say \"hi\"\\\n\t\x01 caf\xc3\xa9 \xff\xfe end");
  odd.tags = {"caf\xc3\xa9", ""};
  odd.meta = {{"k\"ey", "v\x7f"}, {"empty", ""}};
  odd.node = "node-1";
  listing.instances.push_back(odd);
  OutputOptions options;
  options.format = OutputFormat::json;
  auto expected = [&](int indent) {
    return to_json(listing).dump(indent, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
  };
  CHECK(format_listing(listing, options) == expected(2));
  options.compact = true;
  CHECK(format_listing(listing, options) == expected(-1));

  Listing empty;
  empty.backend = "consul";
  options.compact = false;
  CHECK(format_listing(empty, options) == to_json(empty).dump(2) + "\n");
}

TEST_CASE("route json document has every documented field with its type") {
  OutputOptions options;
  options.format = OutputFormat::json;
  auto doc = nlohmann::json::parse(format_listing(sample(), options));
  CHECK(doc["schema"] == 1);
  CHECK(doc["backend"] == "etcd3");
  CHECK(doc["malformed"] == 1);
  REQUIRE(doc["instances"].size() == 3);
  const auto& api = doc["instances"][0];
  CHECK(api.size() == 15);
  CHECK(api["app"] == "api");
  CHECK(api["instance"] == "1");
  CHECK(api["name"] == "api@1");
  CHECK(api["key"] == "/services/web/api/api@1");
  CHECK(api["value"] == "10.0.0.17:8080");
  CHECK(api["address"] == "10.0.0.17:8080");
  CHECK(api["host"] == "10.0.0.17");
  CHECK(api["port"] == 8080);
  CHECK(api["valid"] == true);
  CHECK(api["health"] == "passing");
  CHECK(api["ttl_left"] == 42);
  CHECK(api["tags"] == nlohmann::json::array({"blue", "v2"}));
  CHECK(api["meta"].is_object());
  CHECK(api["node"] == "");
  CHECK(doc["instances"][1]["health"] == "critical");
  CHECK(doc["instances"][1]["ttl_left"].is_null());
  CHECK(doc["instances"][1]["meta"]["zone"] == "a");
}

TEST_CASE("route json gives a malformed value a null address and host and port") {
  auto bad = printed_json(sample())["instances"][2];
  CHECK(bad["valid"] == false);
  CHECK(bad["problem"] == "not HOST:PORT");
  CHECK(bad["value"] == "not-an-address");
  CHECK(bad["address"].is_null());
  CHECK(bad["host"].is_null());
  CHECK(bad["port"].is_null());
}

TEST_CASE("route json stream mode prints one document per line") {
  OutputOptions options;
  options.format = OutputFormat::json;
  options.compact = true;
  std::string text = format_listing(sample(), options);
  CHECK(lines_of(text).size() == 1);
  CHECK(text.back() == '\n');
}

TEST_CASE("route json replaces invalid UTF-8 in a stored value instead of failing") {
  Listing listing;
  listing.instances.push_back(malformed("web", "1", "bad\xFF\xFEvalue"));
  OutputOptions options;
  options.format = OutputFormat::json;
  auto doc = nlohmann::json::parse(format_listing(listing, options));
  CHECK(doc["instances"][0]["value"] == "bad\xEF\xBF\xBD\xEF\xBF\xBDvalue");
}

TEST_CASE("route yaml document has the json document's fields and keeps strings strings") {
  OutputOptions options;
  options.format = OutputFormat::yaml;
  YAML::Node doc = YAML::Load(format_listing(sample(), options));
  CHECK(doc["schema"].as<int>() == 1);
  CHECK(doc["backend"].as<std::string>() == "etcd3");
  REQUIRE(doc["instances"].size() == 3);
  YAML::Node api = doc["instances"][0];
  CHECK(api.size() == 15);
  CHECK(api["instance"].as<std::string>() == "1");
  CHECK(api["instance"].Tag() == "!"); // quoted: a non-specific string, never read as a number
  CHECK(api["port"].as<int>() == 8080);
  CHECK(api["port"].Tag() == "?");
  CHECK(api["valid"].as<bool>() == true);
  CHECK(api["tags"][1].as<std::string>() == "v2");
  CHECK(api["ttl_left"].as<int>() == 42);
  YAML::Node bad = doc["instances"][2];
  CHECK(bad["address"].IsNull());
  CHECK(bad["port"].IsNull());
  CHECK(bad["node"].as<std::string>() == "");
  CHECK(bad["node"].IsScalar());
}

TEST_CASE("route TTLs read as seconds or minutes or hours or days") {
  CHECK(format_ttl(std::nullopt) == "-");
  CHECK(format_ttl(0s) == "0s");
  CHECK(format_ttl(59s) == "59s");
  CHECK(format_ttl(60s) == "1m");
  CHECK(format_ttl(200s) == "3m20s");
  CHECK(format_ttl(7500s) == "2h5m");
  CHECK(format_ttl(7200s) == "2h");
  CHECK(format_ttl(97200s) == "1d3h");
}

TEST_CASE("route output formats other than table, wide, simple, json or yaml are usage errors") {
  CHECK(parse_output_format("yaml") == OutputFormat::yaml);
  CHECK(parse_output_format("wide") == OutputFormat::wide);
  CHECK(parse_output_format("simple") == OutputFormat::simple);
  try {
    parse_output_format("xml");
    FAIL("xml was accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    CHECK(std::string(e.what()).find("'xml'") != std::string::npos);
  }
}

TEST_SUITE_END();
