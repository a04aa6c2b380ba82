// The instances behind consul-template's service functions, and the watch that follows them,
// over the (thread-safe) memory registry.

#include "herald/core/stop.hpp"
#include "herald/registry/backends.hpp"
#include "herald/render/loop.hpp"
#include "herald/render/service_view.hpp"
#include "support/log_capture.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <mutex>
#include <string>
#include <thread>

using namespace herald;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("render");

TEST_CASE("a service view maps instances and counts only loads that changed something") {
  auto reg = registry::make_memory_registry();
  reg->put("/services/web/web/web@1", R"({"host":"10.0.0.1","port":80,"tags":["a"]})");
  reg->put("/services/web/web/web@2", "not an address");
  render::ServiceView view;
  CHECK(view.load(*reg));
  REQUIRE(view.service_instances().size() == 1);
  const auto& s = view.service_instances()[0];
  CHECK(s.id == "web@1");
  CHECK(s.name == "web");
  CHECK(s.address == "10.0.0.1");
  CHECK(s.port == 80);
  CHECK(s.tags == std::vector<std::string>{"a"});
  CHECK(s.status == "passing");
  CHECK(view.generation() == 1);
  CHECK_FALSE(view.load(*reg));
  CHECK(view.generation() == 1);
  reg->put("/services/web/web/web@3", "10.0.0.3:80");
  CHECK(view.load(*reg));
  CHECK(view.generation() == 2);

  registry::Instance consul;
  consul.app = "db";
  consul.instance = "x";
  consul.key = "db-on-node1";
  consul.address = HostPort{"10.0.0.9", 5432};
  consul.health = registry::Instance::Health::warning;
  consul.node = "node1";
  auto mapped = render::ServiceView::to_service(consul, "consul");
  REQUIRE(mapped);
  CHECK(mapped->id == "db-on-node1");
  CHECK(mapped->status == "warning");
  CHECK(mapped->node == "node1");
}

TEST_CASE(
    "a service view skips instances whose address, tags or meta fail the rule, warning once") {
  test::LogCapture log;
  auto reg = registry::make_memory_registry();
  reg->put("/services/web/web/web@1", "10.0.0.1:80");
  reg->put("/services/web/web/web@2",
           R"({"host":"10.0.0.2","port":80,"tags":["server_alias=x.com\n  http-request deny"]})");
  reg->put("/services/web/web/web@3", R"({"host":"10.0.0.3","port":80,"meta":{"k":"a;b"}})");
  reg->put("/services/web/web/web@4", R"({"host":"127.0.0.1;}server{","port":80})");
  render::ServiceView view;
  CHECK(view.load(*reg));
  REQUIRE(view.service_instances().size() == 1);
  CHECK(view.service_instances()[0].address == "10.0.0.1");
  CHECK(view.skipped().size() == 3);
  CHECK(log.count("service: skipping") == 3);
  reg->put("/services/web/web/web@5", "10.0.0.5:80");
  CHECK(view.load(*reg));
  CHECK(log.count("service: skipping") == 3); // each bad key once, not once per load
  for (const auto& line : log.lines()) {
    CHECK(line.find('\n') == std::string::npos);
  }
}

TEST_CASE("a change feed reports an instance change and a key change, whichever comes") {
  StopToken stop;
  auto reg = registry::make_memory_registry();
  reg->put("/config/a", "1");
  std::int64_t index = reg->list("/config").index;
  render::ChangeFeed feed(*reg, {}, registry::InstanceQuery{}, 500ms, stop);
  // The first instance answer is the baseline, reported as a change so nothing is missed.
  auto first = feed.wait("/config", index, 5s);
  CHECK(first.instances_changed);
  CHECK(first.batch.events.empty());

  std::thread writer([&] {
    std::this_thread::sleep_for(100ms);
    reg->put("/services/web/web/web@1", "10.0.0.1:80");
  });
  bool seen_instance = false;
  for (int i = 0; i < 20 && !seen_instance; ++i) {
    auto change = feed.wait("/config", index, 1s);
    CHECK(change.batch.events.empty());
    seen_instance = change.instances_changed;
  }
  writer.join();
  CHECK(seen_instance);

  reg->put("/config/a", "2");
  bool seen_key = false;
  for (int i = 0; i < 20 && !seen_key; ++i) {
    auto change = feed.wait("/config", index, 1s);
    if (!change.batch.events.empty()) {
      seen_key = true;
      CHECK(change.batch.events[0].kv.key == "/config/a");
      CHECK(change.batch.index > index);
    }
  }
  CHECK(seen_key);
}

TEST_CASE("render --watch renders again when an instance a template's service reads appears") {
  StopToken stop;
  auto reg = registry::make_memory_registry();
  reg->put("/services/web/web/web@1", "10.0.0.1:80");
  test::TempDir dir;
  render::TemplateResource resource;
  resource.name = "--template t.ctmpl";
  resource.src = dir.write("t.ctmpl", R"({{range service "web"}}{{.ID}} {{end}})");
  resource.keys = {"/config"};
  render::LoopOptions options;
  options.mode = render::Mode::watch;
  options.to_stdout = true;
  options.watch_timeout = 500ms;
  std::mutex mutex;
  std::vector<std::string> outputs;
  render::RenderLoop loop(*reg, {resource}, options, stop, [&](std::string_view text) {
    std::lock_guard lock(mutex);
    outputs.emplace_back(text);
  });
  auto seen = [&](const std::string& text) {
    std::lock_guard lock(mutex);
    return std::find(outputs.begin(), outputs.end(), text) != outputs.end();
  };
  std::thread runner([&] { loop.run(); });
  bool first = test::eventually([&] { return seen("web@1 "); }, 5s);
  reg->put("/services/web/web/web@2", "10.0.0.2:80");
  bool second = test::eventually([&] { return seen("web@1 web@2 "); }, 5s);
  stop.request();
  runner.join();
  CHECK(first);
  CHECK(second);
}
