#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/registry/backends.hpp"
#include "herald/registry/memory/memory_registry.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <optional>
#include <thread>

using namespace herald;
using namespace herald::registry;
using namespace std::chrono_literals;
using herald::registry::memory::MemoryRegistry;

namespace {

Registration registration(const std::string& app, const std::string& instance,
                          const std::string& value, std::chrono::seconds ttl = 60s) {
  Registration reg;
  reg.name = InstanceName{app, instance};
  reg.key = "/services/web/" + app + "/" + app + "@" + instance;
  reg.value = value;
  reg.ttl = ttl;
  return reg;
}

std::vector<std::string> keys_of(const Snapshot& snapshot) {
  std::vector<std::string> out;
  for (const auto& kv : snapshot.entries) {
    out.push_back(kv.key);
  }
  return out;
}

using Clock = std::chrono::steady_clock;

} // namespace

TEST_SUITE_BEGIN("registry");

TEST_CASE("memory registry puts, gets and removes keys with create and modify indexes") {
  auto reg = make_memory_registry();
  CHECK(reg->backend() == "memory");
  CHECK_FALSE(reg->get("/a").has_value());
  reg->put("/a", "1");
  reg->put("/b", "2");
  reg->put("/a", "3");
  auto a = reg->get("/a");
  REQUIRE(a.has_value());
  CHECK(a->value == "3");
  CHECK(a->create_index == 1);
  CHECK(a->modify_index == 3);
  CHECK(a->lease == 0);
  CHECK_FALSE(a->ttl.has_value());
  CHECK(reg->remove("/a"));
  CHECK_FALSE(reg->remove("/a"));
  CHECK_FALSE(reg->get("/a").has_value());
}

TEST_CASE("memory registry lists a prefix as a sorted directory at one index") {
  auto reg = make_memory_registry();
  reg->put("/services/web/b/b@1", "x");
  reg->put("/services/web/a/a@2", "x");
  reg->put("/services/web/a/a@1", "x");
  reg->put("/services/web2/c/c@1", "x"); // a sibling directory, not under /services/web
  reg->put("/services/webx", "x");
  auto snapshot = reg->list("/services/web");
  CHECK(keys_of(snapshot) == std::vector<std::string>{"/services/web/a/a@1", "/services/web/a/a@2",
                                                      "/services/web/b/b@1"});
  CHECK(snapshot.index == 5);
  CHECK(keys_of(reg->list("/services/web/")) == keys_of(snapshot));
  CHECK(reg->list("").entries.size() == 5);
  CHECK(reg->list("/nothing").entries.empty());
}

TEST_CASE("memory watch replays changes after an index and skips other prefixes") {
  auto reg = make_memory_registry();
  reg->put("/w/a", "1");
  auto index = reg->list("/w").index;
  reg->put("/other/x", "1");
  reg->put("/w/b", "2");
  reg->remove("/w/a");
  auto batch = reg->watch("/w", index, 1s);
  CHECK_FALSE(batch.resync);
  REQUIRE(batch.events.size() == 2);
  CHECK(batch.events[0].type == Event::Type::put);
  CHECK(batch.events[0].kv.key == "/w/b");
  CHECK(batch.events[0].kv.value == "2");
  CHECK(batch.events[1].type == Event::Type::remove);
  CHECK(batch.events[1].kv.key == "/w/a");
  CHECK(batch.events[1].kv.modify_index == 4);
  CHECK(batch.index == 4);
}

TEST_CASE("memory watch blocks until another thread changes the prefix") {
  MemoryRegistry reg;
  reg.put("/w/a", "1");
  auto index = reg.revision();
  auto started = Clock::now();
  std::thread writer([&] {
    std::this_thread::sleep_for(100ms);
    reg.put("/elsewhere", "x"); // must not wake the watch with an empty batch
    std::this_thread::sleep_for(100ms);
    reg.put("/w/b", "2");
  });
  auto batch = reg.watch("/w", index, 5s);
  auto waited = Clock::now() - started;
  writer.join();
  REQUIRE(batch.events.size() == 1);
  CHECK(batch.events[0].kv.key == "/w/b");
  CHECK(waited >= 150ms);
  CHECK(waited < 3s);
}

TEST_CASE("memory watch returns an empty batch with the same index when max_wait passes") {
  auto reg = make_memory_registry();
  reg->put("/w/a", "1");
  auto started = Clock::now();
  auto batch = reg->watch("/w", 1, 200ms);
  auto waited = Clock::now() - started;
  CHECK(batch.events.empty());
  CHECK_FALSE(batch.resync);
  CHECK(batch.index == 1);
  CHECK(waited >= 200ms);
  CHECK(waited < 1s);

  auto polled_at = Clock::now();
  CHECK(reg->watch("/w", 1, 0ms).events.empty()); // zero: only what is pending, at once
  CHECK(reg->watch("/w", 0, 0ms).events.size() == 1);
  CHECK(Clock::now() - polled_at < 100ms);
}

