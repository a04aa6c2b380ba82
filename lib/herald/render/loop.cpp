#include "herald/render/loop.hpp"

#include "herald/core/duration.hpp"
#include "herald/core/strings.hpp"
#include "herald/render/diff.hpp"
#include "herald/render/key_view.hpp"
#include "herald/render/template_file.hpp"
#include "herald/tmpl/funcs_confd.hpp"

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>
#include <map>
#include <optional>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

namespace herald::render {

namespace {

using Clock = std::chrono::steady_clock;

/// "etcd v3" / "etcd v2" for messages, from Registry::backend().
std::string keyspace_name(std::string_view backend) {
  if (backend == "etcd3") {
    return "etcd v3";
  }
  if (backend == "etcd2") {
    return "etcd v2";
  }
  return std::string(backend);
}

/// True when dest exists and is not empty. A stat, not a read: in --watch this runs for every
/// change, and install() reads dest once anyway.
bool dest_has_content(const std::string& dest) {
  struct stat info {};
  if (::stat(dest.c_str(), &info) == 0) {
    return info.st_size > 0;
  }
  if (errno == ENOENT) {
    return false;
  }
  return !read_dest(dest).value_or("").empty(); // throws the error that names dest
}

/// Milliseconds since `start`, for debug lines.
double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

/// The --registry URL reading the other keyspace of the same server.
std::string other_keyspace_url(std::string_view backend, std::string_view url) {
  auto sep = url.find("://");
  std::string_view rest = sep == std::string_view::npos ? url : url.substr(sep + 3);
  bool tls = sep != std::string_view::npos && url.substr(0, sep).ends_with("+https");
  std::string scheme = backend == "etcd3" ? "etcd2" : "etcd";
  return fmt::format("{}{}://{}", scheme, tls ? "+https" : "", rest);
}

} // namespace

/// One resource with its parsed template and what the loop remembers about it.
struct Slot {
  TemplateResource resource;
  tmpl::Template templ;
  std::size_t view = 0;
  std::optional<std::size_t> installed_count; ///< instances in the last render installed
  std::string failure;                        ///< the last failure, "" while healthy
  bool dirty = true;                          ///< a change touched its keys since its render
  /// The render buffer, reused so that --watch does not allocate 400 KB per change.
  std::string output;
  /// What its last install left at dest.
  InstalledFile installed;
  /// Set when its template calls `routes`: the keys that view skips are then reported.
  std::shared_ptr<RouteReads> reads = std::make_shared<RouteReads>();
  /// The skipped keys already reported (key -> why), so each bad key is logged once.
  std::map<std::string, std::string, std::less<>> reported;
  /// Installs applied through haproxy's runtime API instead of reload_cmd, for the log.
  std::size_t reloads_avoided = 0;
};

struct RenderLoop::Impl {
  registry::Registry& registry;
  LoopOptions options;
  const StopToken& stop;
  OutputSink out;
  std::vector<std::unique_ptr<KeyView>> views;
  std::vector<Slot> slots;
  /// What `service`/`services` read (consul-template functions), loaded only when used.
  std::shared_ptr<ServiceView> services = std::make_shared<ServiceView>();
  std::unique_ptr<ChangeFeed> feed; ///< --watch with services: keys and instances at once
  std::string prefix;               ///< what list() and watch() cover

  Impl(registry::Registry& r, std::vector<TemplateResource> resources, LoopOptions o,
       const StopToken& s, OutputSink sink)
      : registry(r), options(o), stop(s), out(std::move(sink)) {
    options.install.stop = &stop; // a stop ends a running check_cmd
    bool installs = !options.noop && !options.to_stdout;
    std::vector<std::string> all_keys;
    for (auto& resource : resources) {
      validate_resource(resource, installs);
      std::vector<std::string> keys = resource.registry_keys();
      all_keys.insert(all_keys.end(), keys.begin(), keys.end());
      // Resources reading the same keys with the same prefix share one index.
      std::size_t view = 0;
      while (view < views.size() &&
             !(views[view]->prefix() == resource.prefix && views[view]->registry_keys() == keys)) {
        ++view;
      }
      if (view == views.size()) {
        views.push_back(std::make_unique<KeyView>(resource.prefix, keys));
      }
      auto reads = std::make_shared<RouteReads>();
      tmpl::Template templ = load_template(resource, views[view]->store(), services, reads);
      slots.push_back(Slot{std::move(resource),
                           std::move(templ),
                           view,
                           std::nullopt,
                           {},
                           true,
                           {},
                           {},
                           std::move(reads),
                           {},
                           0});
    }
    prefix = common_parent(all_keys);
  }

