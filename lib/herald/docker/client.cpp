#include "herald/docker/client.hpp"

#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/docker/errors.hpp"
#include "herald/http/client.hpp"

#include <exception>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace herald::docker {

namespace {

/// "/containers/web" for "web" or "/web": Docker names carry a leading '/' that must not double
/// the slash in the path.
std::string container_path(std::string_view container) {
  if (!container.empty() && container.front() == '/') {
    container.remove_prefix(1);
  }
  if (container.empty()) {
    throw Error(ErrorKind::usage, "a container name or id is required");
  }
  return "/containers/" + url_encode(container);
}

http::ClientOptions http_options(const Connection& connection, const ClientOptions& options,
                                 const StopToken* stop) {
  http::ClientOptions out;
  out.name = "Docker";
  out.connect_timeout = options.connect_timeout;
  out.request_timeout = options.request_timeout;
  out.tls = connection.tls;
  out.stop = stop;
  return out;
}

} // namespace

struct Client::Impl {
  Connection connection;
  ClientOptions options;
  http::Client http;
  std::optional<ApiVersion> version;

  Impl(Connection c, ClientOptions o)
      : connection(std::move(c)), options(o),
        http({connection.endpoint}, http_options(connection, options, options.stop)) {}

  /// Replaces a transport failure on a unix socket with the reason found by trying the socket
  /// (not running, permission denied), which says what to do; other failures pass unchanged.
  [[noreturn]] void connection_failed(const Error& error) const {
    if ((error.kind() == ErrorKind::unavailable || error.kind() == ErrorKind::config) &&
        !connection.endpoint.unix_socket.empty()) {
      if (auto problem = unix_socket_problem(connection.endpoint.unix_socket)) {
        throw *problem;
      }
    }
    throw error;
  }

  http::Response send(http::Client& client, const http::Request& request) {
    try {
      return client.send(request);
    } catch (const Error& e) {
      connection_failed(e);
    }
  }

  /// Sends a versioned request; 2xx and 304 (nothing to do) are results, any other status is
  /// response_error() naming `container`.
  http::Response call(Client& self, std::string method, const std::string& path,
                      std::string body = {}, std::string_view container = {},
                      std::chrono::milliseconds extra_time = {}) {
    http::Request request;
    request.method = std::move(method);
    request.path = self.api_version().path_prefix() + path;
    if (!body.empty()) {
      request.body = std::move(body);
      request.headers.push_back("Content-Type: application/json");
    }
    if (extra_time.count() > 0) {
      request.timeout = options.request_timeout + extra_time;
    }
    http::Response response = send(http, request);
    if (!response.ok() && response.status != 304) {
      throw response_error(request.method, path, response.status, response.body, container);
    }
    return response;
  }
};

Client::Client(Connection connection, ClientOptions options)
    : m_impl(std::make_unique<Impl>(std::move(connection), options)) {}

Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const Connection& Client::connection() const {
  return m_impl->connection;
}

std::optional<ApiVersion> Client::ping() {
  http::Request request;
  request.path = "/_ping";
  http::Response response = m_impl->send(m_impl->http, request);
  if (!response.ok()) {
    throw Error(ErrorKind::unavailable,
                fmt::format("the Docker daemon at {} is not healthy: /_ping answered HTTP {}: {}",
                            m_impl->connection.str(), response.status,
                            error_message(response.body)));
  }
  if (auto header = response.header("Api-Version"); header && !trim(*header).empty()) {
    return parse_api_version(*header, "the Docker daemon's Api-Version header");
  }
  return std::nullopt;
}

ApiVersion Client::api_version() {
  if (!m_impl->version) {
    if (m_impl->connection.pinned_version) {
      m_impl->version = m_impl->connection.pinned_version;
    } else {
      // A daemon that names no version is older than the header (API 1.25): assume our newest
      // and let its "too new" answer, if any, explain.
      ApiVersion daemon = ping().value_or(k_max_api_version);
      m_impl->version = negotiate_api_version(daemon, m_impl->connection.str());
      spdlog::debug("docker: {} speaks API {}; using {}", m_impl->connection.str(), daemon.str(),
                    m_impl->version->str());
    }
  }
  return *m_impl->version;
}

void Client::reset_api_version() {
  m_impl->version.reset();
}

VersionInfo Client::version() {
  return parse_version(m_impl->call(*this, "GET", "/version").body);
}

SystemInfo Client::info() {
  return parse_info(m_impl->call(*this, "GET", "/info").body);
}

std::vector<ContainerSummary> Client::list_containers(const ListOptions& options) {
  std::string path = "/containers/json";
  char sep = '?';
  if (options.all) {
    path += "?all=1";
    sep = '&';
  }
  if (!options.filters.empty()) {
    path += sep;
    path += "filters=" + url_encode(encode_filters(options.filters));
  }
  return parse_container_list(m_impl->call(*this, "GET", path).body);
}

Container Client::inspect(std::string_view container) {
  return parse_container(
      m_impl->call(*this, "GET", container_path(container) + "/json", {}, container).body);
}

std::optional<Container> Client::find(std::string_view container) {
  try {
    return inspect(container);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::not_found) {
      return std::nullopt;
    }
    throw;
  }
}

std::string Client::create(const ContainerSpec& spec) {
  std::string path = "/containers/create";
  if (!spec.name.empty()) {
    path += "?name=" + url_encode(spec.name);
  }
  return parse_create_response(
      m_impl->call(*this, "POST", path, create_body(spec), spec.name).body);
}