TEST_CASE("memory watch from a compacted index reports resync") {
  MemoryRegistry reg;
  for (int i = 0; i < 5; ++i) {
    reg.put("/w/k", std::to_string(i));
  }
  reg.compact(3);
  auto old = reg.watch("/w", 1, 100ms);
  CHECK(old.resync);
  CHECK(old.events.empty());
  auto recent = reg.watch("/w", 3, 100ms);
  CHECK_FALSE(recent.resync);
  REQUIRE(recent.events.size() == 2);
  CHECK(recent.events[0].kv.value == "3");
}

TEST_CASE("memory watch beyond the retained history reports resync") {
  MemoryRegistry reg(nullptr, 3);
  for (int i = 0; i < 6; ++i) {
    reg.put("/w/k" + std::to_string(i), "x");
  }
  CHECK(reg.watch("/w", 1, 100ms).resync);
  auto kept = reg.watch("/w", 3, 100ms);
  CHECK_FALSE(kept.resync);
  CHECK(kept.events.size() == 3);
}

TEST_CASE("memory watch throws cancelled when its stop token fires") {
  StopToken stop;
  MemoryRegistry reg(&stop);
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    stop.request();
  });
  auto started = Clock::now();
  ErrorKind kind = ErrorKind::internal;
  try {
    reg.watch("/w", 0, 10s);
  } catch (const Error& e) {
    kind = e.kind();
  }
  stopper.join();
  CHECK(kind == ErrorKind::cancelled);
  CHECK(Clock::now() - started < 2s);
}

TEST_CASE("memory register_instance binds the key to a lease with the TTL") {
  auto reg = make_memory_registry();
  reg->register_instance(registration("web", "1", "10.0.0.5:3000", 30s));
  auto kv = reg->get("/services/web/web/web@1");
  REQUIRE(kv.has_value());
  CHECK(kv->value == "10.0.0.5:3000");
  CHECK(kv->lease != 0);
  REQUIRE(kv->ttl.has_value());
  CHECK(*kv->ttl <= 30s);
  CHECK(*kv->ttl >= 29s);
}

TEST_CASE("memory registration expires after its TTL and watchers see the removal") {
  MemoryRegistry reg;
  reg.register_instance(registration("web", "1", "10.0.0.5:3000", 1s));
  auto index = reg.revision();
  auto started = Clock::now();
  auto batch = reg.watch("/services/web", index, 5s);
  auto waited = Clock::now() - started;
  REQUIRE(batch.events.size() == 1);
  CHECK(batch.events[0].type == Event::Type::remove);
  CHECK(batch.events[0].kv.key == "/services/web/web/web@1");
  CHECK(waited >= 900ms);
  CHECK(waited < 3s);
  CHECK_FALSE(reg.get("/services/web/web/web@1").has_value());
  CHECK(reg.refresh_instance(registration("web", "1", "10.0.0.5:3000", 1s)) == KeepAlive::lost);
}

TEST_CASE("memory refresh_instance extends the TTL without a watch event") {
  MemoryRegistry reg;
  auto r = registration("web", "1", "10.0.0.5:3000", 1s);
  reg.register_instance(r);
  auto index = reg.revision();
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(400ms);
    CHECK(reg.refresh_instance(r) == KeepAlive::alive);
  }
  CHECK(reg.get(r.key).has_value()); // 1.6 s after a 1 s registration
  CHECK(reg.revision() == index);
}

TEST_CASE("memory refresh_instance rewrites a key deleted or overwritten by someone else") {
  MemoryRegistry reg;
  auto r = registration("web", "1", "10.0.0.5:3000");
  reg.register_instance(r);
  reg.remove(r.key);
  CHECK(reg.refresh_instance(r) == KeepAlive::rewritten);
  auto back = reg.get(r.key);
  REQUIRE(back.has_value());
  CHECK(back->value == "10.0.0.5:3000");
  CHECK(back->ttl.has_value());

  reg.put(r.key, "10.9.9.9:1"); // overwritten without a lease
  CHECK(reg.refresh_instance(r) == KeepAlive::rewritten);
  CHECK(reg.refresh_instance(r) == KeepAlive::alive); // intact again
  CHECK(reg.get(r.key)->value == "10.0.0.5:3000");
  CHECK(reg.get(r.key)->lease != 0);
}

