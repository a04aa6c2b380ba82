#include "herald/core/base64.hpp"
#include "herald/core/error.hpp"
#include "herald/core/json_limits.hpp"
#include "herald/http/client.hpp"
#include "herald/registry/backends.hpp"
#include "herald/registry/etcd2/keys_api.hpp"
#include "herald/registry/etcd3/etcd3_json.hpp"
#include "herald/registry/layout.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <utility>

namespace herald::registry {

namespace {

using etcd2::ApiError;

constexpr std::string_view k_form_header = "Content-Type: application/x-www-form-urlencoded";

std::vector<http::Endpoint> endpoints_for(const Location& location) {
  std::vector<http::Endpoint> endpoints = location.endpoints;
  if (endpoints.empty()) {
    throw Error(ErrorKind::config, "etcd2 registry URL names no endpoint: use etcd2://HOST:PORT");
  }
  for (http::Endpoint& endpoint : endpoints) {
    if (location.tls && endpoint.unix_socket.empty()) {
      endpoint.scheme = "https";
    }
  }
  return endpoints;
}

http::ClientOptions client_options_for(const Options& options) {
  http::ClientOptions out = http_client_options(options, "etcd");
  if (!options.username.empty()) {
    // The v2 keys API takes HTTP basic auth on every request (there is no token exchange).
    out.default_headers.push_back("Authorization: Basic " +
                                  base64_encode(options.username + ":" + options.password));
  }
  return out;
}

std::string describe_location(const std::vector<http::Endpoint>& endpoints, bool tls) {
  std::string out = tls ? "etcd2+https://" : "etcd2://";
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    const http::Endpoint& endpoint = endpoints[i];
    if (i > 0) {
      out.push_back(',');
    }
    if (!endpoint.unix_socket.empty()) {
      out += "unix:" + endpoint.unix_socket;
    } else {
      out += HostPort{endpoint.host, endpoint.port}.str();
    }
  }
  return out;
}

/// The etcd v2 error a response carries with code `code`, if it is that one.
std::optional<ApiError> error_with_code(const http::Response& response, int code) {
  if (response.ok()) {
    return std::nullopt;
  }
  auto error = etcd2::parse_api_error(response.body);
  if (error && error->code == code) {
    return error;
  }
  return std::nullopt;
}

class Etcd2Registry final : public Registry {
public:
  Etcd2Registry(const Location& location, const Options& options)
      : m_client(endpoints_for(location), client_options_for(options)),
        m_description(describe_location(m_client.endpoints(), location.tls)) {}

  std::string_view backend() const override { return "etcd2"; }
  std::string describe() const override { return m_description; }

  std::optional<std::size_t> count_in_other_keyspace(std::string_view prefix) override {
    // etcd 3.4+ hides keys a v3 writer made from this API: count them through the v3 JSON
    // gateway (/v3beta on etcd 3.3, /v3alpha before) so render can say why it sees nothing.
    try {
      std::string dir(prefix);
      while (!dir.empty() && dir.back() == '/') {
        dir.pop_back();
      }
      etcd3::RangeRequest range;
      range.key = dir + "/";
      range.range_end = dir + "0"; // '/' + 1: every key below dir/
      range.count_only = true;
      const std::string body = etcd3::range_request(range).dump();
      for (const char* version : {"/v3", "/v3beta", "/v3alpha"}) {
        http::Request request;
        request.method = "POST";
        request.path = std::string(version) + "/kv/range";
        request.body = body;
        http::Response response = m_client.send(request);
        if (response.status == 404) {
          continue;
        }
        if (json_too_deep(response.body)) {
          return std::nullopt;
        }
        auto json = nlohmann::json::parse(response.body, nullptr, false);
        if (!response.ok() || !json.is_object()) {
          return std::nullopt; // v3 auth, or not etcd
        }
        return static_cast<std::size_t>(etcd3::parse_range(json).count);
      }
      return std::nullopt;
    } catch (const std::exception&) {
      return std::nullopt; // a diagnostic only: never in the way of the real work
    }
  }

  std::optional<KeyValue> get(std::string_view key) override {
    http::Request request = make_request("GET", key);
    http::Response response = m_client.send(request);
    if (response.ok()) {
      return etcd2::parse_node_response(response.body);
    }
    if (error_with_code(response, etcd2::k_key_not_found)) {
      return std::nullopt;
    }
    fail("get", key, request, response);
  }

  Snapshot list(std::string_view prefix) override {
    http::Request request = make_request("GET", prefix);
    request.path += "?recursive=true&sorted=true";
    http::Response response = m_client.send(request);
    Snapshot snapshot;
    if (response.ok()) {
      snapshot.entries = etcd2::parse_list_response(response.body);
      snapshot.index = etcd2::parse_index(response.header("x-etcd-index"));
      return snapshot;
    }
    if (auto missing = error_with_code(response, etcd2::k_key_not_found)) {
      // An absent prefix is an empty one; the error's index is as good as the header's.
      snapshot.index = etcd2::parse_index(response.header("x-etcd-index"));
      if (snapshot.index == 0) {
        snapshot.index = missing->index;
      }
      return snapshot;
    }
    fail("list", prefix, request, response);
  }

  void put(std::string_view key, std::string_view value) override {
    set(key, {{"value", std::string(value)}}, "put");
  }

