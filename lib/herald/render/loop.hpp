#pragma once

#include "herald/core/exit_code.hpp"
#include "herald/core/retry.hpp"
#include "herald/core/stop.hpp"
#include "herald/registry/opener.hpp"
#include "herald/registry/registry.hpp"
#include "herald/render/debounce.hpp"
#include "herald/render/guard.hpp"
#include "herald/render/install.hpp"
#include "herald/render/resource.hpp"
#include "herald/render/service_view.hpp"
#include "herald/tmpl/template.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace herald::render {

/// When render renders (confd's -onetime, -interval, -watch).
enum class Mode {
  once,     ///< one snapshot, every resource once; exit non-zero on any failure
  interval, ///< a fresh snapshot every interval; unchanged output is not rewritten
  watch     ///< one registry watch shared by all resources; renders what a change touched
};

/// How the loop runs, beyond the resources themselves.
struct LoopOptions {
  Mode mode = Mode::once;
  std::chrono::milliseconds interval{std::chrono::seconds(600)}; ///< confd's -interval default
  WaitSpec wait;          ///< --wait MIN:MAX debounce of watch bursts (default: none)
  bool noop = false;      ///< print a unified diff of what would change; touch nothing
  bool to_stdout = false; ///< print the render instead of installing it
  DropPolicy drop;        ///< --max-drop / --allow-empty
  InstallOptions install; ///< --cmd-timeout (its stop is the loop's)
  tmpl::ExecOptions exec; ///< --max-output
  /// The longest single watch request; the watch is simply renewed after it.
  std::chrono::milliseconds watch_timeout{std::chrono::seconds(60)};
  /// Retries after a registry error; --interval caps its delays at the interval.
  RetryPolicy retry;
  /// The clock --wait measures bursts by; a test hands in one it moves by hand.
  std::function<std::chrono::steady_clock::time_point()> clock = [] {
    return std::chrono::steady_clock::now();
  };
  /// Opens more connections to the registry: --watch of a template calling `service` waits on
  /// wait_instances() and the key watch at once, each on its own connection. Optional for the
  /// (thread-safe) memory backend.
  registry::Opener open_registry;
};

/// Where --stdout and --noop output goes (the command hands in stdout).
using OutputSink = std::function<void(std::string_view)>;

/// How a run ended.
struct LoopResult {
  ExitCode code = ExitCode::ok;
  /// Once mode: one line per resource that failed, for the command to print. Loops log them.
  std::vector<std::string> failures;
};

/// Renders a set of template resources from one registry, as confd's processor does, with
/// herald's rules: one consistent snapshot per render indexed once into each template's
/// KvStore; atomic install with check/reload/rollback; the drop guard; a registry outage in a
/// loop keeps every dest untouched, logs once when lost and once when back, and resumes (a
/// change made meanwhile is rendered when it returns). SIGTERM/SIGINT (the StopToken, also
/// given to the registry) end a loop with exit 0.
class RenderLoop {
public:
  /// Checks every resource (validate_resource) and parses its template, so bad input fails
  /// before anything is read or written: Error(config) or Error(data) naming the resource.
  RenderLoop(registry::Registry& registry, std::vector<TemplateResource> resources,
             LoopOptions options, const StopToken& stop, OutputSink out);
  ~RenderLoop();
  RenderLoop(const RenderLoop&) = delete;
  RenderLoop& operator=(const RenderLoop&) = delete;

  /// Runs in the configured mode. Once mode throws the registry's Error when the snapshot
  /// cannot be read (69 unavailable); loops only return on a stop or on a registry error that
  /// retrying cannot fix (credentials, configuration).
  LoopResult run();

  /// The registry directory every list and the one watch cover.
  const std::string& watch_prefix() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace herald::render