TEST_CASE("memory register_instance replaces a registration without a gap") {
  MemoryRegistry reg;
  auto r = registration("web", "1", "10.0.0.5:3000");
  reg.register_instance(r);
  auto index = reg.revision();
  r.value = "10.0.0.6:3000";
  reg.register_instance(r);
  auto batch = reg.watch("/services/web", index, 100ms);
  REQUIRE(batch.events.size() == 1); // one put, no delete in between
  CHECK(batch.events[0].type == Event::Type::put);
  CHECK(reg.get(r.key)->value == "10.0.0.6:3000");
  CHECK(reg.refresh_instance(r) == KeepAlive::alive);
}

TEST_CASE("memory withdraw and deregister remove the key, and refresh then reports lost") {
  MemoryRegistry reg;
  auto r = registration("web", "1", "10.0.0.5:3000");
  reg.register_instance(r);
  reg.withdraw_instance(r, "health check failed");
  CHECK_FALSE(reg.get(r.key).has_value());
  CHECK(reg.refresh_instance(r) == KeepAlive::lost);

  reg.register_instance(r);
  CHECK(reg.deregister_instance(r));
  CHECK_FALSE(reg.deregister_instance(r));
  CHECK_FALSE(reg.get(r.key).has_value());
  CHECK(reg.refresh_instance(r) == KeepAlive::lost);
}

TEST_CASE("memory instances() lists registrations through the key layout") {
  MemoryRegistry reg;
  reg.register_instance(registration("web", "2", "10.0.0.6:3000"));
  reg.register_instance(registration("web", "1", "10.0.0.5:3000"));
  reg.register_instance(registration("api", "1", "10.0.0.7:8080"));
  InstanceQuery query;
  auto all = reg.instances(query);
  REQUIRE(all.size() == 3);
  CHECK(all[0].app == "api");
  CHECK(all[1].instance == "1");
  CHECK(all[2].instance == "2");
  REQUIRE(all[1].address.has_value());
  CHECK(all[1].address->str() == "10.0.0.5:3000");
  CHECK(all[1].health == Instance::Health::passing);
  CHECK(all[1].ttl_left.has_value());

  query.apps = {"web"};
  CHECK(reg.instances(query).size() == 2);
}

TEST_CASE("memory read outage fails reads and a blocked watch, keeps writes, and ends") {
  MemoryRegistry reg;
  reg.put("/w/a", "1");
  auto index = reg.revision();
  std::optional<ErrorKind> watch_failed;
  std::thread watcher([&] {
    try {
      reg.watch("/w", index, 10s);
    } catch (const Error& e) {
      watch_failed = e.kind();
    }
  });
  REQUIRE(reg.await_watcher(index, 5s)); // blocked, with nothing to report
  auto started = Clock::now();
  reg.set_read_outage(ErrorKind::unavailable);
  watcher.join();
  CHECK(watch_failed == ErrorKind::unavailable);
  CHECK(Clock::now() - started < 2s);

  auto kind_of = [](const auto& read) -> std::optional<ErrorKind> {
    try {
      read();
    } catch (const Error& e) {
      return e.kind();
    }
    return std::nullopt;
  };
  CHECK(kind_of([&] { reg.get("/w/a"); }) == ErrorKind::unavailable);
  CHECK(kind_of([&] { reg.list("/w"); }) == ErrorKind::unavailable);
  CHECK(kind_of([&] { reg.instances(InstanceQuery{}); }) == ErrorKind::unavailable);
  reg.put("/w/b", "2"); // other clients still reach the server
  CHECK(reg.refused_reads() == 4);

  reg.set_read_outage(ErrorKind::temporary);
  CHECK(kind_of([&] { reg.watch("/w", index, 0ms); }) == ErrorKind::temporary);

  reg.set_read_outage(std::nullopt);
  auto batch = reg.watch("/w", index, 0ms); // resumes where it was
  REQUIRE(batch.events.size() == 1);
  CHECK(batch.events[0].kv.key == "/w/b");
  CHECK(reg.refused_reads() == 5);
}

TEST_CASE("memory await_watcher tells when a watcher has taken in every change") {
  MemoryRegistry reg;
  CHECK_FALSE(reg.await_watcher(0, 50ms)); // nobody watches
  reg.put("/w/a", "1");
  reg.put("/other", "x");
  std::thread watcher([&] {
    auto batch = reg.watch("/w", 0, 10s); // returns /w/a at once
    reg.watch("/w", batch.index, 300ms);  // then blocks: nothing new under /w
  });
  // Caught up to revision 2: /other is not under the watched prefix.
  CHECK(reg.await_watcher(2, 5s));
  watcher.join();
  CHECK_FALSE(reg.await_watcher(3, 50ms));
}

TEST_SUITE_END();
