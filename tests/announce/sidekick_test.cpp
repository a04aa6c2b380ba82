#include "announce/doubles.hpp"
#include "herald/announce/sidekick.hpp"
#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/registry/backends.hpp"
#include "support/process.hpp"

#include <atomic>
#include <doctest/doctest.h>
#include <thread>

using namespace herald;
using namespace herald::announce;
using namespace herald::announce::test;
using namespace std::chrono_literals;
using herald::test::eventually;

namespace {

SidekickOptions options_for(std::chrono::seconds ttl, std::chrono::milliseconds refresh) {
  SidekickOptions options;
  options.registration.name = InstanceName{"web", "1"};
  options.registration.key = "/services/web/web/web@1";
  options.registration.value = "10.0.0.5:3000";
  options.registration.address = HostPort{"10.0.0.5", 3000};
  options.registration.ttl = ttl;
  options.refresh = refresh;
  options.retry.initial = 20ms;
  options.retry.cap = 100ms;
  options.probe.interval = 20ms;
  options.probe.timeout = 20ms;
  options.probe.rise = 2;
  options.probe.fall = 2;
  return options;
}

/// Runs a Sidekick on its own thread; stops it and joins on destruction.
class Running {
public:
  explicit Running(Sidekick& sidekick) : m_sidekick(sidekick) {}
  ~Running() { stop(); }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;

  void start(StopToken& stop) {
    m_stop = &stop;
    m_thread = std::thread([this] {
      try {
        m_sidekick.run();
      } catch (const Error& e) {
        m_error_kind = e.kind();
        m_error = e.what();
      }
      m_done = true;
    });
  }
  void stop() {
    if (m_stop != nullptr) {
      m_stop->request();
    }
    if (m_thread.joinable()) {
      m_thread.join();
    }
  }
  bool done() const { return m_done; }
  std::optional<ErrorKind> error_kind() const { return m_error_kind; }
  std::string error() const { return m_error; }

private:
  Sidekick& m_sidekick;
  StopToken* m_stop = nullptr;
  std::thread m_thread;
  std::atomic<bool> m_done{false};
  std::optional<ErrorKind> m_error_kind;
  std::string m_error;
};

bool has_key(registry::Registry& registry, const std::string& key) {
  return registry.get(key).has_value();
}

const std::string k_key = "/services/web/web/web@1";

} // namespace

TEST_SUITE_BEGIN("announce");

TEST_CASE("the sidekick registers the instance and keeps it alive past its TTL") {
  LogCapture log;
  auto memory = registry::make_memory_registry();
  SwitchableRegistry registry(*memory);
  StopToken stop;
  Sidekick sidekick(registry, options_for(1s, 100ms), stop);
  Running running(sidekick);
  running.start(stop);

  REQUIRE(eventually([&] { return has_key(*memory, k_key); }, 2s));
  auto kv = memory->get(k_key);
  REQUIRE(kv.has_value());
  CHECK(kv->value == "10.0.0.5:3000");
  REQUIRE(kv->ttl.has_value());
  CHECK(*kv->ttl <= 1s);
  // Twice the TTL later it is still there: refreshed, not re-created.
  auto created = kv->create_index;
  herald::test::sleep_ms(2000);
  auto later = memory->get(k_key);
  REQUIRE(later.has_value());
  CHECK(later->create_index == created);
  CHECK(registry.registers == 1);
  CHECK(registry.refreshes >= 10);
  // One line for the registration, none for the heartbeats.
  CHECK(log.count("registered web@1 at /services/web/web/web@1 = 10.0.0.5:3000 (ttl 1s)") == 1);
  CHECK(log.lines().size() == 1);
  CHECK_FALSE(running.done());
}

TEST_CASE("the sidekick deregisters and returns as soon as the stop token fires") {
  LogCapture log;
  auto memory = registry::make_memory_registry();
  StopToken stop;
  Sidekick sidekick(*memory, options_for(60s, 20s), stop);
  Running running(sidekick);
  running.start(stop);
  REQUIRE(eventually([&] { return has_key(*memory, k_key); }, 2s));

  auto start = std::chrono::steady_clock::now();
  running.stop();
  CHECK(std::chrono::steady_clock::now() - start < 500ms);
  CHECK(running.done());
  CHECK_FALSE(running.error_kind().has_value());
  CHECK_FALSE(has_key(*memory, k_key));
  CHECK(log.count("deregistered web@1") == 1);
}