bool Client::start(std::string_view container) {
  return m_impl->call(*this, "POST", container_path(container) + "/start", {}, container).status !=
         304;
}

bool Client::stop(std::string_view container, std::chrono::seconds grace) {
  std::string path = container_path(container) + "/stop?t=" + std::to_string(grace.count());
  return m_impl->call(*this, "POST", path, {}, container, grace).status != 304;
}

void Client::restart(std::string_view container, std::chrono::seconds grace) {
  std::string path = container_path(container) + "/restart?t=" + std::to_string(grace.count());
  m_impl->call(*this, "POST", path, {}, container, grace);
}

void Client::kill(std::string_view container, std::string_view signal) {
  std::string path = container_path(container) + "/kill?signal=" + url_encode(signal);
  m_impl->call(*this, "POST", path, {}, container);
}

void Client::remove(std::string_view container, bool force, bool volumes) {
  std::string path =
      container_path(container) + "?force=" + (force ? "1" : "0") + "&v=" + (volumes ? "1" : "0");
  m_impl->call(*this, "DELETE", path, {}, container);
}

std::vector<std::string> Client::logs(std::string_view container, std::size_t lines) {
  std::string path =
      container_path(container) + "/logs?stdout=1&stderr=1&tail=" + std::to_string(lines);
  std::string text = demux_log_stream(m_impl->call(*this, "GET", path, {}, container).body);
  std::vector<std::string> out;
  for (auto& line : split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    out.push_back(std::move(line));
  }
  if (!out.empty() && out.back().empty()) {
    out.pop_back(); // the final newline
  }
  return out;
}

bool Client::has_image(std::string_view image) {
  if (image.empty()) {
    throw Error(ErrorKind::usage, "an image name is required");
  }
  try {
    m_impl->call(*this, "GET", "/images/" + url_encode(image) + "/json");
    return true;
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::not_found) {
      return false;
    }
    throw;
  }
}

void Client::pull(std::string_view image, std::chrono::milliseconds timeout) {
  auto [from, tag] = pull_parameters(image);
  std::string path = "/images/create?fromImage=" + url_encode(from);
  if (!tag.empty()) {
    path += "&tag=" + url_encode(tag);
  }
  http::Request request;
  request.method = "POST";
  request.path = api_version().path_prefix() + path;
  request.timeout = m_impl->options.request_timeout + timeout;
  // The daemon answers 200 at once and reports progress (and a late failure) in the body; an
  // early failure is an error status with Docker's words: 404 when the registry has no such
  // repository or denies it, 500 when no registry could be reached. A 401/403 is the daemon's
  // own authorization (a plugin), as for every other call.
  http::Response response = m_impl->send(m_impl->http, request);
  std::optional<std::string> why;
  ErrorKind kind = ErrorKind::unavailable;
  if (!response.ok()) {
    if (response.status == 404) {
      kind = ErrorKind::not_found;
    } else if (response.status == 401 || response.status == 403) {
      kind = ErrorKind::config;
    } else if (response.status < 500) {
      kind = ErrorKind::data; // 400: a reference Docker cannot parse
    }
    why = error_message(response.body);
    if (why->empty()) {
      why = fmt::format("HTTP {} (no message)", response.status);
    }
  } else {
    why = pull_stream_error(response.body);
  }
  if (why) {
    throw Error(kind, fmt::format("could not pull image '{}': {}", escape_control(image),
                                  escape_control(*why)));
  }
}

void Client::events(const EventQuery& query, const EventHandler& on_event, const StopToken* stop) {
  std::string path = "/events";
  std::vector<std::string> params;
  if (!query.filters.empty()) {
    params.push_back("filters=" + url_encode(encode_filters(query.filters)));
  }
  if (query.since_nano) {
    params.push_back("since=" + format_event_time(*query.since_nano));
  }
  if (query.until_nano) {
    params.push_back("until=" + format_event_time(*query.until_nano));
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    path += (i == 0 ? '?' : '&') + params[i];
  }

  http::Request request;
  request.path = api_version().path_prefix() + path;
  // The daemon sends nothing while nothing happens; idle for hours is normal.
  request.timeout = std::chrono::milliseconds(0);

  // Its own connection: the caller's handler may inspect containers while the stream is open.
  http::Client stream_client({m_impl->connection.endpoint},
                             http_options(m_impl->connection, m_impl->options,
                                          stop != nullptr ? stop : m_impl->options.stop));
  // Exceptions must not unwind through libcurl's C callbacks: keep the first and rethrow it
  // once the stream has returned.
  std::exception_ptr failure;
  auto on_line = [&](std::string_view line) -> bool {
    if (trim(line).empty()) {
      return true;
    }
    std::optional<Event> event;
    try {
      event = parse_event(line);
    } catch (const Error& e) {
      spdlog::warn("docker: skipping a line of the events stream: {}", e.what());
      return true;
    }
    try {
      return on_event(*event);
    } catch (...) {
      failure = std::current_exception();
      return false;
    }
  };
  http::Response response;
  try {
    response = stream_client.stream(request, on_line);
  } catch (const Error& e) {
    if (failure) {
      std::rethrow_exception(failure);
    }
    m_impl->connection_failed(e);
  }
  if (failure) {
    std::rethrow_exception(failure);
  }
  if (!response.ok()) {
    throw response_error("GET", path, response.status, response.body);
  }
}

Client open_client(ClientOptions options) {
  return Client(resolve_connection(DockerEnv::from_process()), options);
}

} // namespace herald::docker
