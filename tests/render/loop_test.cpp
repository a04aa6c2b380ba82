// RenderLoop over the in-memory registry, no server needed: which resources a change renders,
// the --wait debounce (on a clock the test moves), registry outages and the drop guard. The
// tests wait on what the loop did (MemoryRegistry::await_watcher: the loop has taken in every
// change and is watching again), never for a fixed time.

#include "herald/core/error.hpp"
#include "herald/core/exit_code.hpp"
#include "herald/core/stop.hpp"
#include "herald/registry/memory/memory_registry.hpp"
#include "herald/render/command.hpp"
#include "herald/render/loop.hpp"
#include "support/log_capture.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <chrono>
#include <doctest/doctest.h>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <thread>
#include <utility>
#include <vector>

using namespace herald;
using namespace std::chrono_literals;
using registry::memory::MemoryRegistry;
using test::eventually;
using Words = std::vector<std::string>;

namespace {

// Every wait below ends as soon as its condition holds; the bound only keeps a broken loop from
// hanging the suite.
constexpr std::chrono::milliseconds k_bound = 10s;

/// confd style: one line per instance under /services/web.
constexpr std::string_view k_servers =
    "{{range gets \"/services/web/*\"}}server {{.Value}};\n{{end}}";

/// A steady clock that moves only when the test moves it.
class ManualClock {
public:
  using TimePoint = std::chrono::steady_clock::time_point;

  TimePoint now() const {
    std::lock_guard lock(m_mutex);
    return m_now;
  }
  void advance(std::chrono::milliseconds by) {
    std::lock_guard lock(m_mutex);
    m_now += by;
  }
  /// For LoopOptions::clock; the clock must outlive the loop.
  std::function<TimePoint()> function() const {
    return [this] { return now(); };
  }

private:
  mutable std::mutex m_mutex;
  TimePoint m_now{std::chrono::hours(1)};
};

/// What the loop printed (--stdout, --noop), one entry a render.
class Printed {
public:
  render::OutputSink sink() {
    return [this](std::string_view text) {
      std::lock_guard lock(m_mutex);
      m_texts.emplace_back(text);
    };
  }
  std::size_t size() const {
    std::lock_guard lock(m_mutex);
    return m_texts.size();
  }
  /// Everything printed after the first `from` renders.
  Words since(std::size_t from) const {
    std::lock_guard lock(m_mutex);
    return Words(m_texts.begin() + static_cast<std::ptrdiff_t>(std::min(from, m_texts.size())),
                 m_texts.end());
  }

private:
  mutable std::mutex m_mutex;
  Words m_texts;
};

/// Runs a loop on a thread of its own. stop() (also run by the destructor, so a failed REQUIRE
/// never leaves the thread behind) requests the stop and joins.
class LoopThread {
public:
  LoopThread(render::RenderLoop& loop, StopToken& stop)
      : m_stop(stop), m_thread([this, &loop] {
          try {
            m_result = loop.run();
          } catch (...) {
            m_error = std::current_exception();
          }
        }) {}
  ~LoopThread() { join(); }
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  /// Stops the loop; its result, or what it threw.
  render::LoopResult stop() {
    join();
    if (m_error) {
      std::rethrow_exception(std::exchange(m_error, nullptr));
    }
    return m_result;
  }

private:
  void join() {
    m_stop.request();
    if (m_thread.joinable()) {
      m_thread.join();
    }
  }

  StopToken& m_stop;
  render::LoopResult m_result;
  std::exception_ptr m_error;
  std::thread m_thread; // last: it starts once everything it writes exists
};

/// A memory registry whose watches end with the test's stop, and a directory for templates and
/// dests.
struct Setup {
  StopToken stop;
  MemoryRegistry registry{&stop};
  test::TempDir dir;

  /// A resource `name` rendering `text` from `keys` into DIR/NAME.conf.
  render::TemplateResource resource(const std::string& name, std::string_view text,
                                    Words keys) const {
    render::TemplateResource r;
    r.name = name;
    r.src = dir.write(name + ".tmpl", std::string(text));
    r.dest = dir.file(name + ".conf");
    r.keys = std::move(keys);
    return r;
  }

