#pragma once

#include "herald/core/stop.hpp"
#include "herald/docker/api_version.hpp"
#include "herald/docker/connection.hpp"
#include "herald/docker/model.hpp"
#include "herald/http/client.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::docker {

/// Settings of one Client.
struct ClientOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds request_timeout{30000};
  /// When set, requests in flight (and idle event streams) end with Error(cancelled) as soon as a
  /// stop is requested.
  const StopToken* stop = nullptr;
};

/// Which containers list_containers() returns.
struct ListOptions {
  bool all = false; ///< include stopped containers
  Filters filters;  ///< {"label": ["herald.service"], "status": ["running"]}
};

/// Which events an events request delivers.
struct EventQuery {
  Filters filters; ///< {"type": ["container"], "event": ["start", "die"], "label": ["k=v"]}
  /// Replay buffered events from this Unix time (ns) before streaming (the daemon keeps 256).
  std::optional<std::int64_t> since_nano;
  /// End the stream at this Unix time (ns); a time in the past replays and closes at once.
  std::optional<std::int64_t> until_nano;
};

/// Receives each event; returns false to end the stream.
using EventHandler = std::function<bool(const Event&)>;

/// A Docker Engine API client over a unix socket or TCP (optionally TLS). It negotiates the API
/// version on first use (min of herald's newest and the daemon's) and prefixes every request
/// with it. Errors carry Docker's own message (see errors.hpp). Not thread-safe.
class Client {
public:
  /// Connects lazily: nothing is sent before the first call.
  explicit Client(Connection connection, ClientOptions options = {});
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Where this client connects.
  const Connection& connection() const;

  /// GET /_ping (unversioned). Returns the daemon's newest API version from its Api-Version
  /// header (nullopt when it sent none). Error(unavailable) when the daemon is not running,
  /// Error(config) when the socket is not accessible.
  std::optional<ApiVersion> ping();

  /// The API version in use, negotiated on first use and then cached; DOCKER_API_VERSION pins it.
  /// A daemon older than k_min_api_version is Error(config) naming both versions.
  ApiVersion api_version();

  /// Forgets the negotiated version so the next request negotiates again (after the daemon was
  /// restarted, possibly upgraded).
  void reset_api_version();

  /// GET /version.
  VersionInfo version();

  /// GET /info: the engine's ID and host name.
  SystemInfo info();

  /// GET /containers/json with `options`' filters.
  std::vector<ContainerSummary> list_containers(const ListOptions& options = {});

  /// GET /containers/{id}/json; `container` is an id, an id prefix or a name. A missing container
  /// is Error(not_found) "no such container 'x'".
  Container inspect(std::string_view container);

  /// Like inspect(), but nullopt for a container that does not exist.
  std::optional<Container> find(std::string_view container);

  /// POST /containers/create; returns the new container's id. Docker never pulls here: a
  /// missing image is Error(not_found).
  std::string create(const ContainerSpec& spec);

  /// POST /containers/{id}/start; false when it was already running.
  bool start(std::string_view container);

  /// POST /containers/{id}/stop: SIGTERM, then SIGKILL after `grace`; false when it was already
  /// stopped.
  bool stop(std::string_view container, std::chrono::seconds grace);

  /// POST /containers/{id}/restart with `grace` as for stop().
  void restart(std::string_view container, std::chrono::seconds grace);

  /// POST /containers/{id}/kill with `signal` ("KILL", "TERM", "HUP" or a number). A container
  /// that is not running is Error(data) with Docker's message.
  void kill(std::string_view container, std::string_view signal = "KILL");

  /// DELETE /containers/{id}; `force` kills a running container first, `volumes` removes its
  /// anonymous volumes.
  void remove(std::string_view container, bool force = false, bool volumes = false);

  /// GET /containers/{id}/logs: the last `lines` lines of stdout and stderr, interleaved as the
  /// container wrote them (a TTY container's raw text). Bytes as written: escape them before
  /// they reach a terminal.
  std::vector<std::string> logs(std::string_view container, std::size_t lines);

  /// GET /images/{name}/json: true when the engine has `image` ("web:1", "web" = "web:latest").
  bool has_image(std::string_view image);

  /// POST /images/create: pulls `image` (its tag, "latest" when it names none), waiting up to
  /// `timeout`. A failed pull is Error with Docker's words, naming the image: not_found when
  /// the registry has no such repository or denies it, unavailable when none could be reached
  /// (or the pull failed after it began), data for a reference Docker refuses, config when the
  /// daemon's authorization refuses the call. A transport failure passes unchanged.
  void pull(std::string_view image, std::chrono::milliseconds timeout);

  /// GET /events: hands each event to `on_event` until the daemon closes the stream (it stopped,
  /// or `until` passed), `on_event` returns false, or `stop` (else ClientOptions::stop) fires
  /// (Error(cancelled)). The stream has its own connection, so `on_event` may call the other
  /// methods of this Client. Lines that are not events are logged and skipped.
  void events(const EventQuery& query, const EventHandler& on_event,
              const StopToken* stop = nullptr);

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

/// A Client for the daemon named by this process's DOCKER_HOST / DOCKER_CERT_PATH /
/// DOCKER_TLS_VERIFY / DOCKER_API_VERSION (default the unix socket).
Client open_client(ClientOptions options = {});

/// Percent-encoding for paths and queries (http::url_encode), as the Docker client spells it.
using http::url_encode;

} // namespace herald::docker
