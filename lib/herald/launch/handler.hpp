#pragma once

#include "herald/core/stop.hpp"
#include "herald/launch/flights.hpp"
#include "herald/launch/metrics.hpp"
#include "herald/launch/policy.hpp"
#include "herald/launch/server.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::launch {

/// What the handler needs of a request; the server fills it from what it parsed.
struct Request {
  std::string method; ///< "GET", "HEAD", "POST", ...
  std::string target; ///< as received: "/web/x?y"
  std::string host;   ///< the Host header ("" when none)
  std::string accept; ///< the Accept header ("" when none)
  std::string client; ///< the client's address (client_address())
};

/// The answer, before the server writes it (it adds Content-Length, Connection).
struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The value of header `name` (exact case), "" when absent.
  std::string header(std::string_view name) const;
};

/// Decides every answer of the launcher:
///
/// - `GET|HEAD /healthz` -> 200 "ok", `/metrics` -> the metrics text; in both modes (in path
///   mode `healthz` and `metrics` are therefore never app names).
/// - The app name from the path or the Host. An invalid name or a policy refusal -> nginx's own
///   plain 404 page, byte for byte (no header nginx's 404 lacks), counted by reason and logged
///   at debug level only.
/// - An app the registry already has routable, or one that is ready: the router has not
///   reloaded yet; wait ready_wait (at most what remains of hold), then 307 to the same target.
/// - Otherwise, when a new start would begin, Policy::admit: a rate refusal -> 429, the cap ->
///   503, both with Retry-After. Then Flights::begin.
/// - Starting: with hold, wait for it up to hold (then as ready or failed); still starting ->
///   503 + `Retry-After: 2`, the waiting page for browsers (Accept has text/html, GET or HEAD),
///   a JSON body {"app","state","elapsed_seconds"} otherwise.
/// - Failed: 503 with the failure's reference (HTML or JSON), Retry-After until its retry_at.
///
/// Any method may start an app: the router forwards whatever the first request was, and a
/// webhook's POST should wake its app as a browser's GET does. A request other than GET/HEAD
/// never gets the waiting page (JSON instead); its 307 makes the client repeat method and body.
/// Every answer but the 404 carries `Cache-Control: no-store`. Text from the request only ever
/// reaches an answer as a valid app name, HTML- or JSON-escaped all the same.
class Handler {
public:
  /// The references must outlive the handler; `stop` cuts holds and waits short.
  Handler(const ServeOptions& options, Policy& policy, Flights& flights, RoutableFn routable,
          Metrics& metrics, const StopToken& stop);

  /// The answer to `request`; never throws for any input (a bug becomes 500).
  Response handle(const Request& request);

private:
  Response handle_app(const Request& request, const std::string& app);
  Response answer_status(const Request& request, const std::string& app, const Status& status,
                         std::chrono::steady_clock::time_point deadline);
  Response redirect_when_router_ready(const Request& request,
                                      std::chrono::steady_clock::time_point deadline);
  Response refused_404(const std::string& shown, const Decision& decision);
  bool sleep_until(std::chrono::steady_clock::time_point until);

  const ServeOptions& m_options;
  Policy& m_policy;
  Flights& m_flights;
  RoutableFn m_routable;
  Metrics& m_metrics;
  const StopToken& m_stop;
};

/// The client's address: `peer`, or, when `peer` is one of `trusted` (a trusted proxy), the
/// X-Real-IP it sent or else the last hop of its X-Forwarded-For, when that is an IP literal.
std::string client_address(std::string_view peer, std::string_view x_real_ip,
                           std::string_view x_forwarded_for,
                           const std::vector<std::string>& trusted);

/// nginx's default 404 page ("server_tokens off"), byte for byte.
extern const std::string_view k_nginx_404_body;

/// The waiting page for `app`, `elapsed_seconds` into its start: refreshes itself every 2 s (no
/// JavaScript), fits a phone, no external resources.
std::string waiting_page(std::string_view app, long long elapsed_seconds);

} // namespace herald::launch