  // --- one resource, one step each (confd's process(): setVars, createStageFile, sync) --------

  /// Explains an empty view when the other etcd keyspace has keys there (etcd 3.4+ keeps v2 and
  /// v3 apart; confd rendered an empty file in this case and said nothing).
  void check_keyspace(const Slot& slot) {
    const KeyView& view = *views[slot.view];
    if (view.size() != 0) {
      return;
    }
    for (const auto& key : view.registry_keys()) {
      std::optional<std::size_t> other;
      try {
        other = registry.count_in_other_keyspace(key);
      } catch (...) {
        other.reset(); // a diagnostic must never turn into a failure of its own
      }
      if (!other || *other == 0) {
        continue;
      }
      std::string backend(registry.backend());
      std::string message = fmt::format(
          "{}: no keys under {} in {}, but {} has {}: use --registry {} (etcd 3.4+ keeps the v2 "
          "and v3 keyspaces apart)",
          slot.resource.name, key, keyspace_name(backend),
          keyspace_name(backend == "etcd3" ? "etcd2" : "etcd3"), *other,
          other_keyspace_url(backend, registry.describe()));
      if (options.drop.allow_empty || options.to_stdout || options.noop) {
        spdlog::warn("{}", message);
        return;
      }
      throw Error(ErrorKind::config, message);
    }
  }

  /// What the drop guard counts: the instances among the keys of the slot's view (keys the route
  /// model reads as valid instances: not /services/domain, not a malformed value), plus the
  /// instances `service` reads (all resources share them; a template reading only services has
  /// no keys).
  std::size_t count_of(const Slot& slot) const {
    return views[slot.view]->instance_count() +
           (services->wanted() ? services->service_instances().size() : 0);
  }

  /// How many instances the slot's template could not see: the malformed keys of its view when it
  /// reads them through `routes`, and those `service` skipped.
  std::size_t skipped_of(const Slot& slot) const {
    return (slot.reads->called ? views[slot.view]->skipped().size() : 0) +
           (services->wanted() ? services->skipped().size() : 0);
  }

  /// One warning per key the instance views skip (escaped: a key cannot forge a log line), the
  /// first time it is skipped for a reason.
  void report_skipped(Slot& slot) {
    if (!slot.reads->called) {
      return;
    }
    const auto& skipped = views[slot.view]->skipped();
    for (const auto& [key, why] : skipped) {
      auto it = slot.reported.find(key);
      if (it == slot.reported.end() || it->second != why) {
        spdlog::warn("{}: skipping {}: {}", slot.resource.name, escape_control(key),
                     escape_control(why));
      }
    }
    slot.reported = skipped;
  }

  /// --noop: the diff against dest, nothing written.
  void show_diff(Slot& slot, const std::string& content) {
    std::string current = read_dest(slot.resource.dest).value_or("");
    std::string diff = unified_diff(current, content, slot.resource.dest + "\t(current)",
                                    slot.resource.dest + "\t(rendered)");
    if (diff.empty()) {
      spdlog::info("{}: {} is up to date", slot.resource.name, slot.resource.dest);
      return;
    }
    auto verdict = judge_drop(slot.installed_count, count_of(slot), !current.empty(), options.drop);
    if (!verdict.allowed) {
      spdlog::warn("{}: {} would not be installed: {}", slot.resource.name, slot.resource.dest,
                   verdict.reason);
    }
    out(diff);
  }

