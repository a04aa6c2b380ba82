// The confd golden corpus (tests/fixtures/confd-golden): every case rendered by real confd
// 0.17 must render byte-for-byte the same here, or fail with the same error.

#include "herald/tmpl/funcs_confd.hpp"
#include "herald/tmpl/go_path.hpp"
#include "herald/tmpl/template.hpp"
#include "support/fixtures.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <map>
#include <string>
#include <toml++/toml.h>
#include <vector>
#include <yaml-cpp/yaml.h>

namespace fs = std::filesystem;
using namespace herald::tmpl;

namespace {

fs::path golden_dir() {
  return herald::test::fixture_path("confd-golden");
}

// confd's file backend: nested maps join with '/', list items take their index, scalars as text.
void flatten(const YAML::Node& node, const std::string& key,
             std::map<std::string, std::string>& out) {
  switch (node.Type()) {
  case YAML::NodeType::Map:
    for (const auto& kv : node) {
      flatten(kv.second, go::path_join(key, kv.first.Scalar()), out);
    }
    break;
  case YAML::NodeType::Sequence:
    for (std::size_t i = 0; i < node.size(); ++i) {
      flatten(node[i], go::path_join(key, std::to_string(i)), out);
    }
    break;
  case YAML::NodeType::Scalar:
    out[key] = node.Scalar();
    break;
  default:
    break;
  }
}

struct GoldenCase {
  std::string name;
  std::string template_name;
  std::string template_text;
  std::shared_ptr<KvStore> store;
  std::optional<std::string> expected;
  std::optional<std::string> expected_error;
};

GoldenCase load_case(const fs::path& dir) {
  GoldenCase c;
  c.name = dir.filename().string();
  fs::path toml_file;
  for (const auto& e : fs::directory_iterator(dir / "conf.d")) {
    if (e.path().extension() == ".toml") {
      toml_file = e.path();
    }
  }
  REQUIRE_MESSAGE(!toml_file.empty(), "no conf.d/*.toml in ", dir.string());
  toml::table tbl = toml::parse_file(toml_file.string());
  auto res = *tbl["template"].as_table();
  std::string src = res["src"].value_or(std::string());
  std::string prefix = go::path_join("/", res["prefix"].value_or(std::string()));
  std::vector<std::string> keys;
  if (auto* arr = res["keys"].as_array()) {
    for (const auto& k : *arr) {
      keys.push_back(go::path_join(prefix, k.value_or(std::string())));
    }
  }
  c.template_name = go::path_base(src);
  c.template_text = herald::test::read_file((dir / "templates" / src).string());

  std::map<std::string, std::string> all;
  flatten(YAML::LoadFile((dir / "data.yaml").string()), "/", all);
  c.store = std::make_shared<KvStore>();
  for (const auto& [k, v] : all) {
    bool visible = std::any_of(keys.begin(), keys.end(),
                               [&](const std::string& key) { return k.starts_with(key); });
    if (!visible) {
      continue;
    }
    std::string_view rest = k;
    if (rest.starts_with(prefix)) {
      rest.remove_prefix(prefix.size());
    }
    c.store->set(go::path_join("/", rest), v);
  }
  if (fs::exists(dir / "expected")) {
    c.expected = herald::test::read_file((dir / "expected").string());
  }
  if (fs::exists(dir / "expected-error")) {
    std::string e = herald::test::read_file((dir / "expected-error").string());
    while (!e.empty() && (e.back() == '\n' || e.back() == '\r')) {
      e.pop_back();
    }
    c.expected_error = e;
  }
  return c;
}

// Renders as confd does: template named after its file, confd's functions, nil data.
std::string render(const GoldenCase& c) {
  Template t = Template::parse(c.template_name, c.template_text, confd_funcs(c.store));
  return t.execute(Value());
}

std::vector<fs::path> case_dirs() {
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(golden_dir())) {
    if (e.is_directory()) {
      dirs.push_back(e.path());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

} // namespace

TEST_SUITE_BEGIN("tmpl");

TEST_CASE("every confd golden case renders byte-for-byte as confd rendered it") {
  setenv("HERALD_GOLDEN_ENV", "hello", 1);
  auto dirs = case_dirs();
  REQUIRE_MESSAGE(dirs.size() >= 18, "golden corpus not found under ", golden_dir().string());
  int passed = 0;
  for (const auto& dir : dirs) {
    GoldenCase c = load_case(dir);
    INFO("golden case ", c.name);
    REQUIRE((c.expected.has_value() || c.expected_error.has_value()));
    if (c.expected) {
      std::string out;
      try {
        out = render(c);
      } catch (const std::exception& e) {
        FAIL_CHECK("unexpected error: ", e.what());
        continue;
      }
      CHECK(out == *c.expected);
      passed += out == *c.expected ? 1 : 0;
    } else {
      std::string message;
      try {
        render(c);
      } catch (const TemplateError& e) {
        message = e.what();
      }
      CHECK(message == *c.expected_error);
      passed += message == *c.expected_error ? 1 : 0;
    }
  }
  MESSAGE("golden cases passed: ", passed, "/", dirs.size());
  CHECK(passed == static_cast<int>(dirs.size()));
}

TEST_SUITE_END();
