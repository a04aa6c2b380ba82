#pragma once

#include "herald/core/stop.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::http {

/// Where a server listens: a TCP host:port (http or https), or a unix socket.
struct Endpoint {
  std::string scheme = "http"; ///< "http" or "https"
  std::string host;            ///< host name or IP, IPv6 without brackets
  std::uint16_t port = 0;
  std::string unix_socket; ///< when set, connect through this socket path instead of TCP
  std::string base_path;   ///< prepended to every request path ("/v1.41"); no trailing '/'

  /// "http://127.0.0.1:2379", "https://[::1]:2379", "unix:///var/run/docker.sock"
  std::string str() const;
};

/// Parses "http://h:p", "https://h:p", "h:p" (http), "[::1]:p", "unix:///path" or "unix:path";
/// "tcp://h:p" (DOCKER_HOST style) means http, a URL may carry a base path
/// ("http://h:2375/v1.41"), and http/https URLs without a port get 80/443. `what` names the flag
/// or variable in the error (Error(config)).
Endpoint parse_endpoint(std::string_view text, std::string_view what);

/// `url` fit to echo in an error or a log: user info, a query and a fragment (where a password or
/// a token may have been written) become "***" and control bytes are escaped.
/// "etcd://h:1?password=x" -> "etcd://h:1?***".
std::string redact_url(std::string_view url);

/// TLS material; paths to PEM files. Empty means the system default / none.
struct TlsOptions {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool insecure_skip_verify = false;
};

/// The default ClientOptions::max_response: far above any registry, Docker or fleet answer a
/// cluster produces, low enough that a hostile or broken server cannot fill memory.
inline constexpr std::size_t k_default_max_response = std::size_t{64} << 20;

/// Settings of one Client.
struct ClientOptions {
  /// What the endpoints are ("etcd", "Consul", "Docker"), for error messages: "etcd at ...".
  std::string name = "server";
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds request_timeout{10000};
  TlsOptions tls;
  /// "Name: value" headers sent with every request (e.g. an auth token). Never logged.
  std::vector<std::string> default_headers;
  /// Speak HTTP/2 (prior knowledge on http://, ALPN on https://), as gRPC needs; HTTP/1.1
  /// otherwise. Trailers (gRPC's status) arrive in Response::headers after the body. Each
  /// request opens its own connection (libcurl 7.88 cannot reuse one: see client.cpp).
  bool http2 = false;
  /// When set, an in-flight request is aborted as soon as a stop is requested and send()/stream()
  /// throw Error(cancelled).
  const StopToken* stop = nullptr;
  /// The largest body (or, when streaming, the longest line) a response may have; beyond it the
  /// transfer ends and send()/stream() throw Error(data) naming the URL. Request::max_body,
  /// which cuts the body instead, takes precedence.
  std::size_t max_response = k_default_max_response;
};

/// One HTTP request. `path` is relative to the endpoint's base_path and may carry a query.
struct Request {
  std::string method = "GET";
  std::string path;
  std::string body;
  std::vector<std::string> headers; ///< extra "Name: value" headers
  /// Overrides ClientOptions::request_timeout; zero means no limit (long streams).
  std::optional<std::chrono::milliseconds> timeout;
  /// send() only: keep at most this many bytes of the body and end the transfer there (the
  /// connection is closed), so an endpoint that streams forever cannot fill memory; the response
  /// is returned with `truncated` set. nullopt: read the whole body.
  std::optional<std::size_t> max_body;
};

/// A response. Any HTTP status is a response, not an error: callers decide what 404 means.
struct Response {
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; ///< names lower-cased
  std::string endpoint;                                     ///< Endpoint::str() that answered
  bool truncated = false; ///< the body was cut at Request::max_body

  /// The first header called `name` (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;
  /// True for 2xx.
  bool ok() const { return status >= 200 && status < 300; }
};

/// Receives each line of a streamed body (without the trailing "\n" or "\r\n"; empty lines too;
/// a last line without a newline is delivered when the body ends); returns false to end the
/// stream early. An exception it throws ends the stream and comes out of Client::stream().
using LineHandler = std::function<bool(std::string_view line)>;

/// A libcurl client over an ordered list of endpoints. It keeps its connections between requests
/// (one handle, reused), fails over to the next endpoint when one cannot be reached and sticks to
/// the one that answered. Not thread-safe: give each thread its own Client.
class Client {
public:
  Client(std::vector<Endpoint> endpoints, ClientOptions options);
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Sends `request`, trying each endpoint once starting from the last good one. Throws
  /// Error(unavailable) when none could be reached (the message names each endpoint and how it
  /// failed: refused, timeout, TLS, DNS), Error(config) for TLS/certificate problems, and
  /// Error(cancelled) when the stop token fires. An endpoint that accepts but does not answer
  /// within the timeout counts as unreachable; one that starts answering and then times out or
  /// drops the connection is not retried elsewhere: Error(temporary) resp. Error(unavailable).
  /// HTTP error statuses are returned, not thrown.
  Response send(const Request& request);

  /// Like send(), but hands the body to `on_line` line by line as it arrives (watch streams,
  /// Docker events). Returns when the server ends the body or `on_line` returns false; a timeout
  /// once lines flowed is Error(temporary), so give long streams Request::timeout = 0. For a
  /// non-2xx status the body is collected into the returned Response instead of being streamed.
  Response stream(const Request& request, const LineHandler& on_line);

  /// Replaces ClientOptions::stop (nullptr: never cancelled), e.g. so that a sidekick stopped by
  /// SIGTERM can still deregister over the same kept connection.
  void set_stop(const StopToken* stop);

  /// The endpoint the next request goes to first.
  const Endpoint& current_endpoint() const;

  /// Every endpoint, in order.
  const std::vector<Endpoint>& endpoints() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

/// The reason phrase of an HTTP status ("Conflict" for 409); "" for one it does not know.
const char* reason_phrase(long status);

/// Percent-encodes `text` for a URL path segment or query value (RFC 3986 unreserved kept).
std::string url_encode(std::string_view text);

/// An Error for a response that was not expected: "POST http://h:2379/v3/kv/put: HTTP 403
/// Forbidden: <server message>". 401/403 map to ErrorKind::config, 404 to not_found, 408/429/5xx
/// to temporary, other 4xx to data. `server_message` is the server's own words when the caller
/// extracted them (else the body, shortened).
[[noreturn]] void throw_status_error(const Request& request, const Response& response,
                                     std::string_view server_message = {});

} // namespace herald::http
