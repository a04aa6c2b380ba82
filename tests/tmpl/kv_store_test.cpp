#include "herald/tmpl/go_path.hpp"
#include "herald/tmpl/kv_store.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <set>
#include <string>
#include <vector>

using namespace herald::tmpl;

namespace {

std::vector<std::string> strings_of(const Value& list) {
  std::vector<std::string> out;
  for (const auto& v : list.items()) {
    out.push_back(v.as_string());
  }
  return out;
}

std::vector<std::string> keys_of(const Value& pairs) {
  std::vector<std::string> out;
  for (const auto& p : pairs.items()) {
    out.push_back(p.find("Key")->as_string());
  }
  return out;
}

KvStore sample() {
  KvStore s;
  s.set("/services/web/api/api@2", "10.0.0.6:8080");
  s.set("/services/web/api/api@1", "10.0.0.5:8080");
  s.set("/services/web/api/api@10", "10.0.0.7:8080");
  s.set("/services/web/blog/blog@a", "10.1.0.1:2368");
  s.set("/services/web/solo", "1.2.3.4:80");
  s.set("/services/webfoo/x", "9");
  s.set("/top", "t");
  return s;
}

// memkv v0.1.1's List and ListDir, line for line: the reference the index must agree with.
std::vector<std::string> terms(std::string_view p) {
  std::string c = go::path_clean(p);
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto slash = c.find('/', start);
    out.push_back(c.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) {
      return out;
    }
    start = slash + 1;
  }
}

bool same_prefix(const std::vector<std::string>& prefix, const std::vector<std::string>& test) {
  return test.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), test.begin());
}

std::vector<std::string> memkv_list(const std::vector<std::string>& keys, std::string_view path,
                                    bool dirs) {
  std::set<std::string> m;
  auto prefix = terms(path);
  for (const auto& key : keys) {
    if (!dirs) {
      if (key == path) {
        m.insert(go::path_base(key));
        continue;
      }
      if (same_prefix(prefix, terms(go::path_dir(key)))) {
        std::string_view rest = key;
        if (rest.starts_with(path)) {
          rest.remove_prefix(path.size());
        }
        if (rest.starts_with("/")) {
          rest.remove_prefix(1);
        }
        m.insert(std::string(rest.substr(0, rest.find('/'))));
      }
    } else if (std::string_view(key).starts_with(path)) {
      auto items = terms(go::path_dir(key));
      if (same_prefix(prefix, items) && items.size() > prefix.size()) {
        m.insert(items[prefix.size()]);
      }
    }
  }
  return {m.begin(), m.end()};
}

} // namespace

TEST_SUITE_BEGIN("tmpl");

TEST_CASE("KvStore ls and lsdir agree with memkv's full scan for every shape of key and path") {
  std::vector<std::string> keys = {
      "/a",    "/a/b",    "/a/b/c",  "/a/b/c/d", "/a/b-x/y", "/a/b0",    "/a/bb/z",
      "/ab/c", "/a//b/e", "/a/b/",   "/a/./b/f", "/a/../g",  "rel",      "rel/x/y",
      "/",     "//h",     "/a/b/c/", "/a/b.c/d", "/z/y/x/w", "/a/b/c/e", "/a/b/_/f"};
  KvStore s;
  for (const auto& k : keys) {
    s.set(k, "v");
  }
  std::vector<std::string> paths = {
      "/",     "",    ".",    "/a", "/a/",  "/a/b", "/a/b/",   "/a//b", "/a/./b", "/a/b/c", "/ab",
      "/a/bb", "rel", "rel/", "/z", "/z/y", "//",   "/a/b/c/", "/nope", "a",      "/a/b-x"};
  for (const auto& p : paths) {
    INFO("path \"", p, "\"");
    CHECK(strings_of(s.list(p)) == memkv_list(keys, p, false));
    CHECK(strings_of(s.list_dir(p)) == memkv_list(keys, p, true));
  }
}

TEST_CASE("KvStore ls lists keys and directories directly below a path, as memkv does") {
  KvStore s = sample();
  using V = std::vector<std::string>;
  CHECK(strings_of(s.list("/services/web")) == V{"api", "blog", "solo"});
  CHECK(strings_of(s.list("/services/web/")) == V{"api", "blog", "solo"});
  CHECK(strings_of(s.list("/services/web/solo")) == V{"solo"});
  CHECK(strings_of(s.list("/services")) == V{"web", "webfoo"});
  CHECK(strings_of(s.list("/")) == V{"top"}); // memkv's root sees only top-level keys
  CHECK(strings_of(s.list("/nope")).empty());
  CHECK(s.list("/nope").type_name() == "[]string");
}

TEST_CASE("KvStore lsdir lists only directories, with memkv's raw prefix rule") {
  KvStore s = sample();
  using V = std::vector<std::string>;
  CHECK(strings_of(s.list_dir("/services/web")) == V{"api", "blog"});
  CHECK(strings_of(s.list_dir("/services")) == V{"web", "webfoo"});
  CHECK(strings_of(s.list_dir("/services/we")).empty());
  CHECK(strings_of(s.list_dir("/")).empty()); // memkv quirk: the root has no directories
}

TEST_CASE("KvStore keeps memkv's results for keys and paths path.Clean would change") {
  KvStore s = sample();
  s.set("/services//web/x", "odd"); // Dir() cleans it into /services/web, TrimPrefix does not
  using V = std::vector<std::string>;
  CHECK(strings_of(s.list("/services/web")) == V{"api", "blog", "services", "solo"});
  CHECK(strings_of(s.list_dir("/services")) == V{"web", "webfoo"});
  // TrimPrefix fails on the unclean path, so memkv keeps each key's first segment.
  CHECK(strings_of(s.list("/services//web")) == V{"services", "x"});
  CHECK(strings_of(s.list_dir("/services/web/")) == V{"api", "blog"});
  s.set("/services/web/blog/", "dir-like");
  CHECK(strings_of(s.list("/services/web/blog")) == V{"", "blog@a"});
  CHECK(strings_of(s.list("/services/web/blog/")) == V{"blog", "blog@a"});
}

