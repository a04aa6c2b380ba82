#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/http/client.hpp"
#include "herald/registry/backends.hpp"
#include "herald/registry/etcd3/etcd3_grpc.hpp"
#include "herald/registry/etcd3/etcd3_json.hpp"
#include "herald/registry/layout.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fmt/format.h>
#include <limits>
#include <map>
#include <mutex>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>
#include <utility>

namespace herald::registry {

namespace etcd3 {

namespace {

using nlohmann::json;

// list() reads big prefixes in pages at one revision, so the snapshot stays consistent without
// one huge response. A page costs etcd 3.4 a walk of the whole range in its index (it counts
// every key, then cuts), so over gRPC, where a page is compact, pages are larger.
constexpr std::int64_t k_page_size = 5000;
constexpr std::int64_t k_grpc_page_size = 50000;

// The HTTP status the gateway gives each gRPC code (grpc-gateway's HTTPStatusFromCode), so an
// error read from gRPC trailers is explained as the same error from the gateway would be.
long http_status_for_grpc(int code) {
  switch (code) {
  case 0:
    return 200;
  case 1:
    return 499;
  case 3:
  case 9:
  case 11:
    return 400;
  case 4:
    return 504;
  case 5:
    return 404;
  case 6:
  case 10:
    return 409;
  case 7:
    return 403;
  case 8:
    return 429;
  case 12:
    return 501;
  case 14:
    return 503;
  case 16:
    return 401;
  default:
    return 500;
  }
}

// A watch stream whose request timeout fires this close to its lifetime ended on time, not on a
// problem.
constexpr std::chrono::milliseconds k_watch_slack{50};

http::ClientOptions client_options(const Options& options) {
  http::ClientOptions out;
  out.name = "etcd";
  out.connect_timeout = options.connect_timeout;
  out.request_timeout = options.request_timeout;
  out.tls = options.tls;
  out.stop = options.stop;
  return out;
}

std::string describe_location(const Location& location) {
  std::string out = location.tls ? "etcd+https://" : "etcd://";
  for (std::size_t i = 0; i < location.endpoints.size(); ++i) {
    const auto& e = location.endpoints[i];
    if (i > 0) {
      out += ",";
    }
    out += e.host.find(':') != std::string::npos ? fmt::format("[{}]:{}", e.host, e.port)
                                                 : fmt::format("{}:{}", e.host, e.port);
  }
  return out;
}

// The range of a directory-style prefix. etcd rejects an empty key, so "" is spelt "\0".
RangeRequest prefix_range(std::string_view prefix) {
  RangeRequest request;
  request.key = prefix.empty() ? std::string(1, '\0') : std::string(prefix);
  request.range_end = prefix_range_end(prefix);
  return request;
}

// "/v2/keys/services/web" with each byte outside the URL's unreserved set %-escaped.
std::string v2_keys_path(std::string_view key) {
  std::string out = "/v2/keys";
  if (!key.starts_with('/')) {
    out += '/';
  }
  for (unsigned char c : key) {
    if (std::isalnum(c) != 0 ||
        std::string_view("/-_.~@:").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// The plain keys under a v2 node (directories hold "nodes", keys hold "value").
std::size_t count_v2_leaves(const nlohmann::json& node) {
  if (!node.value("dir", false)) {
    return 1;
  }
  std::size_t count = 0;
  if (auto it = node.find("nodes"); it != node.end() && it->is_array()) {
    for (const auto& child : *it) {
      count += count_v2_leaves(child);
    }
  }
  return count;
}

// A kept-open watch stream is renewed after this long, as the one-request watches were after the
// loop's watch_timeout: a connection that died without a FIN or RST is noticed, and a client of
// several endpoints returns to the one the other requests use.
constexpr std::chrono::milliseconds k_stream_lifetime{60000};

/// An eventfd the stream thread signals and the waiting caller polls beside its stop token.
class WakeFd {
public:
  WakeFd() : m_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (m_fd < 0) {
      throw Error(ErrorKind::internal, "cannot create the etcd watch stream's eventfd");
    }
  }
  ~WakeFd() { ::close(m_fd); }
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;

  int fd() const { return m_fd; }
  void signal() const {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(m_fd, &one, sizeof one);
  }
  void drain() const {
    std::uint64_t count = 0;
    [[maybe_unused]] auto n = ::read(m_fd, &count, sizeof count);
  }

private:
  int m_fd;
};

/// How a watch stream ended, for Etcd3Registry::watch() to judge in the caller's thread.
struct StreamEnd {
  http::Response response;           ///< the gateway's answer (a non-2xx status has a body)
  std::optional<std::string> ended;  ///< why the server ended the watch without events
  std::optional<Error> malformed;    ///< a line that was not a watch message
  std::optional<Error> failure;      ///< what http::Client::stream() threw
  std::int64_t compact_revision = 0; ///< > 0: the start revision was compacted (resync)
};

/// One POST /v3/watch kept open on a connection and a thread of its own across
/// Etcd3Registry::watch() calls, so that changes made while the caller renders are already
/// queued when it asks again. A watch created per call cost a new connection and gateway stream
/// each time and, when a change landed before the new watch existed, up to 100 ms more: etcd
/// serves a watch that starts in the past from a catch-up loop that runs every 100 ms.
class WatchStream {
public:
  WatchStream(std::vector<http::Endpoint> endpoints, http::ClientOptions options,
              std::string prefix, http::Request request, std::int64_t after_index)
      : m_prefix(std::move(prefix)), m_delivered(after_index),
        m_started(std::chrono::steady_clock::now()) {
    options.stop = &m_cancel;
    m_client = std::make_unique<http::Client>(std::move(endpoints), std::move(options));
    m_thread = std::thread([this, request = std::move(request)] { run(request); });
  }
  ~WatchStream() {
    m_cancel.request();
    m_thread.join();
  }
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  const std::string& prefix() const { return m_prefix; }
  /// The index of the last event handed out (the after_index a continuing caller passes).
  std::int64_t delivered() const { return m_delivered; }
  std::chrono::steady_clock::time_point started() const { return m_started; }

  /// Waits until events are queued or the stream ended (true), or until `deadline` passes
  /// (false). Throws Error(cancelled) when `stop` fires.
  bool wait(std::chrono::steady_clock::time_point deadline, const StopToken* stop) {
    while (true) {
      {
        std::lock_guard lock(m_mutex);
        if (!m_events.empty() || m_end) {
          return true;
        }
      }
      if (stop != nullptr && stop->requested()) {
        throw Error(ErrorKind::cancelled, fmt::format("etcd watch of '{}': interrupted", m_prefix));
      }
      auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return false;
      }
      std::array<pollfd, 2> fds{};
      fds[0] = pollfd{m_wake.fd(), POLLIN, 0};
      nfds_t count = 1;
      if (stop != nullptr) {
        fds[1] = pollfd{stop->fd(), POLLIN, 0};
        count = 2;
      }
      int ready = ::poll(
          fds.data(), count,
          static_cast<int>(std::min<std::int64_t>(left.count(), std::numeric_limits<int>::max())));
      if (ready > 0 && (fds[0].revents & POLLIN) != 0) {
        m_wake.drain();
      }
    }
  }

  /// Hands out the queued events (in order); the batch index is the newest of them.
  WatchBatch take(std::int64_t after_index) {
    WatchBatch batch;
    batch.index = after_index;
    {
      std::lock_guard lock(m_mutex);
      batch.events.swap(m_events);
    }
    for (const auto& event : batch.events) {
      batch.index = std::max(batch.index, event.kv.modify_index);
    }
    m_delivered = batch.index;
    return batch;
  }

  /// How the stream ended, once it did and every event before the end was handed out.
  std::optional<StreamEnd> end() {
    std::lock_guard lock(m_mutex);
    if (!m_events.empty() || !m_end) {
      return std::nullopt;
    }
    return m_end;
  }

private:
  void run(const http::Request& request) {
    StreamEnd end;
    auto on_line = [&](std::string_view line) {
      if (trim(line).empty()) {
        return true;
      }
      WatchMessage message;
      try {
        message = parse_watch_message(line);
      } catch (const Error& e) {
        end.malformed = e;
        return false;
      }
      if (!message.error.empty()) {
        end.ended = message.error;
        return false;
      }
      if (message.compact_revision > 0) {
        // History before the start revision is gone: the caller must list() again.
        end.compact_revision = message.compact_revision;
        return false;
      }
      if (message.canceled) {
        end.ended = message.cancel_reason.empty() ? "canceled" : message.cancel_reason;
        return false;
      }
      bool queued = false;
      {
        std::lock_guard lock(m_mutex);
        for (auto& event : message.events) {
          if (key_in_dir(event.kv.key, m_prefix)) {
            m_events.push_back(std::move(event));
            queued = true;
          }
        }
      }
      if (queued) {
        m_wake.signal();
      }
      return true;
    };
    try {
      end.response = m_client->stream(request, on_line);
    } catch (const Error& e) {
      end.failure = e;
    } catch (const std::exception& e) {
      end.failure = Error(ErrorKind::internal, fmt::format("etcd watch stream: {}", e.what()));
    }
    {
      std::lock_guard lock(m_mutex);
      m_end = std::move(end);
    }
    m_wake.signal();
  }

  const std::string m_prefix;
  std::int64_t m_delivered; ///< caller's thread only
  std::chrono::steady_clock::time_point m_started;
  StopToken m_cancel; ///< ends the stream when this is destroyed
  WakeFd m_wake;
  std::unique_ptr<http::Client> m_client; ///< used by the stream thread only
  std::mutex m_mutex;                     ///< guards m_events and m_end
  std::vector<Event> m_events;
  std::optional<StreamEnd> m_end;
  std::thread m_thread; ///< declared last: started once all else exists
};

/// etcd v3 through its JSON gateway. One lease per registration, kept here (key -> lease ID).
class Etcd3Registry final : public Registry {
public:
  Etcd3Registry(const Location& location, const Options& options)
      : m_description(describe_location(location)), m_client_options(client_options(options)),
        m_client(location.endpoints, m_client_options), m_user(options.username),
        m_password(options.password) {}

  std::string_view backend() const override { return "etcd3"; }
  std::string describe() const override { return m_description; }

  std::optional<KeyValue> get(std::string_view key) override {
    RangeRequest request;
    request.key = std::string(key);
    auto result = parse_range(call("/kv/range", range_request(request)));
    if (result.kvs.empty()) {
      return std::nullopt;
    }
    return std::move(result.kvs.front());
  }

  Snapshot list(std::string_view prefix) override {
    Snapshot snapshot;
    RangeRequest request = prefix_range(prefix);
    while (true) {
      auto page = range_page(request);
      if (request.revision == 0) {
        // Later pages read at the first page's revision: one consistent snapshot.
        request.revision = page.revision;
        snapshot.index = page.revision;
        // count is the whole range's: one allocation for every page.
        snapshot.entries.reserve(static_cast<std::size_t>(
            std::clamp<std::int64_t>(page.count, 0, std::int64_t{1} << 22)));
      }
      if (!page.kvs.empty()) {
        // Taken before the kvs are moved out: a moved-from last key would restart at "\0".
        request.key = page.kvs.back().key + '\0';
      }
      for (auto& kv : page.kvs) {
        if (key_in_dir(kv.key, prefix)) {
          snapshot.entries.push_back(std::move(kv));
        }
      }
      if (!page.more || page.kvs.empty()) {
        break;
      }
    }
    return snapshot;
  }

  void put(std::string_view key, std::string_view value) override {
    call("/kv/put", put_request(key, value));
  }

  bool remove(std::string_view key) override {
    return parse_delete(call("/kv/deleterange", delete_request(key))).deleted > 0;
  }

  WatchBatch watch(std::string_view prefix, std::int64_t after_index,
                   std::chrono::milliseconds max_wait) override;

  void register_instance(const Registration& reg) override;
  KeepAlive refresh_instance(const Registration& reg) override;
  void withdraw_instance(const Registration& reg, std::string_view reason) override;
  bool deregister_instance(const Registration& reg) override;
  std::vector<Instance> instances(const InstanceQuery& query) override;

  std::optional<std::size_t> count_in_other_keyspace(std::string_view prefix) override;

private:
  RangeResult range_page(RangeRequest& request);
  std::optional<RangeResult> grpc_range(const RangeRequest& request);
  http::Request make_request(std::string_view rpc, std::string body) const;
  json call(std::string_view rpc, const json& body);
  [[noreturn]] void throw_error(const http::Request& request, const http::Response& response,
                                const std::optional<GatewayError>& error) const;
  bool can_reauthenticate() const { return !m_user.empty() && !m_auth_disabled; }
  void ensure_token();
  void authenticate();
  void detect_api_prefix(const http::Response& not_found);
  bool is_missing_path(const http::Response& response,
                       const std::optional<GatewayError>& error) const;

  std::int64_t grant_lease(std::chrono::seconds ttl);
  void revoke_lease_quietly(std::int64_t id);
  std::unique_ptr<WatchStream> open_watch_stream(std::string_view prefix,
                                                 std::int64_t after_index) const;

  std::string m_description;
  http::ClientOptions m_client_options;
  http::Client m_client;
  /// list()'s gRPC connection, opened by the first list(): one-shot writes never pay for it.
  std::optional<http::Client> m_grpc;
  bool m_grpc_off = false; ///< the endpoint answers the gateway but not gRPC (a JSON-only proxy)
  std::string m_user;
  std::string m_password;
  std::string m_token;
  bool m_auth_disabled = false;
  std::string m_api_prefix = "/v3";
  bool m_api_prefix_known = false; ///< a request under m_api_prefix succeeded
  std::map<std::string, std::int64_t, std::less<>> m_leases; ///< registered key -> its lease
  std::unique_ptr<WatchStream> m_watch_stream; ///< watch()'s stream, kept open between calls
};

// One page of a range, over gRPC unless the endpoint does not serve it. `request.limit` is set
// here: the page size depends on which API answers.
RangeResult Etcd3Registry::range_page(RangeRequest& request) {
  if (!m_grpc_off) {
    request.limit = k_grpc_page_size;
    if (auto page = grpc_range(request)) {
      return std::move(*page);
    }
  }
  request.limit = k_page_size;
  RangeResult page = parse_range(call("/kv/range", range_request(request)));
  if (!m_grpc_off) {
    // The gateway answered where gRPC did not: this endpoint is a JSON-only proxy or an etcd
    // without gRPC on this port. Stop asking it.
    spdlog::debug("etcd at {} does not answer gRPC; reading through the JSON gateway",
                  m_client.current_endpoint().str());
    m_grpc_off = true;
  }
  return page;
}

// KV.Range over gRPC; nullopt when the endpoint did not answer as a gRPC server (so the caller
// asks the gateway), an Error for what etcd itself refused.
std::optional<RangeResult> Etcd3Registry::grpc_range(const RangeRequest& request) {
  ensure_token();
  if (!m_grpc) {
    http::ClientOptions options = m_client_options;
    options.http2 = true;
    m_grpc.emplace(m_client.endpoints(), std::move(options));
  }
  bool reauthenticated = false;
  while (true) {
    http::Request call_request;
    call_request.method = "POST";
    call_request.path = std::string(k_grpc_range_path);
    call_request.body = grpc_frame(encode_range_request(request));
    call_request.headers = {"Content-Type: application/grpc", "TE: trailers"};
    if (!m_token.empty()) {
      call_request.headers.push_back("token: " + m_token);
    }
    http::Response response;
    try {
      response = m_grpc->send(call_request);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::cancelled) {
        throw;
      }
      spdlog::debug("etcd gRPC range failed ({}); trying the JSON gateway", e.what());
      return std::nullopt;
    }
    auto status = grpc_status(response.headers);
    if (!response.ok() || !status) {
      spdlog::debug("etcd at {} answered gRPC with HTTP {} and no grpc-status", response.endpoint,
                    response.status);
      return std::nullopt;
    }
    if (status->code == 0) {
      return decode_range_response(grpc_unframe(response.body));
    }
    if (is_invalid_token(status->message) && can_reauthenticate() && !reauthenticated) {
      reauthenticated = true;
      authenticate();
      continue;
    }
    // Explained exactly as the gateway's answer to the same request would be.
    response.status = http_status_for_grpc(status->code);
    throw_error(call_request, response, GatewayError{status->message, status->code});
  }
}

http::Request Etcd3Registry::make_request(std::string_view rpc, std::string body) const {
  http::Request request;
  request.method = "POST";
  request.path = m_api_prefix + std::string(rpc);
  request.body = std::move(body);
  if (!m_token.empty()) {
    request.headers.push_back("Authorization: " + m_token);
  }
  return request;
}

json Etcd3Registry::call(std::string_view rpc, const json& body) {
  ensure_token();
  bool prefix_retried = false;
  bool reauthenticated = false;
  while (true) {
    http::Request request = make_request(rpc, body.dump());
    http::Response response = m_client.send(request);
    if (response.ok()) {
      m_api_prefix_known = true;
      return parse_body(response.body, fmt::format("POST {}", request.path));
    }
    auto error = parse_gateway_error(response.body);
    if (!prefix_retried && is_missing_path(response, error)) {
      prefix_retried = true;
      detect_api_prefix(response);
      continue;
    }
    if (error && is_invalid_token(error->message) && can_reauthenticate() && !reauthenticated) {
      // Simple tokens expire after a few idle minutes: one fresh token, one retry.
      reauthenticated = true;
      authenticate();
      continue;
    }
    throw_error(request, response, error);
  }
}

bool Etcd3Registry::is_missing_path(const http::Response& response,
                                    const std::optional<GatewayError>& error) const {
  // A gRPC error can be 404 too ("requested lease not found"); only a plain 404 means the
  // gateway lacks the path, i.e. an older etcd with /v3beta or /v3alpha.
  return response.status == 404 && !error && !m_api_prefix_known;
}

void Etcd3Registry::detect_api_prefix(const http::Response& not_found) {
  // Spent only after /v3 answered 404: etcd 3.4+ never pays for it.
  http::Request request;
  request.path = "/version";
  http::Response response = m_client.send(request);
  std::optional<std::string> prefix;
  if (response.ok()) {
    prefix = gateway_prefix_for_version(response.body);
  }
  if (!prefix) {
    std::string version = response.ok() ? std::string(trim(response.body)) : "no /version";
    throw Error(ErrorKind::config,
                fmt::format("{} has no etcd v3 JSON gateway at {}/ (it answered 404; {}): herald "
                            "needs etcd 3.2 or newer, or use etcd2:// for the v2 API",
                            not_found.endpoint, m_api_prefix, version.substr(0, 120)));
  }
  spdlog::info("etcd at {} is older than 3.4: using the {} gateway", response.endpoint, *prefix);
  m_api_prefix = *prefix;
}

void Etcd3Registry::ensure_token() {
  if (m_token.empty() && can_reauthenticate()) {
    authenticate();
  }
}

void Etcd3Registry::authenticate() {
  m_token.clear();
  bool prefix_retried = false;
  while (true) {
    http::Request request = make_request("/auth/authenticate", "");
    request.body = authenticate_request(m_user, m_password).dump();
    http::Response response = m_client.send(request);
    request.body.clear(); // the password must not reach an error message
    if (response.ok()) {
      m_api_prefix_known = true;
      m_token = parse_authenticate(parse_body(response.body, "an authentication request"));
      return;
    }
    auto error = parse_gateway_error(response.body);
    if (!prefix_retried && is_missing_path(response, error)) {
      prefix_retried = true;
      detect_api_prefix(response);
      continue;
    }
    if (error && is_auth_not_enabled(error->message)) {
      // As etcdctl does: credentials for a cluster without auth are not an error.
      spdlog::debug("etcd at {} has authentication disabled; sending no token", response.endpoint);
      m_auth_disabled = true;
      return;
    }
    if (error && is_auth_failed(error->message)) {
      throw Error(
          ErrorKind::config,
          fmt::format("etcd rejected user '{}': check --user and the password file", m_user));
    }
    throw_error(request, response, error);
  }
}

void Etcd3Registry::throw_error(const http::Request& request, const http::Response& response,
                                const std::optional<GatewayError>& error) const {
  if (error && is_auth_required(error->message)) {
    throw Error(ErrorKind::config,
                fmt::format("etcd at {} requires authentication: pass --user NAME and "
                            "--password-file FILE",
                            response.endpoint));
  }
  if (error && is_invalid_token(error->message) && m_user.empty()) {
    throw Error(ErrorKind::config,
                fmt::format("etcd at {} rejected the auth token: pass --user NAME and "
                            "--password-file FILE",
                            response.endpoint));
  }
  http::throw_status_error(request, response, error ? error->message : std::string());
}

std::int64_t Etcd3Registry::grant_lease(std::chrono::seconds ttl) {
  auto grant = parse_lease_grant(call("/lease/grant", lease_grant_request(ttl)));
  if (!grant.error.empty() || grant.id == 0) {
    throw Error(ErrorKind::temporary,
                fmt::format("etcd at {} did not grant a {}s lease: {}",
                            m_client.current_endpoint().str(), ttl.count(),
                            grant.error.empty() ? "no lease ID in the answer" : grant.error));
  }
  return grant.id;
}

void Etcd3Registry::revoke_lease_quietly(std::int64_t id) {
  try {
    // /kv/lease/revoke is the path every gateway version knows (3.4+ also has /lease/revoke).
    call("/kv/lease/revoke", lease_request(id));
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::not_found) {
      throw;
    }
    // Already expired or revoked: what we wanted.
  }
}

void Etcd3Registry::register_instance(const Registration& reg) {
  std::int64_t lease = grant_lease(reg.ttl);
  try {
    call("/kv/put", put_request(reg.key, reg.value, lease));
  } catch (const Error&) {
    try {
      revoke_lease_quietly(lease);
    } catch (const Error&) {
      // It expires on its own after reg.ttl.
    }
    throw;
  }
  auto [it, inserted] = m_leases.try_emplace(reg.key, lease);
  if (!inserted) {
    // The key is on the new lease already, so revoking the old one leaves it in place.
    std::int64_t old = std::exchange(it->second, lease);
    if (old != lease) {
      revoke_lease_quietly(old);
    }
  }
}

KeepAlive Etcd3Registry::refresh_instance(const Registration& reg) {
  auto it = m_leases.find(reg.key);
  if (it == m_leases.end()) {
    return KeepAlive::lost;
  }
  std::int64_t lease = it->second;
  // The gateway's keep-alive is a stream; with one request body it answers once and ends.
  auto alive = parse_keepalive(call("/lease/keepalive", lease_request(lease)));
  if (alive.ttl <= 0) {
    m_leases.erase(it);
    return KeepAlive::lost;
  }
  TxnResult txn;
  try {
    txn = parse_txn(call("/kv/txn", refresh_txn_request(reg.key, reg.value, lease)));
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::not_found) {
      throw;
    }
    m_leases.erase(reg.key); // the lease lapsed between keep-alive and txn
    return KeepAlive::lost;
  }
  if (!txn.succeeded) {
    spdlog::info("{} was deleted or changed by someone else: wrote it again", reg.key);
  }
  return KeepAlive::alive;
}

void Etcd3Registry::withdraw_instance(const Registration& reg, std::string_view /*reason*/) {
  deregister_instance(reg);
}

bool Etcd3Registry::deregister_instance(const Registration& reg) {
  auto result = parse_delete(call("/kv/deleterange", delete_request(reg.key, {}, true)));
  if (auto it = m_leases.find(reg.key); it != m_leases.end()) {
    revoke_lease_quietly(it->second);
    m_leases.erase(it);
  }
  return result.deleted > 0;
}

std::vector<Instance> Etcd3Registry::instances(const InstanceQuery& query) {
  Snapshot snapshot = list(query.prefix);
  if (query.with_ttl) {
    std::map<std::int64_t, std::optional<std::chrono::seconds>> ttls;
    for (const auto& kv : snapshot.entries) {
      if (kv.lease != 0 && !ttls.contains(kv.lease)) {
        auto ttl = parse_time_to_live(call("/kv/lease/timetolive", lease_request(kv.lease)));
        ttls[kv.lease] = ttl.ttl >= 0 ? std::optional(std::chrono::seconds(ttl.ttl)) : std::nullopt;
      }
    }
    for (auto& kv : snapshot.entries) {
      if (kv.lease != 0) {
        kv.ttl = ttls[kv.lease];
      }
    }
  }
  return instances_from_snapshot(snapshot, query);
}

std::optional<std::size_t> Etcd3Registry::count_in_other_keyspace(std::string_view prefix) {
  try {
    http::Request request;
    request.path = v2_keys_path(prefix) + "?recursive=true";
    http::Response response = m_client.send(request);
    auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (response.status == 404 && body.is_object() && body.value("errorCode", 0) == 100) {
      return 0; // "Key not found": the v2 keyspace has nothing there
    }
    if (!response.ok() || !body.is_object() || !body.contains("node")) {
      return std::nullopt; // v2 disabled (a plain 404), v2 auth, or not etcd
    }
    return count_v2_leaves(body["node"]);
  } catch (const std::exception&) {
    return std::nullopt; // a diagnostic only: never in the way of the real work
  }
}

WatchBatch Etcd3Registry::watch(std::string_view prefix, std::int64_t after_index,
                                std::chrono::milliseconds max_wait) {
  ensure_token();
  auto deadline = std::chrono::steady_clock::now() + max_wait;
  // A caller continuing where the last batch ended finds the stream open and its changes queued;
  // any other prefix or index (a first watch, a re-list) starts a stream from there.
  if (m_watch_stream &&
      (m_watch_stream->prefix() != prefix || m_watch_stream->delivered() != after_index)) {
    m_watch_stream.reset();
  }
  bool prefix_retried = false;
  bool reauthenticated = false;
  while (true) {
    if (!m_watch_stream) {
      m_watch_stream = open_watch_stream(prefix, after_index);
    }
    if (!m_watch_stream->wait(deadline, m_client_options.stop)) {
      WatchBatch quiet; // max_wait passed; the stream stays open for the next call
      quiet.index = after_index;
      return quiet;
    }
    std::optional<StreamEnd> end = m_watch_stream->end();
    if (!end) {
      return m_watch_stream->take(after_index);
    }
    auto age = std::chrono::steady_clock::now() - m_watch_stream->started();
    m_watch_stream.reset();
    if (end->compact_revision > 0) {
      WatchBatch batch;
      batch.resync = true;
      batch.index = end->compact_revision;
      return batch;
    }
    if (end->failure) {
      if (end->failure->kind() == ErrorKind::temporary &&
          age + k_watch_slack >= k_stream_lifetime) {
        continue; // the stream reached its lifetime: renewed from the same index
      }
      throw *end->failure;
    }
    if (end->malformed) {
      throw *end->malformed;
    }
    const http::Response& response = end->response;
    if (!response.ok()) {
      auto error = parse_gateway_error(response.body);
      if (!prefix_retried && is_missing_path(response, error)) {
        prefix_retried = true;
        detect_api_prefix(response);
        continue;
      }
      if (error && is_invalid_token(error->message) && can_reauthenticate() && !reauthenticated) {
        reauthenticated = true;
        authenticate();
        continue;
      }
      throw_error(make_request("/watch", watch_create_request(prefix, after_index + 1).dump()),
                  response, error);
    }
    m_api_prefix_known = true;
    if (end->ended) {
      const std::string& ended = *end->ended;
      if (is_invalid_token(ended) && can_reauthenticate() && !reauthenticated) {
        reauthenticated = true;
        authenticate();
        continue;
      }
      if (is_auth_required(ended) || is_invalid_token(ended)) {
        throw Error(ErrorKind::config,
                    fmt::format("etcd at {} requires authentication to watch '{}': pass --user "
                                "NAME and --password-file FILE",
                                response.endpoint, prefix));
      }
      if (ended.find("permission denied") != std::string::npos) {
        throw Error(ErrorKind::config,
                    fmt::format("etcd at {} denied user '{}' a watch of '{}': grant it read "
                                "access to that prefix",
                                response.endpoint, m_user, prefix));
      }
      throw Error(ErrorKind::unavailable, fmt::format("etcd at {} ended the watch of '{}': {}",
                                                      response.endpoint, prefix, ended));
    }
    throw Error(ErrorKind::unavailable,
                fmt::format("etcd at {} closed the watch stream of '{}' without an event",
                            response.endpoint, prefix));
  }
}

std::unique_ptr<WatchStream> Etcd3Registry::open_watch_stream(std::string_view prefix,
                                                              std::int64_t after_index) const {
  http::Request request =
      make_request("/watch", watch_create_request(prefix, after_index + 1).dump());
  request.timeout = k_stream_lifetime;
  // The stream starts at the endpoint the other requests found answering.
  std::vector<http::Endpoint> endpoints = m_client.endpoints();
  std::string current = m_client.current_endpoint().str();
  std::stable_partition(endpoints.begin(), endpoints.end(),
                        [&](const http::Endpoint& e) { return e.str() == current; });
  return std::make_unique<WatchStream>(std::move(endpoints), m_client_options, std::string(prefix),
                                       std::move(request), after_index);
}

} // namespace

} // namespace etcd3

std::unique_ptr<Registry> make_etcd3_registry(const Location& location, const Options& options) {
  if (location.endpoints.empty()) {
    throw Error(ErrorKind::config, "the etcd registry URL names no endpoint");
  }
  return std::make_unique<etcd3::Etcd3Registry>(location, options);
}

} // namespace herald::registry