  /// Refuses a render that would empty or gut the router (--allow-empty, --max-drop).
  void guard_drop(const Slot& slot, std::size_t count) {
    auto verdict =
        judge_drop(slot.installed_count, count, dest_has_content(slot.resource.dest), options.drop);
    if (!verdict.allowed) {
      // Exit 1 in once mode; in a loop the next change is judged again.
      throw Error(ErrorKind::failed, fmt::format("{}: {} left unchanged: {}", slot.resource.name,
                                                 slot.resource.dest, verdict.reason));
    }
  }

  void process(Slot& slot) {
    std::size_t count = count_of(slot);
    check_keyspace(slot);
    auto started = Clock::now();
    slot.reads->called = false;
    execute_template(slot.resource, slot.templ, slot.output, options.exec);
    double render_ms = ms_since(started);
    report_skipped(slot);
    if (options.to_stdout) {
      out(slot.output);
      return;
    }
    if (options.noop) {
      show_diff(slot, slot.output);
      return;
    }
    guard_drop(slot, count);
    started = Clock::now();
    InstallOutcome outcome = install(slot.resource, slot.output, options.install, slot.installed);
    spdlog::debug("{}: template executed in {:.1f} ms, installed in {:.1f} ms", slot.resource.name,
                  render_ms, ms_since(started));
    slot.installed_count = count;
    if (outcome != InstallOutcome::unchanged) {
      std::size_t skipped = skipped_of(slot);
      std::string how = slot.resource.reload_cmd ? " and reloaded" : "";
      if (outcome == InstallOutcome::applied_at_runtime) {
        ++slot.reloads_avoided;
        how = fmt::format(" and applied through haproxy's runtime API ({} reload{} avoided)",
                          slot.reloads_avoided, slot.reloads_avoided == 1 ? "" : "s");
      }
      spdlog::info("{}: installed {} ({} instance{}{}){}", slot.resource.name, slot.resource.dest,
                   count, count == 1 ? "" : "s",
                   skipped == 0 ? std::string() : fmt::format(", {} skipped", skipped), how);
    } else {
      spdlog::debug("{}: {} is up to date", slot.resource.name, slot.resource.dest);
    }
  }

  /// Renders the dirty slots (all when `everything`), collecting failures in once mode and
  /// logging each new failure (and each recovery) in a loop.
  void render(bool everything, LoopResult& result) {
    for (auto& slot : slots) {
      if (!everything && !slot.dirty) {
        continue;
      }
      slot.dirty = false;
      try {
        process(slot);
        if (!slot.failure.empty()) {
          spdlog::info("{}: rendering works again", slot.resource.name);
          slot.failure.clear();
        }
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::cancelled) {
          throw;
        }
        if (options.mode == Mode::once) {
          result.failures.emplace_back(e.what());
          if (result.code == ExitCode::ok) {
            result.code = exit_code_for(e.kind());
          }
        } else if (slot.failure != e.what()) {
          spdlog::error("{}", e.what());
          slot.failure = e.what();
        }
      }
    }
  }

  /// Reads one consistent snapshot of everything the resources read and indexes it once per
  /// view.
  std::int64_t load_snapshot() {
    registry::Snapshot snapshot = registry.list(prefix);
    for (auto& view : views) {
      view->load(snapshot);
    }
    if (services->wanted()) {
      services->load(registry);
    }
    return snapshot.index;
  }

  // --- registry outages ------------------------------------------------------------------------

  /// The two lines of an outage: lost (with the error) and back (with its length).
  static OutageLog registry_outage() {
    return OutageLog("registry", "every dest stays as it is until it is back");
  }

  /// Handles an error of a loop iteration: waits the backoff and returns true to try again, false
  /// to stop.
  bool recoverable(const Error& e, Retry& retry, LoopResult& result) {
    if (!e.retryable() && e.kind() != ErrorKind::cancelled && !stop.requested()) {
      spdlog::error("registry {}: {}", registry.describe(), e.what());
      result.code = exit_code_for(e.kind());
      return false;
    }
    return retry.wait_to_retry(e, stop);
  }

  // --- modes --------------------------------------------------------------------------------

  LoopResult run_once() {
    LoopResult result;
    load_snapshot();
    render(true, result);
    return result;
  }