  /// `resource` with a reload_cmd that appends a line to DIR/NAME.reloads per reload.
  render::TemplateResource reloading(render::TemplateResource r) const {
    r.reload_cmd =
        render::split_command("sh -c 'echo reload >> \"$0\"' " + reloads_file(r), "reload_cmd");
    return r;
  }
  std::string reloads_file(const render::TemplateResource& r) const {
    return dir.file(r.name + ".reloads");
  }
  /// How often `r` was reloaded.
  std::size_t reloads(const render::TemplateResource& r) const {
    std::string text = test::read_file(reloads_file(r));
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  }

  /// Waits until the loop has taken in every change made so far (and rendered what was due).
  bool caught_up() { return registry.await_watcher(registry.revision(), k_bound); }
};

/// A watch loop that retries a lost registry quickly.
render::LoopOptions watching() {
  render::LoopOptions options;
  options.mode = render::Mode::watch;
  options.watch_timeout = 5s; // a blocked memory watch ends within 20 ms of a stop anyway
  options.retry.initial = 10ms;
  options.retry.cap = 40ms;
  return options;
}

render::OutputSink ignore_output() {
  return [](std::string_view) {};
}

/// dest's inode: install() renames a new file over dest, so an untouched dest keeps it.
ino_t inode_of(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_ino;
}

/// Runs a --stdout watch debounced by `wait` on a clock the test moves: one change per entry of
/// `gaps`, each seen by the loop (and not rendered) before the clock moves on by that gap.
/// Returns what rendered after the first render, once something did.
Words render_burst(render::WaitSpec wait, const std::vector<std::chrono::milliseconds>& gaps) {
  Setup s;
  ManualClock clock;
  auto options = watching();
  options.to_stdout = true;
  options.wait = wait;
  options.clock = clock.function();
  Printed printed;
  render::RenderLoop loop(s.registry, {s.resource("web", k_servers, {"/services/web"})}, options,
                          s.stop, printed.sink());
  LoopThread running(loop, s.stop);
  REQUIRE(s.caught_up());
  REQUIRE(printed.size() == 1); // the first render is not delayed
  for (std::size_t i = 0; i < gaps.size(); ++i) {
    s.registry.put("/services/web/k" + std::to_string(i + 1), std::to_string(i + 1));
    REQUIRE(s.caught_up());
    CHECK(printed.size() == 1); // seen, not rendered: the burst goes on
    clock.advance(gaps[i]);
  }
  CHECK(eventually([&] { return printed.size() > 1; }, k_bound));
  CHECK(running.stop().code == ExitCode::ok);
  return printed.since(1);
}

/// The lines logged after the first `from`.
Words logged_since(const test::LogCapture& log, std::size_t from) {
  Words all = log.lines();
  return Words(all.begin() + static_cast<std::ptrdiff_t>(std::min(from, all.size())), all.end());
}

} // namespace

TEST_SUITE_BEGIN("render");

