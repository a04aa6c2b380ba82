// Etcd3Registry::watch(): hands out what the kept-open stream (etcd3_watch_stream.cpp) queued and
// judges how a stream ended: renewed at its lifetime, a resync after compaction, one recovery of
// the gateway prefix or the token, or an error in the user's terms.
#include "herald/core/error.hpp"
#include "herald/registry/etcd3/etcd3_registry_impl.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <utility>

namespace herald::registry::etcd3 {

namespace {

// A watch stream whose request timeout fires this close to its lifetime ended on time, not on a
// problem.
constexpr std::chrono::milliseconds k_watch_slack{50};

} // namespace

WatchBatch Etcd3Registry::watch(std::string_view prefix, std::int64_t after_index,
                                std::chrono::milliseconds max_wait) {
  m_gateway.ensure_token();
  auto deadline = std::chrono::steady_clock::now() + max_wait;
  // A caller continuing where the last batch ended finds the stream open and its changes queued;
  // any other prefix or index (a first watch, a re-list) starts a stream from there.
  if (m_watch_stream &&
      (m_watch_stream->prefix() != prefix || m_watch_stream->delivered() != after_index)) {
    m_watch_stream.reset();
  }
  Recovery recovery;
  while (true) {
    if (!m_watch_stream) {
      m_watch_stream = open_watch_stream(prefix, after_index);
    }
    if (!m_watch_stream->wait(deadline, m_gateway.client_options().stop)) {
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
      if (m_gateway.recover(response, error, recovery)) {
        continue;
      }
      m_gateway.throw_error(
          m_gateway.make_request("/watch", watch_create_request(prefix, after_index + 1).dump()),
          response, error);
    }
    m_gateway.confirm_prefix();
    if (end->ended) {
      const std::string& ended = *end->ended;
      if (m_gateway.renew_token(ended, recovery)) {
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
                                response.endpoint, m_gateway.user(), prefix));
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
      m_gateway.make_request("/watch", watch_create_request(prefix, after_index + 1).dump());
  request.timeout = k_stream_lifetime;
  // The stream starts at the endpoint the other requests found answering.
  std::vector<http::Endpoint> endpoints = m_gateway.client().endpoints();
  std::string current = m_gateway.client().current_endpoint().str();
  std::stable_partition(endpoints.begin(), endpoints.end(),
                        [&](const http::Endpoint& e) { return e.str() == current; });
  return std::make_unique<WatchStream>(std::move(endpoints), m_gateway.client_options(),
                                       std::string(prefix), std::move(request), after_index);
}

} // namespace herald::registry::etcd3