TEST_CASE("the sidekick deregisters through the cleanup registry when it has one") {
  auto memory = registry::make_memory_registry();
  SwitchableRegistry main_registry(*memory);
  auto cleanup_calls = std::make_shared<std::atomic<int>>(0);
  StopToken stop;
  Sidekick sidekick(main_registry, options_for(60s, 20s), stop);
  registry::Registry* shared = memory.get();
  sidekick.set_cleanup(registry::Opener([&, cleanup_calls](const registry::Options& options) {
    // Not bound to the fired stop token, or it could not deregister.
    if (options.stop == nullptr) {
      ++*cleanup_calls;
    }
    return std::make_unique<SwitchableRegistry>(*shared);
  }));
  Running running(sidekick);
  running.start(stop);
  REQUIRE(eventually([&] { return has_key(*memory, k_key); }, 2s));
  // The main registry would now refuse: only the cleanup one can remove the key.
  main_registry.down = true;
  running.stop();
  CHECK(*cleanup_calls == 1);
  CHECK(main_registry.deregisters == 0);
  CHECK_FALSE(has_key(*memory, k_key));
}

TEST_CASE("the sidekick registers again when its key was deleted by someone else") {
  LogCapture log;
  auto memory = registry::make_memory_registry();
  StopToken stop;
  Sidekick sidekick(*memory, options_for(2s, 100ms), stop);
  Running running(sidekick);
  running.start(stop);
  REQUIRE(eventually([&] { return has_key(*memory, k_key); }, 2s));
  memory->remove(k_key);
  CHECK(eventually([&] { return has_key(*memory, k_key); }, 1s));
}

TEST_CASE(
    "two sidekicks announcing one instance with different values warn once, not flip silently") {
  LogCapture log;
  auto memory = registry::make_memory_registry();
  StopToken stop;
  Sidekick first(*memory, options_for(2s, 100ms), stop);
  auto other_options = options_for(2s, 100ms);
  other_options.registration.value = "10.0.0.6:3000\x1b[2J"; // escaped in the log
  Sidekick second(*memory, other_options, stop);
  Running one(first);
  Running two(second);
  one.start(stop);
  two.start(stop);
  auto both_warned = [&] {
    return log.count("another writer changed /services/web/web/web@1 to '10.0.0.6:3000\\x1b[2J' "
                     "while this sidekick announces '10.0.0.5:3000'") >= 1 &&
           log.count("another writer changed /services/web/web/web@1 to '10.0.0.5:3000' while "
                     "this sidekick announces '10.0.0.6:3000\\x1b[2J'") >= 1;
  };
  CHECK(eventually(both_warned, 3s));
  std::this_thread::sleep_for(1s); // ten more refreshes each, still fighting
  one.stop();
  two.stop();
  CHECK(log.count("another writer changed") == 2); // one per sidekick: the next is a minute away
  CHECK(log.count("two sidekicks announce the same instance") == 2);
  for (const auto& line : log.lines()) {
    CHECK(line.find('\x1b') == std::string::npos);
  }
}

TEST_CASE("an outage longer than the TTL is logged once and the lapsed registration comes back") {
  LogCapture log;
  auto memory = registry::make_memory_registry();
  SwitchableRegistry registry(*memory);
  StopToken stop;
  Sidekick sidekick(registry, options_for(1s, 100ms), stop);
  Running running(sidekick);
  running.start(stop);
  REQUIRE(eventually([&] { return has_key(*memory, k_key); }, 2s));

  registry.down = true;
  // The lease lapses while the registry is unreachable.
  REQUIRE(eventually([&] { return !has_key(*memory, k_key); }, 3s));
  herald::test::sleep_ms(500);
  int failures = registry.failures;
  CHECK(failures >= 3);   // it kept trying...
  CHECK(failures <= 100); // ...with backoff, not in a tight loop
  registry.down = false;
  // Back within one refresh period (the backoff is capped by it) plus scheduling slack.
  CHECK(eventually([&] { return has_key(*memory, k_key); }, 1s));
  herald::test::sleep_ms(300);
  CHECK(log.count("registry lost:") == 1);
  CHECK(log.count("registry back after") == 1);
  CHECK(log.count("registered again") == 1);
  CHECK(log.lines().size() == 4); // registered, lost, back, registered again
}

TEST_CASE("a short outage leaves the registration alone and logs lost and back once each") {
  LogCapture log;
  auto memory = registry::make_memory_registry();
  SwitchableRegistry registry(*memory);
  StopToken stop;
  Sidekick sidekick(registry, options_for(5s, 100ms), stop);
  Running running(sidekick);
  running.start(stop);
  REQUIRE(eventually([&] { return has_key(*memory, k_key); }, 2s));
  auto created = memory->get(k_key)->create_index;
  registry.down = true;
  herald::test::sleep_ms(600);
  registry.down = false;
  REQUIRE(eventually([&] { return log.count("registry back after") == 1; }, 2s));
  CHECK(memory->get(k_key)->create_index == created);
  CHECK(registry.registers == 1);
  CHECK(log.count("registry lost:") == 1);
}

