#pragma once

#include "herald/core/stop.hpp"
#include "herald/launch/flights.hpp"
#include "herald/launch/metrics.hpp"
#include "herald/launch/policy.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace herald::launch {

/// Where the app name of a request comes from.
enum class RoutingMode {
  path, ///< the first path segment: /APP/...
  host  ///< the Host header: APP.DOMAIN
};

/// How `herald launch serve` listens and answers.
struct ServeOptions {
  /// host:port ([v6]:port); port 0 picks a free one (tests).
  std::string listen = "127.0.0.1:8090";
  RoutingMode mode = RoutingMode::path;
  /// The domain below which host routing finds app names.
  std::string domain;
  /// Hold requests up to this long instead of answering the waiting page / 503 at once, and
  /// answer 307 to the same URL once the app is ready.
  std::optional<std::chrono::milliseconds> hold;
  /// Peers whose X-Real-IP (or the last hop of X-Forwarded-For) names the client.
  std::vector<std::string> trusted_proxies{"127.0.0.1", "::1"};
  /// Connections served at once; more are closed at once.
  int max_connections = 512;
  /// A request (headers and body) must arrive within this; an idle keep-alive connection is
  /// closed after it.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(10)};
  /// How long a request for an app that is ready, but still reached the launcher because the
  /// router has not reloaded yet, waits before its 307 (at most what remains of `hold`).
  std::chrono::milliseconds ready_wait{std::chrono::seconds(1)};
};

/// The app's address when the registry already has it routable, else nullopt.
using RoutableFn = std::function<std::optional<std::string>(const std::string& app)>;

/// The launcher's HTTP server (HTTP/1.1, keep-alive, a thread per connection, Boost.Beast
/// inside). Request handling is Handler's (handler.hpp); the limits are the server's: headers
/// up to k_header_limit, bodies up to k_body_limit, read_timeout for each request, at most
/// max_connections connections.
class Server {
public:
  /// The references must outlive the server. Sets `flights`' metrics to `metrics`.
  Server(ServeOptions options, Policy& policy, Flights& flights, RoutableFn routable,
         Metrics& metrics);
  /// Stops and joins every connection thread.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and listens. Throws Error(config) for an address that cannot be parsed or resolved,
  /// Error(unavailable) when it cannot be bound (in use, not local), naming the address.
  void start();

  /// The port listened on (after start()).
  std::uint16_t port() const;

  /// Serves until `stop` (or stop()) is requested, then closes the listener and every
  /// connection and returns once their threads ended. Calls start() when not started.
  void run(const StopToken& stop);

  /// Asks run() to return; callable from any thread.
  void stop();

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

/// The largest request header block the server reads; beyond it the answer is 431 and close.
inline constexpr std::size_t k_header_limit = 8 * 1024;
/// The largest request body the server reads; beyond it the answer is 413 and close.
inline constexpr std::size_t k_body_limit = 64 * 1024;

} // namespace herald::launch
