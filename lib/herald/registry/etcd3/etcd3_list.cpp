// Etcd3Registry::list(): a prefix read in pages at one revision, over etcd's gRPC KV.Range where
// the endpoint serves it (see etcd3_grpc.hpp) and through the JSON gateway where it does not.
#include "herald/core/error.hpp"
#include "herald/registry/etcd3/etcd3_grpc.hpp"
#include "herald/registry/etcd3/etcd3_registry_impl.hpp"
#include "herald/registry/layout.hpp"

#include <algorithm>
#include <chrono>
#include <spdlog/spdlog.h>
#include <utility>

namespace herald::registry::etcd3 {

namespace {

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

// The range of a directory-style prefix. etcd rejects an empty key, so "" is spelt "\0".
RangeRequest prefix_range(std::string_view prefix) {
  RangeRequest request;
  request.key = prefix.empty() ? std::string(1, '\0') : std::string(prefix);
  request.range_end = prefix_range_end(prefix);
  return request;
}

} // namespace

Snapshot Etcd3Registry::list(std::string_view prefix) {
  Snapshot snapshot;
  RangeRequest request = prefix_range(prefix);
  while (true) {
    auto page = range_page(request);
    if (request.revision == 0) {
      // Later pages read at the first page's revision: one consistent snapshot.
      request.revision = page.revision;
      snapshot.index = page.revision;
      // count is the whole range's: one allocation for every page.
      snapshot.entries.reserve(
          static_cast<std::size_t>(std::clamp<std::int64_t>(page.count, 0, std::int64_t{1} << 22)));
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
  RangeResult page = parse_range(m_gateway.call("/kv/range", range_request(request)));
  if (!m_grpc_off) {
    // The gateway answered where gRPC did not: this endpoint is a JSON-only proxy or an etcd
    // without gRPC on this port. Stop asking it.
    spdlog::debug("etcd at {} does not answer gRPC; reading through the JSON gateway",
                  m_gateway.client().current_endpoint().str());
    m_grpc_off = true;
  }
  return page;
}

// KV.Range over gRPC; nullopt when the endpoint did not answer as a gRPC server (so the caller
// asks the gateway), an Error for what etcd itself refused.
std::optional<RangeResult> Etcd3Registry::grpc_range(const RangeRequest& request) {
  m_gateway.ensure_token();
  if (!m_grpc) {
    http::ClientOptions options = m_gateway.client_options();
    options.http2 = true;
    m_grpc.emplace(m_gateway.client().endpoints(), std::move(options));
  }
  Recovery recovery;
  while (true) {
    http::Request call_request;
    call_request.method = "POST";
    call_request.path = std::string(k_grpc_range_path);
    call_request.body = grpc_frame(encode_range_request(request));
    call_request.headers = {"Content-Type: application/grpc", "TE: trailers"};
    if (!m_gateway.token().empty()) {
      call_request.headers.push_back("token: " + m_gateway.token());
    }
    http::Response response;
    auto started = std::chrono::steady_clock::now();
    try {
      response = m_grpc->send(call_request);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::cancelled) {
        throw;
      }
      // An endpoint that took the whole timeout without answering would keep the gateway
      // waiting as long again on the same port: the user's --timeout is the time they wait.
      if (std::chrono::steady_clock::now() - started >=
          m_gateway.client_options().request_timeout) {
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
    if (m_gateway.renew_token(status->message, recovery)) {
      continue;
    }
    // Explained exactly as the gateway's answer to the same request would be.
    response.status = http_status_for_grpc(status->code);
    m_gateway.throw_error(call_request, response, GatewayError{status->message, status->code});
  }
}

} // namespace herald::registry::etcd3
