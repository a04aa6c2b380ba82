#include "herald/registry/consul/consul_client.hpp"

#include "herald/core/error.hpp"

#include <fmt/format.h>
#include <utility>

namespace herald::registry::consul {

namespace {

// Consul's default_query_time: what a blocking query without ?wait waits.
constexpr std::chrono::milliseconds k_default_wait{std::chrono::minutes(5)};

http::ClientOptions http_options(const Options& options) {
  http::ClientOptions out = http_client_options(options, "Consul");
  if (!options.token.empty()) {
    // A header, never ?token=: query strings end up in access logs and error messages.
    out.default_headers.push_back("X-Consul-Token: " + options.token);
  }
  return out;
}

std::string path_only(std::string_view path) {
  return std::string(path.substr(0, path.find('?')));
}

std::string trimmed(std::string_view body) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' ')) {
    body.remove_suffix(1);
  }
  return std::string(body);
}

} // namespace

Client::Client(std::vector<http::Endpoint> endpoints, const Options& options)
    : m_http(std::move(endpoints), http_options(options)), m_token(options.token),
      m_request_timeout(options.request_timeout) {}

void Client::set_stop(const StopToken* stop) {
  m_http.set_stop(stop);
}

std::string Client::endpoint_text() const {
  const http::Endpoint& e = m_http.current_endpoint();
  if (!e.unix_socket.empty()) {
    return "unix:" + e.unix_socket;
  }
  return HostPort{e.host, e.port}.str();
}

http::Request Client::read_request(std::string path, const QueryOptions& query) const {
  http::Request request;
  request.method = "GET";
  request.path = std::move(path);
  if (query.index > 0) {
    auto wait = query.wait.count() > 0 ? query.wait : k_default_wait;
    request.path += request.path.find('?') == std::string::npos ? '?' : '&';
    request.path += fmt::format("index={}&wait={}", query.index, go_duration(wait));
    // Consul adds up to wait/16 of jitter before it answers; the request must outlast that.
    request.timeout = wait + wait / 16 + m_request_timeout;
  }
  return request;
}

http::Response Client::send(const http::Request& request) {
  return m_http.send(request);
}

http::Response Client::read(const http::Request& request, bool missing_is_empty) {
  http::Response response = send(request);
  if (response.ok() || (missing_is_empty && response.status == 404)) {
    return response;
  }
  fail(request, response);
}

void Client::fail(const http::Request& request, const http::Response& response) const {
  std::string what = request.method + " " + path_only(request.path);
  std::string endpoint = endpoint_text();
  std::string body = redact(trimmed(response.body), m_token);
  if (response.status == 403) {
    throw Error(ErrorKind::config,
                explain_forbidden(endpoint, what, response.body, !m_token.empty(), m_token));
  }
  if (response.status == 404) {
    if (body.empty()) {
      throw Error(ErrorKind::config,
                  fmt::format("Consul at {} has no endpoint {} (HTTP 404): is the registry URL "
                              "the HTTP address of a Consul agent (consul://HOST:8500)?",
                              endpoint, what));
    }
    throw Error(ErrorKind::not_found,
                fmt::format("Consul at {} does not know what {} names (HTTP 404): {}", endpoint,
                            what, body));
  }
  if (response.status == 500 && body.find("No cluster leader") != std::string::npos) {
    throw Error(ErrorKind::temporary,
                fmt::format("Consul at {} has no cluster leader ({} answered HTTP 500); retry "
                            "once the servers have elected one",
                            endpoint, what));
  }
  http::throw_status_error(request, response, body);
}

// --- agent -------------------------------------------------------------------------------------

void Client::register_service(const ServiceDefinition& service) {
  http::Request request;
  request.method = "PUT";
  request.path = "/v1/agent/service/register";
  request.body = service_register_body(service).dump();
  request.headers.emplace_back("Content-Type: application/json");
  http::Response response = send(request);
  if (!response.ok()) {
    fail(request, response);
  }
}

bool Client::update_ttl(std::string_view check_id, CheckStatus status, std::string_view output) {
  static constexpr std::string_view k_verbs[] = {"pass", "warn", "fail"};
  http::Request request;
  request.method = "PUT";
  request.path = fmt::format("/v1/agent/check/{}/{}", k_verbs[static_cast<int>(status)],
                             escape_path(check_id, false));
  if (!output.empty()) {
    request.path += "?note=" + escape_query(output);
  }
  http::Response response = send(request);
  if (response.ok()) {
    return true;
  }
  if (is_unknown_check(response.status, response.body)) {
    return false;
  }
  fail(request, response);
}

bool Client::deregister_service(std::string_view service_id) {
  http::Request request;
  request.method = "PUT";
  request.path = "/v1/agent/service/deregister/" + escape_path(service_id, false);
  http::Response response = send(request);
  if (response.ok()) {
    return true;
  }
  // "Unknown service ID" (404), or 500 "Unknown service" from agents <= 1.10: already gone.
  if ((response.status == 404 && !response.body.empty()) ||
      (response.status == 500 && response.body.find("Unknown service") != std::string::npos)) {
    return false;
  }
  fail(request, response);
}

