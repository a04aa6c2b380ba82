// KeyView: the keys a group of resources reads, indexed once from a snapshot and then kept
// current from watch events; and common_parent, the one directory a loop lists and watches.

#include "herald/registry/registry.hpp"
#include "herald/render/key_view.hpp"

#include <algorithm>
#include <cstdint>
#include <doctest/doctest.h>
#include <string>
#include <utility>
#include <vector>

using herald::registry::Event;
using herald::registry::KeyValue;
using herald::registry::Snapshot;
using herald::render::common_parent;
using herald::render::KeyView;
using Words = std::vector<std::string>;

namespace {

/// A snapshot of `pairs`, sorted by key as Registry::list() returns it.
Snapshot snapshot_of(std::vector<std::pair<std::string, std::string>> pairs) {
  std::sort(pairs.begin(), pairs.end());
  Snapshot out;
  for (auto& [key, value] : pairs) {
    KeyValue kv;
    kv.key = key;
    kv.value = value;
    out.entries.push_back(std::move(kv));
  }
  out.index = static_cast<std::int64_t>(pairs.size());
  return out;
}

Event put(const std::string& key, const std::string& value) {
  Event event;
  event.type = Event::Type::put;
  event.kv.key = key;
  event.kv.value = value;
  return event;
}

Event removal(const std::string& key) {
  Event event;
  event.type = Event::Type::remove;
  event.kv.key = key;
  return event;
}

/// Every key of the view's store, as its templates see them.
Words keys_of(const KeyView& view, const Words& candidates) {
  Words out;
  for (const auto& key : candidates) {
    if (view.store()->exists(key)) {
      out.push_back(key);
    }
  }
  return out;
}

} // namespace

TEST_SUITE_BEGIN("render");

TEST_CASE("a key view loads only the keys under its directories, with the prefix cut off") {
  KeyView view("/services", {"/services/db", "/services/web"});
  view.load(snapshot_of({{"/other/c", "0"},
                         {"/services", "root"},
                         {"/services/db/x", "1"},
                         {"/services/web", "dir-itself"},
                         {"/services/web/a", "2"},
                         {"/services/web/deep/b", "3"},
                         {"/services/web2/b", "4"},
                         {"/services/webx", "5"}}));
  CHECK(view.size() == 4);
  CHECK(keys_of(view, {"/db/x", "/web", "/web/a", "/web/deep/b", "/web2/b", "/webx", "/other/c",
                       "/"}) == Words{"/db/x", "/web", "/web/a", "/web/deep/b"});
  CHECK(view.store()->value("/web/a") == "2");
}

TEST_CASE("a key view of / with no prefix sees every key as the registry names it") {
  KeyView view("/", {"/"});
  view.load(snapshot_of({{"/a", "1"}, {"/b/c", "2"}}));
  CHECK(view.size() == 2);
  CHECK(view.store()->value("/b/c") == "2");
  CHECK(view.covers("/anything"));
  CHECK(view.template_key("/b/c") == "/b/c");
}

TEST_CASE("loading a new snapshot replaces what the view held") {
  KeyView view("/", {"/services/web"});
  view.load(snapshot_of({{"/services/web/a", "1"}, {"/services/web/b", "2"}}));
  auto store = view.store();
  view.load(snapshot_of({{"/services/web/b", "3"}}));
  CHECK(view.size() == 1);
  CHECK_FALSE(store->exists("/services/web/a"));
  CHECK(store->value("/services/web/b") == "3");
  CHECK(view.store() == store); // templates hold the store: its address never changes
}

TEST_CASE("a key view applies the events under its directories and reports only those") {
  KeyView view("/services", {"/services/web"});
  view.load(snapshot_of({{"/services/web/a", "1"}}));

  CHECK(view.apply(put("/services/web/b", "2")));
  CHECK(view.store()->value("/web/b") == "2");
  CHECK(view.apply(put("/services/web/a", "10")));
  CHECK(view.store()->value("/web/a") == "10");
  CHECK(view.apply(removal("/services/web/a")));
  CHECK_FALSE(view.store()->exists("/web/a"));

  CHECK_FALSE(view.apply(put("/services/web2/x", "3")));
  CHECK_FALSE(view.apply(put("/services/db/x", "4")));
  CHECK_FALSE(view.apply(removal("/services/db/x")));
  CHECK(view.size() == 1);
}

TEST_CASE("a key view of one app or one instance counts its instances as the route model reads "
          "them") {
  // --keys /services/web/web: the template's `routes "/services/web"` sees web's instances, and
  // so must the drop guard, or every change after the first render looks like an emptied router.
  KeyView app("/r", {"/r/services/web/web"});
  app.load(snapshot_of({{"/r/services/web/web/web@1", "10.0.0.1:80"},
                        {"/r/services/web/web/web@2", "10.0.0.2:80"},
                        {"/r/services/web/web/web@3", "bad value"},
                        {"/r/services/web/web2/web2@1", "10.0.0.3:80"}}));
  CHECK(app.size() == 3);
  CHECK(app.instance_count() == 2);
  CHECK(app.apply(put("/r/services/web/web/web@4", "10.0.0.4:80")));
  CHECK(app.instance_count() == 3);
  CHECK(app.apply(removal("/r/services/web/web/web@1")));
  CHECK(app.instance_count() == 2);
  CHECK(app.apply(put("/r/services/web/web/web@2", "not an address")));
  CHECK(app.instance_count() == 1);

  // One instance's key, and the single-key layout read as one app.
  KeyView one("", {"/services/web/web/web@1", "/services/clusters/api"});
  one.load(snapshot_of(
      {{"/services/web/web/web@1", "10.0.0.1:80"}, {"/services/clusters/api", "10.0.0.9:8080"}}));
  CHECK(one.instance_count() == 2);

  // A directory above the apps is read as it always was: /services/domain is no instance.
  KeyView services("", {"/services"});
  services.load(snapshot_of({{"/services/domain", "example.com"}}));
  CHECK(services.instance_count() == 0);
  CHECK(services.skipped().empty());
}

TEST_CASE("a key view covers its directories by path segment, not by string prefix") {
  KeyView view("/", {"/services/web"});
  CHECK(view.covers("/services/web"));
  CHECK(view.covers("/services/web/a"));
  CHECK_FALSE(view.covers("/services/web2"));
  CHECK_FALSE(view.covers("/services"));
}

TEST_CASE("a template sees a key with the prefix cut off and joined as Go's path.Join does") {
  KeyView view("/services", {"/services/web"});
  CHECK(view.template_key("/services/web/a") == "/web/a");
  CHECK(view.template_key("/services") == "/");
  CHECK(KeyView("/services/", {"/services/web"}).template_key("/services/web/a") == "/web/a");
}

TEST_CASE("common_parent is the deepest directory holding every key") {
  CHECK(common_parent({"/services/web", "/services/clusters"}) == "/services");
  CHECK(common_parent({"/services/web"}) == "/services/web");
  CHECK(common_parent({"/services/web/", "/services/web/a"}) == "/services/web");
  CHECK(common_parent({"/services/web", "/services/web2"}) == "/services");
  CHECK(common_parent({"/a", "/b"}) == "/");
  CHECK(common_parent({"/"}) == "/");
  CHECK(common_parent({}) == "/");
}