  LoopResult run_interval() {
    LoopResult result;
    Retry retry(options.retry.capped_at(options.interval), registry_outage());
    std::optional<std::int64_t> rendered_index;
    std::uint64_t rendered_services = 0;
    while (!stop.requested()) {
      try {
        std::int64_t index = load_snapshot();
        retry.succeeded();
        bool failing = std::any_of(slots.begin(), slots.end(),
                                   [](const Slot& s) { return !s.failure.empty(); });
        // Nothing changed and nothing to retry: skip the render (confd re-renders every tick).
        if (!rendered_index || *rendered_index != index || failing ||
            rendered_services != services->generation()) {
          render(true, result);
          rendered_index = index;
          rendered_services = services->generation();
        }
      } catch (const Error& e) {
        if (!recoverable(e, retry, result)) {
          break;
        }
        continue;
      }
      stop.wait_for(options.interval);
    }
    return result;
  }

  LoopResult run_watch() {
    LoopResult result;
    Retry retry(options.retry, registry_outage());
    Debouncer debounce(options.wait);
    Clock::time_point seen_at;         // when the watch handed over the first change of the burst
    std::optional<std::int64_t> index; // nullopt: list (again) before watching
    spdlog::info("watching {} on {} for {} resource{}", prefix, registry.describe(), slots.size(),
                 slots.size() == 1 ? "" : "s");
    while (!stop.requested()) {
      try {
        if (!index) {
          index = load_snapshot();
          retry.succeeded();
          debounce.clear();
          render(true, result);
          continue;
        }
        auto now = options.clock();
        if (debounce.ready(now)) {
          debounce.clear();
          spdlog::debug("rendering a change seen {:.1f} ms ago",
                        std::chrono::duration<double, std::milli>(now - seen_at).count());
          render(false, result);
          continue;
        }
        auto wait = options.watch_timeout;
        if (debounce.pending()) {
          wait = std::max(std::chrono::milliseconds(1),
                          std::chrono::ceil<std::chrono::milliseconds>(debounce.due() - now));
        }
        FeedChange seen;
        if (services->wanted()) {
          if (!feed) {
            feed = std::make_unique<ChangeFeed>(registry, options.open_registry, services->query(),
                                                options.watch_timeout, stop);
          }
          seen = feed->wait(prefix, *index, wait);
        } else {
          seen.batch = registry.watch(prefix, *index, wait);
        }
        registry::WatchBatch& batch = seen.batch;
        retry.succeeded();
        if (batch.resync) {
          spdlog::info("registry {} no longer has the history after index {}; reading {} again",
                       registry.describe(), *index, prefix);
          index.reset();
          continue;
        }
        bool changed = false;
        for (const auto& event : batch.events) {
          for (std::size_t v = 0; v < views.size(); ++v) {
            if (views[v]->apply(event)) {
              changed = true;
              for (auto& slot : slots) {
                slot.dirty = slot.dirty || slot.view == v;
              }
            }
          }
        }
        index = batch.index;
        // Instances feed every template that calls `service`: read them again, render all.
        if (seen.instances_changed && services->load(registry)) {
          changed = true;
          for (auto& slot : slots) {
            slot.dirty = true;
          }
        }
        if (changed) {
          auto changed_at = options.clock();
          if (!debounce.pending()) {
            seen_at = changed_at;
          }
          debounce.change(changed_at);
        }
      } catch (const Error& e) {
        if (!recoverable(e, retry, result)) {
          break;
        }
      }
    }
    return result;
  }
};

RenderLoop::RenderLoop(registry::Registry& registry, std::vector<TemplateResource> resources,
                       LoopOptions options, const StopToken& stop, OutputSink out)
    : m_impl(
          std::make_unique<Impl>(registry, std::move(resources), options, stop, std::move(out))) {}

RenderLoop::~RenderLoop() = default;

const std::string& RenderLoop::watch_prefix() const {
  return m_impl->prefix;
}

LoopResult RenderLoop::run() {
  switch (m_impl->options.mode) {
  case Mode::once:
    return m_impl->run_once();
  case Mode::interval:
    return m_impl->run_interval();
  case Mode::watch:
    return m_impl->run_watch();
  }
  return {};
}

} // namespace herald::render
