#pragma once

#include "herald/core/stop.hpp"
#include "herald/registry/registry.hpp"

#include <functional>
#include <memory>
#include <string>

namespace herald::registry {

/// Opens connections to one registry, each bound to the stop token its user names: a command's
/// main connection, the extra ones a watcher blocks on in a thread of its own, and the one that
/// deregisters after the stop token fired. A Registry is used from one thread at a time, so code
/// that needs another connection is handed an Opener, never a URL. Cheap to copy; it holds the
/// connection settings (secrets included, never logged).
class Opener {
public:
  /// Opens a registry with `options`, whose stop token and timeouts the Opener has set.
  using OpenFunction = std::function<std::unique_ptr<Registry>(const Options& options)>;

  /// An opener that opens nothing: false in a test, where users fall back to one shared
  /// (thread-safe) memory registry.
  Opener() = default;
  /// Opens `url` with registry::open() and `options` (see cli::registry_opener).
  Opener(std::string url, Options options);
  /// Opens through `open`, e.g. a test's registry that shares a memory registry's data.
  explicit Opener(OpenFunction open, Options options = {});

  /// A connection whose requests and watches `stop` aborts; `stop` must outlive it.
  std::unique_ptr<Registry> open(const StopToken& stop) const;

  /// A connection for work done after the stop token fired (deregistering on SIGTERM): no token
  /// aborts it, and its timeouts are capped (1s to connect, 2s a request) so that systemd's
  /// stop timeout is never the one that ends the process.
  std::unique_ptr<Registry> open_after_stop() const;

  /// True when it opens anything.
  explicit operator bool() const { return static_cast<bool>(m_open); }

private:
  std::unique_ptr<Registry> open_with(const Options& options) const;

  OpenFunction m_open;
  Options m_options;
};

} // namespace herald::registry