TEST_CASE("a non-retryable registry error stops the sidekick with that error") {
  LogCapture log;
  auto memory = registry::make_memory_registry();
  SwitchableRegistry registry(*memory);
  registry.failure_kind = ErrorKind::config;
  registry.down = true;
  StopToken stop;
  Sidekick sidekick(registry, options_for(5s, 100ms), stop);
  Running running(sidekick);
  running.start(stop);
  REQUIRE(eventually([&] { return running.done(); }, 2s));
  CHECK(running.error_kind() == std::optional<ErrorKind>(ErrorKind::config));
  CHECK(registry.failures == 1);
}

TEST_CASE("the sidekick withdraws after fall failures and restores after rise passes") {
  LogCapture log;
  auto memory = registry::make_memory_registry();
  SwitchableRegistry registry(*memory);
  StopToken stop;
  auto passing = std::make_shared<std::atomic<bool>>(true);
  auto probe = std::make_unique<ScriptedProbe>(passing);
  auto* probe_view = probe.get();
  Sidekick sidekick(registry, options_for(5s, 1s), stop);
  sidekick.set_probe(std::move(probe));
  Running running(sidekick);
  running.start(stop);
  REQUIRE(eventually([&] { return has_key(*memory, k_key); }, 2s));

  *passing = false;
  int checks_before = probe_view->checks;
  REQUIRE(eventually([&] { return !has_key(*memory, k_key); }, 2s));
  // fall = 2: at least two failing checks before the withdrawal.
  CHECK(probe_view->checks - checks_before >= 2);
  CHECK(registry.withdraws == 1);
  CHECK(log.count("withdrawn web@1: health check failed: scripted failure") == 1);
  herald::test::sleep_ms(200);
  CHECK_FALSE(has_key(*memory, k_key)); // no refresh brings it back while failing

  *passing = true;
  REQUIRE(eventually([&] { return has_key(*memory, k_key); }, 2s));
  CHECK(log.count("restored web@1") == 1);
  CHECK(registry.registers == 2);
}

TEST_CASE("a probe failing at start-up keeps the instance out until it passes") {
  LogCapture log;
  auto memory = registry::make_memory_registry();
  StopToken stop;
  auto passing = std::make_shared<std::atomic<bool>>(false);
  auto probe = std::make_unique<ScriptedProbe>(passing);
  auto* probe_view = probe.get();
  Sidekick sidekick(*memory, options_for(5s, 1s), stop);
  sidekick.set_probe(std::move(probe));
  Running running(sidekick);
  running.start(stop);
  REQUIRE(eventually([&] { return probe_view->checks >= 5; }, 2s));
  CHECK_FALSE(has_key(*memory, k_key));
  CHECK(log.count("not registering web@1: health check failed") == 1);
  *passing = true;
  REQUIRE(eventually([&] { return has_key(*memory, k_key); }, 2s));
  running.stop();
  CHECK_FALSE(has_key(*memory, k_key));
}

TEST_CASE("register_once writes the key with its TTL and keeps nothing running") {
  LogCapture log;
  auto memory = registry::make_memory_registry();
  StopToken stop;
  Sidekick sidekick(*memory, options_for(30s, 10s), stop);
  sidekick.register_once();
  auto kv = memory->get(k_key);
  REQUIRE(kv.has_value());
  CHECK(kv->value == "10.0.0.5:3000");
  REQUIRE(kv->ttl.has_value());
  CHECK(*kv->ttl > 25s);
  CHECK(*kv->ttl <= 30s);
  CHECK(log.count("registered web@1") == 1);
}

TEST_CASE("register_once with a failing probe registers nothing and reports unavailable") {
  auto memory = registry::make_memory_registry();
  StopToken stop;
  Sidekick sidekick(*memory, options_for(30s, 10s), stop);
  sidekick.set_probe(std::make_unique<ScriptedProbe>(std::make_shared<std::atomic<bool>>(false)));
  try {
    sidekick.register_once();
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::unavailable);
    CHECK(std::string(e.what()).find("health check failed: scripted failure") != std::string::npos);
  }
  CHECK_FALSE(has_key(*memory, k_key));
}

TEST_CASE("register_once passes registry errors through") {
  auto memory = registry::make_memory_registry();
  SwitchableRegistry registry(*memory);
  registry.down = true;
  StopToken stop;
  Sidekick sidekick(registry, options_for(30s, 10s), stop);
  CHECK_THROWS_AS(sidekick.register_once(), Error);
  CHECK_FALSE(has_key(*memory, k_key));
}

TEST_SUITE_END();