  bool remove(std::string_view key) override {
    http::Request request = make_request("DELETE", key);
    http::Response response = m_client.send(request);
    if (response.ok()) {
      return true;
    }
    if (error_with_code(response, etcd2::k_key_not_found)) {
      return false;
    }
    fail("delete", key, request, response);
  }

  WatchBatch watch(std::string_view prefix, std::int64_t after_index,
                   std::chrono::milliseconds max_wait) override {
    http::Request request = make_request("GET", prefix);
    request.path += "?wait=true&recursive=true";
    if (after_index > 0) {
      request.path += fmt::format("&waitIndex={}", after_index + 1);
    }
    // etcd v2 has no server-side limit on a wait; the request timeout ends it. Zero would mean
    // "no limit" to the client, so the shortest wait is one millisecond.
    request.timeout = std::max(max_wait, std::chrono::milliseconds(1));
    http::Response response;
    try {
      response = m_client.send(request);
    } catch (const Error& e) {
      // etcd flushes the headers as soon as the wait starts, so a wait that ran out is the
      // client's "answered but not complete in time", reported as temporary.
      if (e.kind() != ErrorKind::temporary) {
        throw;
      }
      WatchBatch idle;
      idle.index = after_index;
      return idle;
    }
    if (response.ok()) {
      return etcd2::parse_watch_response(response.body, after_index);
    }
    if (auto cleared = error_with_code(response, etcd2::k_event_index_cleared)) {
      WatchBatch batch;
      batch.resync = true;
      batch.index = std::max(after_index, cleared->index);
      return batch;
    }
    fail("watch", prefix, request, response);
  }

  void register_instance(const Registration& reg) override {
    set(reg.key, {{"value", reg.value}, {"ttl", ttl_text(reg)}}, "register");
  }

  KeepAlive refresh_instance(const Registration& reg) override {
    // refresh=true extends the TTL without a watch event, so heartbeats do not wake renderers.
    // prevValue makes a key that someone else overwrote count as lost, so it gets rewritten.
    http::Request request = make_request("PUT", reg.key);
    request.body = etcd2::form_encode({{"refresh", "true"},
                                       {"ttl", ttl_text(reg)},
                                       {"prevExist", "true"},
                                       {"prevValue", reg.value}});
    request.headers.emplace_back(k_form_header);
    http::Response response = m_client.send(request);
    if (response.ok()) {
      return KeepAlive::alive;
    }
    if (error_with_code(response, etcd2::k_key_not_found) ||
        error_with_code(response, etcd2::k_compare_failed)) {
      return KeepAlive::lost;
    }
    fail("refresh", reg.key, request, response);
  }

  void withdraw_instance(const Registration& reg, std::string_view /*reason*/) override {
    remove(reg.key);
  }

  bool deregister_instance(const Registration& reg) override { return remove(reg.key); }

  std::vector<Instance> instances(const InstanceQuery& query) override {
    return instances_from_snapshot(list(query.prefix), query);
  }

private:
  static http::Request make_request(std::string method, std::string_view key) {
    http::Request request;
    request.method = std::move(method);
    request.path = etcd2::keys_path(key);
    return request;
  }

  static std::string ttl_text(const Registration& reg) {
    if (reg.ttl.count() < 1) {
      throw Error(ErrorKind::usage,
                  fmt::format("TTL of {} must be at least 1s for etcd v2", reg.name.str()));
    }
    return std::to_string(reg.ttl.count());
  }

  void set(std::string_view key, const std::vector<std::pair<std::string, std::string>>& fields,
           std::string_view operation) {
    http::Request request = make_request("PUT", key);
    request.body = etcd2::form_encode(fields);
    request.headers.emplace_back(k_form_header);
    http::Response response = m_client.send(request);
    if (!response.ok()) {
      fail(operation, key, request, response);
    }
  }

  [[noreturn]] void fail(std::string_view operation, std::string_view key,
                         const http::Request& request, const http::Response& response) const {
    auto api_error = etcd2::parse_api_error(response.body);
    // 401, or errorCode 110 "Insufficient credentials" (etcd also answers 403 for errorCode 102
    // "Not a file", which is data): a configuration matter.
    if (response.status == 401 || (api_error && api_error->code == 110)) {
      throw Error(ErrorKind::config,
                  fmt::format("etcd v2 {} {} at {}: HTTP {}: the credentials were refused; check "
                              "--user and the password (--password-file or HERALD_PASSWORD)",
                              operation, key, response.endpoint, response.status));
    }
    if (api_error) {
      throw etcd2::to_error(operation, key, response.endpoint, *api_error);
    }
    if (response.status == 404) {
      // etcd 3.4+ answers /v2/keys with a plain "404 page not found" unless --enable-v2 is set.
      throw Error(ErrorKind::config,
                  fmt::format("etcd at {} does not serve the v2 keys API (HTTP 404 on {}): start "
                              "etcd with --enable-v2, or use an etcd:// (v3) registry URL",
                              response.endpoint, request.method + " /v2/keys"));
    }
    http::throw_status_error(request, response);
  }

  http::Client m_client;
  std::string m_description;
};

} // namespace

std::unique_ptr<Registry> make_etcd2_registry(const Location& location, const Options& options) {
  return std::make_unique<Etcd2Registry>(location, options);
}

} // namespace herald::registry