TEST_CASE("a change renders exactly the resources whose keys it touches") {
  Setup s;
  s.registry.put("/services/web/a", "1");
  s.registry.put("/services/db/b", "2");
  auto values = [](const std::string& name) {
    return name + R"({{range gets "/services/*/*"}} {{.Value}}{{end}})";
  };
  std::vector<render::TemplateResource> resources{
      s.resource("web", values("web"), {"/services/web"}),
      s.resource("db", values("db"), {"/services/db"}),
      s.resource("both", values("both"), {"/services/web", "/services/db"})};
  auto options = watching();
  options.to_stdout = true;
  Printed printed;
  render::RenderLoop loop(s.registry, resources, options, s.stop, printed.sink());
  CHECK(loop.watch_prefix() == "/services");
  LoopThread running(loop, s.stop);

  REQUIRE(s.caught_up());
  CHECK(printed.since(0) == Words{"web 1", "db 2", "both 2 1"}); // the start renders everything

  std::size_t before = printed.size();
  s.registry.put("/services/web/c", "3");
  REQUIRE(s.caught_up());
  CHECK(printed.since(before) == Words{"web 1 3", "both 2 1 3"});

  before = printed.size();
  s.registry.remove("/services/db/b");
  REQUIRE(s.caught_up());
  CHECK(printed.since(before) == Words{"db", "both 1 3"});

  // Under the watched prefix but read by no resource: nothing renders.
  before = printed.size();
  s.registry.put("/services/cache/x", "4");
  REQUIRE(s.caught_up());
  CHECK(printed.size() == before);
  CHECK(running.stop().code == ExitCode::ok);
}

TEST_CASE("--wait renders a burst once, MIN after its last change") {
  // Changes at +0, +60 and +120 ms, then quiet: due at +220 ms, long before MAX.
  Words rendered = render_burst({100ms, 1000ms}, {60ms, 60ms, 100ms});
  CHECK(rendered == Words{"server 1;\nserver 2;\nserver 3;\n"});
}

TEST_CASE("--wait renders a burst that never settles MAX after its first change") {
  // Changes at +0, +90 and +180 ms, never 100 ms of quiet: due at +250 ms, MAX after the first,
  // before MIN after the last (+280 ms).
  Words rendered = render_burst({100ms, 250ms}, {90ms, 90ms, 70ms});
  CHECK(rendered == Words{"server 1;\nserver 2;\nserver 3;\n"});
}

TEST_CASE("a registry outage leaves dest untouched and renders what changed meanwhile once") {
  Setup s;
  test::LogCapture log;
  s.registry.put("/services/web/a", "10.0.0.1:80");
  auto web = s.reloading(s.resource("web", k_servers, {"/services/web"}));
  render::RenderLoop loop(s.registry, {web}, watching(), s.stop, ignore_output());
  LoopThread running(loop, s.stop);
  REQUIRE(s.caught_up());
  REQUIRE(test::read_file(web.dest) == "server 10.0.0.1:80;\n");
  REQUIRE(s.reloads(web) == 1);
  ino_t installed = inode_of(web.dest);

  std::size_t before_outage = log.lines().size();
  s.registry.set_read_outage(ErrorKind::unavailable);
  s.registry.put("/services/web/b", "10.0.0.2:80"); // reaches the registry, not the loop
  // The loop keeps trying (10, 20, 40 ms apart) and touches nothing.
  CHECK(eventually([&] { return s.registry.refused_reads() >= 5; }, k_bound));
  CHECK(test::read_file(web.dest) == "server 10.0.0.1:80;\n");
  ino_t inode_now = inode_of(web.dest);
  CHECK(inode_now == installed);
  CHECK(s.reloads(web) == 1);
  Words while_lost = logged_since(log, before_outage);
  REQUIRE(while_lost.size() == 1); // one line when lost, none per attempt
  CHECK(while_lost[0].starts_with("warning: "));
  CHECK(while_lost[0].find("memory://") != std::string::npos);

  std::size_t before_return = log.lines().size();
  s.registry.set_read_outage(std::nullopt);
  CHECK(eventually(
      [&] { return test::read_file(web.dest) == "server 10.0.0.1:80;\nserver 10.0.0.2:80;\n"; },
      k_bound));
  REQUIRE(s.caught_up());
  CHECK(s.reloads(web) == 2);
  CHECK(running.stop().code == ExitCode::ok);
  Words back = logged_since(log, before_return);
  CHECK(std::count_if(back.begin(), back.end(), [](const std::string& line) {
          return line.find("registry back after") != std::string::npos;
        }) == 1); // one line when back
}

TEST_CASE("a watch started while the registry is down renders once it is back") {
  Setup s;
  s.registry.put("/services/web/a", "10.0.0.1:80");
  auto web = s.reloading(s.resource("web", k_servers, {"/services/web"}));
  s.dir.write("web.conf", "server 10.0.0.9:80;\n");
  s.registry.set_read_outage(ErrorKind::unavailable);
  render::RenderLoop loop(s.registry, {web}, watching(), s.stop, ignore_output());
  LoopThread running(loop, s.stop);
  CHECK(eventually([&] { return s.registry.refused_reads() >= 3; }, k_bound));
  CHECK(test::read_file(web.dest) == "server 10.0.0.9:80;\n");
  CHECK(s.reloads(web) == 0);

  s.registry.set_read_outage(std::nullopt);
  REQUIRE(eventually([&] { return s.reloads(web) == 1; }, k_bound));
  REQUIRE(s.caught_up());
  CHECK(test::read_file(web.dest) == "server 10.0.0.1:80;\n");
  CHECK(s.reloads(web) == 1);
  CHECK(running.stop().code == ExitCode::ok);
}

TEST_CASE("render --onetime with the registry down fails as unavailable and leaves dest alone") {
  Setup s;
  s.registry.put("/services/web/a", "10.0.0.1:80");
  auto web = s.resource("web", k_servers, {"/services/web"});
  s.dir.write("web.conf", "server 10.0.0.9:80;\n");
  s.registry.set_read_outage(ErrorKind::unavailable);
  render::LoopOptions options; // once
  render::RenderLoop loop(s.registry, {web}, options, s.stop, ignore_output());
  std::optional<ErrorKind> kind;
  try {
    loop.run();
  } catch (const Error& e) {
    kind = e.kind();
  }
  CHECK(kind == ErrorKind::unavailable);
  CHECK(test::read_file(web.dest) == "server 10.0.0.9:80;\n");
}

TEST_CASE("the drop guard refuses a render that guts the router, then accepts one within it") {
  Setup s;
  test::LogCapture log;
  for (char c : std::string("abcd")) {
    s.registry.put(std::string("/services/web/") + c,
                   std::string("10.0.0.1:8") + char('1' + (c - 'a')));
  }
  auto web = s.reloading(s.resource("web", k_servers, {"/services/web"}));
  render::RenderLoop loop(s.registry, {web}, watching(), s.stop, ignore_output()); // --max-drop 50
  LoopThread running(loop, s.stop);
  REQUIRE(s.caught_up());
  std::string all_four = test::read_file(web.dest);
  REQUIRE(all_four == "server 10.0.0.1:81;\nserver 10.0.0.1:82;\nserver 10.0.0.1:83;\n"
                      "server 10.0.0.1:84;\n");
  REQUIRE(s.reloads(web) == 1);

  // TTLs lapse during a network blip: three of four instances vanish in one batch.
  s.registry.set_read_outage(ErrorKind::unavailable);
  for (char c : std::string("bcd")) {
    s.registry.remove(std::string("/services/web/") + c);
  }
  s.registry.set_read_outage(std::nullopt);
  REQUIRE(s.caught_up());
  CHECK(test::read_file(web.dest) == all_four);
  CHECK(s.reloads(web) == 1);
  CHECK(log.count("left unchanged") == 1);

  // One comes back: 2 of the 4 installed is a 50% drop, within --max-drop 50.
  s.registry.put("/services/web/b", "10.0.0.1:82");
  REQUIRE(s.caught_up());
  CHECK(test::read_file(web.dest) == "server 10.0.0.1:81;\nserver 10.0.0.1:82;\n");
  CHECK(s.reloads(web) == 2);
  CHECK(log.count("rendering works again") == 1);
  CHECK(running.stop().code == ExitCode::ok);
}

TEST_CASE("render --onetime refuses an empty snapshot over a non-empty dest unless --allow-empty") {
  Setup s;
  auto web = s.resource("web", k_servers, {"/services/web"});
  s.dir.write("web.conf", "server 10.0.0.9:80;\n");
  render::LoopOptions options; // once

  render::LoopResult refused =
      render::RenderLoop(s.registry, {web}, options, s.stop, ignore_output()).run();
  CHECK(refused.code == ExitCode::failure);
  REQUIRE(refused.failures.size() == 1);
  CHECK(refused.failures[0].find("--allow-empty") != std::string::npos);
  CHECK(test::read_file(web.dest) == "server 10.0.0.9:80;\n");

  options.drop.allow_empty = true;
  render::LoopResult accepted =
      render::RenderLoop(s.registry, {web}, options, s.stop, ignore_output()).run();
  CHECK(accepted.code == ExitCode::ok);
  CHECK(accepted.failures.empty());
  CHECK(test::read_file(web.dest).empty());
}

// --- the guards count instances, and the instance views skip what fails the trust model --------

/// nginx-host.toml's keys: the instances and a domain key that is not one.
const Words k_host_keys{"/services/web", "/services/domain"};

/// The bundled templates' way of reading instances: only what passes the rule.
constexpr std::string_view k_routes =
    "{{range routes \"/services/web\"}}{{.Name}}:{{range .Instances}} {{.Address}}{{end}}\n{{end}}";

TEST_CASE("render --onetime counts instances, not keys: a domain key alone is an empty render") {
  Setup s;
  s.registry.put("/services/domain", "example.com");
  auto web = s.resource("web", k_routes, k_host_keys);
  s.dir.write("web.conf", "web: 10.0.0.1:80\n");
  render::LoopResult refused =
      render::RenderLoop(s.registry, {web}, render::LoopOptions{}, s.stop, ignore_output()).run();
  CHECK(refused.code == ExitCode::failure);
  REQUIRE(refused.failures.size() == 1);
  CHECK(refused.failures[0].find("no instances") != std::string::npos);
  CHECK(test::read_file(web.dest) == "web: 10.0.0.1:80\n");
}

TEST_CASE("render --onetime counts a malformed value as no instance") {
  Setup s;
  s.registry.put("/services/web/web/web@1", "127.0.0.1;}server{listen 80;}upstream x{server a:1");
  auto web = s.resource("web", k_servers, {"/services/web"});
  s.dir.write("web.conf", "server 10.0.0.1:80;\n");
  render::LoopResult refused =
      render::RenderLoop(s.registry, {web}, render::LoopOptions{}, s.stop, ignore_output()).run();
  CHECK(refused.code == ExitCode::failure);
  CHECK(test::read_file(web.dest) == "server 10.0.0.1:80;\n");
}

TEST_CASE("render --watch refuses the last 1 -> 0 instance step with a domain key present") {
  Setup s;
  test::LogCapture log;
  s.registry.put("/services/domain", "example.com");
  s.registry.put("/services/web/web/web@1", "10.0.0.1:80");
  auto web = s.reloading(s.resource("web", k_routes, k_host_keys));
  render::RenderLoop loop(s.registry, {web}, watching(), s.stop, ignore_output());
  LoopThread running(loop, s.stop);
  REQUIRE(s.caught_up());
  REQUIRE(test::read_file(web.dest) == "web: 10.0.0.1:80\n");
  CHECK(log.count("(1 instance)") == 1);

  s.registry.remove("/services/web/web/web@1");
  REQUIRE(s.caught_up());
  CHECK(test::read_file(web.dest) == "web: 10.0.0.1:80\n");
  CHECK(s.reloads(web) == 1);
  CHECK(log.count("no instances") == 1);
  CHECK(running.stop().code == ExitCode::ok);
}

TEST_CASE("routes skips a malformed instance, warns once per key escaped, and counts it") {
  Setup s;
  test::LogCapture log;
  s.registry.put("/services/web/web/web@1", "10.0.0.1:80");
  s.registry.put("/services/web/web/web@2", "10.0.0.2:80\nfrontend evil");
  s.registry.put("/services/web/api/api@1", R"({"host":"10.0.0.3","port":80,"tags":["a\nb"]})");
  s.registry.put("/services/web/x;y/x;y@1", "10.0.0.4:80");
  auto web = s.resource("web", k_routes, {"/services/web"});
  render::LoopResult result =
      render::RenderLoop(s.registry, {web}, render::LoopOptions{}, s.stop, ignore_output()).run();
  CHECK(result.code == ExitCode::ok);
  CHECK(test::read_file(web.dest) == "web: 10.0.0.1:80\n");
  CHECK(log.count("skipping") == 3);
  CHECK(log.count("skipping /services/web/web/web@2: ") == 1);
  CHECK(log.count("(1 instance, 3 skipped)") == 1);
  for (const auto& line : log.lines()) {
    CHECK(line.find('\n') == std::string::npos);
  }
}