std::map<std::string, AgentService> Client::agent_services() {
  http::Request request = read_request("/v1/agent/services", {});
  return parse_agent_services(read(request, false).body);
}

// --- catalog and health ------------------------------------------------------------------------

QueryResult<std::map<std::string, std::vector<std::string>>>
Client::catalog_services(const QueryOptions& query) {
  http::Request request = read_request("/v1/catalog/services", query);
  http::Response response = read(request, false);
  QueryResult<std::map<std::string, std::vector<std::string>>> out;
  out.value = parse_catalog_services(response.body);
  out.index = next_index(0, parse_index(response.header("x-consul-index"))).next;
  return out;
}

QueryResult<std::vector<HealthEntry>> Client::health_service(std::string_view name,
                                                             bool passing_only,
                                                             const std::vector<std::string>& tags,
                                                             const QueryOptions& query) {
  std::string path = "/v1/health/service/" + escape_path(name, false);
  char sep = '?';
  if (passing_only) {
    path += "?passing=true";
    sep = '&';
  }
  for (const auto& tag : tags) {
    path += sep;
    path += "tag=" + escape_query(tag);
    sep = '&';
  }
  http::Request request = read_request(std::move(path), query);
  http::Response response = read(request, false);
  QueryResult<std::vector<HealthEntry>> out;
  out.value = parse_health_service(response.body);
  out.index = next_index(0, parse_index(response.header("x-consul-index"))).next;
  return out;
}

std::uint64_t Client::health_state_index(const QueryOptions& query) {
  http::Request request = read_request("/v1/health/state/any", query);
  http::Response response = read(request, false);
  return next_index(0, parse_index(response.header("x-consul-index"))).next;
}

// --- KV ------------------------------------------------------------------------------------------

QueryResult<std::optional<KvEntry>> Client::kv_get(std::string_view key,
                                                   const QueryOptions& query) {
  if (key.empty()) {
    throw Error(ErrorKind::usage, "a Consul KV key cannot be empty (the root is not a key)");
  }
  http::Request request = read_request("/v1/kv/" + escape_path(key, true), query);
  http::Response response = read(request, true);
  QueryResult<std::optional<KvEntry>> out;
  out.index = next_index(0, parse_index(response.header("x-consul-index"))).next;
  if (response.status == 404) {
    return out;
  }
  auto entries = parse_kv_entries(response.body);
  if (!entries.empty()) {
    out.value = std::move(entries.front());
  }
  return out;
}

QueryResult<std::vector<KvEntry>> Client::kv_list(std::string_view prefix,
                                                  const QueryOptions& query) {
  http::Request request = read_request("/v1/kv/" + escape_path(prefix, true) + "?recurse", query);
  http::Response response = read(request, true);
  QueryResult<std::vector<KvEntry>> out;
  out.index = next_index(0, parse_index(response.header("x-consul-index"))).next;
  if (response.status == 404) {
    return out;
  }
  out.value = parse_kv_entries(response.body);
  return out;
}

QueryResult<std::vector<std::string>>
Client::kv_keys(std::string_view prefix, std::string_view separator, const QueryOptions& query) {
  std::string path = "/v1/kv/" + escape_path(prefix, true) + "?keys";
  if (!separator.empty()) {
    path += "&separator=" + escape_query(separator);
  }
  http::Request request = read_request(std::move(path), query);
  http::Response response = read(request, true);
  QueryResult<std::vector<std::string>> out;
  out.index = next_index(0, parse_index(response.header("x-consul-index"))).next;
  if (response.status == 404) {
    return out;
  }
  out.value = parse_kv_keys(response.body);
  return out;
}

bool Client::kv_put(std::string_view key, std::string_view value,
                    std::optional<std::uint64_t> cas) {
  if (key.empty()) {
    throw Error(ErrorKind::usage, "a Consul KV key cannot be empty (the root is not a key)");
  }
  http::Request request;
  request.method = "PUT";
  request.path = "/v1/kv/" + escape_path(key, true);
  if (cas) {
    request.path += fmt::format("?cas={}", *cas);
  }
  request.body = std::string(value);
  request.headers.emplace_back("Content-Type: application/octet-stream");
  http::Response response = send(request);
  if (!response.ok()) {
    fail(request, response);
  }
  return parse_kv_bool(response.body);
}

bool Client::kv_delete(std::string_view key, bool recurse, std::optional<std::uint64_t> cas) {
  http::Request request;
  request.method = "DELETE";
  request.path = "/v1/kv/" + escape_path(key, true);
  if (recurse) {
    request.path += "?recurse";
  } else if (cas) {
    request.path += fmt::format("?cas={}", *cas);
  }
  http::Response response = send(request);
  if (!response.ok()) {
    fail(request, response);
  }
  return parse_kv_bool(response.body);
}

} // namespace herald::registry::consul