TEST_CASE("KvStore gets matches path.Match patterns and sorts by key") {
  KvStore s = sample();
  using V = std::vector<std::string>;
  CHECK(keys_of(s.get_all("/services/web/*/*")) ==
        V{"/services/web/api/api@1", "/services/web/api/api@10", "/services/web/api/api@2",
          "/services/web/blog/blog@a"});
  CHECK(keys_of(s.get_all("/services/web/*")) == V{"/services/web/solo"});
  CHECK(keys_of(s.get_all("/services/web/api/api@[12]")) ==
        V{"/services/web/api/api@1", "/services/web/api/api@2"});
  CHECK(keys_of(s.get_all("/services/web/api/api@?")) ==
        V{"/services/web/api/api@1", "/services/web/api/api@2"});
  CHECK(keys_of(s.get_all("/services/web/api/api@[^1]")) == V{"/services/web/api/api@2"});
  CHECK(keys_of(s.get_all("/top")) == V{"/top"});
  CHECK(s.get_all("/none/*").size() == 0);
  CHECK(s.get_all("/services/web/*").type_name() == "memkv.KVPairs");
  CHECK_THROWS_WITH_AS(s.get_all("/services/[x"), "syntax error in pattern", go::BadPattern);
  CHECK(KvStore().get_all("/[").size() == 0); // no key tried, no error
}

TEST_CASE("KvStore getvs returns the matched values sorted as strings") {
  KvStore s = sample();
  CHECK(strings_of(s.get_all_values("/services/web/api/*")) ==
        std::vector<std::string>{"10.0.0.5:8080", "10.0.0.6:8080", "10.0.0.7:8080"});
}

TEST_CASE("KvStore get, set, erase and clear") {
  KvStore s = sample();
  REQUIRE(s.get("/top").has_value());
  CHECK(s.get("/top")->find("Value")->as_string() == "t");
  CHECK_FALSE(s.get("/nope").has_value());
  s.set("/top", "u");
  CHECK(s.value("/top") == std::optional<std::string>("u"));
  CHECK(s.size() == 7);
  s.erase("/services/web/solo");
  CHECK(strings_of(s.list("/services/web")) == std::vector<std::string>{"api", "blog"});
  CHECK_FALSE(s.exists("/services/web/solo"));
  s.clear();
  CHECK(s.size() == 0);
  CHECK(s.list("/services").size() == 0);
}

TEST_CASE("KvStore answers per-app lookups over 30000 keys from its index") {
  KvStore s;
  for (int app = 0; app < 10000; ++app) {
    for (int i = 1; i <= 3; ++i) {
      std::string name = "app" + std::to_string(app);
      s.set("/services/web/" + name + "/" + name + "@" + std::to_string(i),
            "10.0." + std::to_string(app % 250) + "." + std::to_string(i) + ":3000");
    }
  }
  CHECK(s.list_dir("/services/web").size() == 10000);
  CHECK(s.list("/services/web").size() == 10000);
  CHECK(s.get_all("/services/web/*/*").size() == 30000);
  for (int app = 0; app < 10000; app += 997) {
    std::string name = "app" + std::to_string(app);
    Value pairs = s.get_all("/services/web/" + name + "/*");
    REQUIRE(pairs.size() == 3);
    CHECK(pairs.items()[0].find("Key")->as_string() == "/services/web/" + name + "/" + name + "@1");
  }
}

TEST_CASE("path_is_clean agrees with path_clean on keys with and without dots") {
  for (const char* path : {"",
                           "/",
                           ".",
                           "..",
                           "/a",
                           "/a/",
                           "//a",
                           "/a//b",
                           "a/b",
                           "/a/./b",
                           "/a/../b",
                           "../a",
                           "a/..",
                           "/..",
                           "/services/web/app1/app1@0",
                           "/services/web/app.1/app.1@0",
                           "/a/b.",
                           "/.a",
                           "./a",
                           "a/"}) {
    CAPTURE(path);
    CHECK(go::path_is_clean(path) == (go::path_clean(path) == path));
  }
}

TEST_CASE("path helpers follow Go's path package") {
  CHECK(go::path_clean("") == ".");
  CHECK(go::path_clean("/a//b/./c/..") == "/a/b");
  CHECK(go::path_clean("a/../../b") == "../b");
  CHECK(go::path_clean("/..") == "/");
  CHECK(go::path_dir("/a/b/c.txt") == "/a/b");
  CHECK(go::path_dir("rel") == ".");
  CHECK(go::path_dir("/") == "/");
  CHECK(go::path_base("/a/b/") == "b");
  CHECK(go::path_base("/") == "/");
  CHECK(go::path_base("") == ".");
  CHECK(go::path_match("/a/*", "/a/b"));
  CHECK_FALSE(go::path_match("/a/*", "/a/b/c"));
  CHECK(go::path_match("/a/*/c", "/a/b/c"));
  CHECK(go::path_match("*.conf", "x.conf"));
  CHECK(go::path_match("a\\*b", "a*b"));
  CHECK(go::path_match("[a-c]x", "bx"));
  CHECK_FALSE(go::path_match("?", "/"));
  CHECK_THROWS_AS(go::path_match("[", "a"), go::BadPattern);
  CHECK_THROWS_AS(go::path_match("a[", "b"), go::BadPattern); // checked even after a mismatch
}

TEST_SUITE_END();
