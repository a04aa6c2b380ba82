#include "herald/http/client.hpp"

#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"
#include "herald/core/size.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <curl/curl.h>
#include <exception>
#include <fmt/format.h>
#include <mutex>
#include <new>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace herald::http {

namespace {

// How long one curl_multi_poll() may sleep when curl has no earlier timer of its own; the stop
// token's fd wakes it at once, so this only bounds a wait nobody cares about.
constexpr int k_poll_ceiling_ms = 5000;
// Longest server message kept in a status error: enough for etcd/Consul/Docker's own words.
constexpr std::size_t k_max_server_message = 240;

void init_curl_once() {
  // curl_global_init is not thread-safe and must run once; a Client is the only thing that needs
  // it, so a command that never talks HTTP never pays for it.
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw Error(ErrorKind::internal, "cannot initialise libcurl");
    }
  });
}

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct MultiDeleter {
  void operator()(CURLM* handle) const { curl_multi_cleanup(handle); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using MultiPtr = std::unique_ptr<CURLM, MultiDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

/// Appends `line` to `list`, keeping ownership in `list` even when the append fails.
void append_header(SlistPtr& list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (grown == nullptr) {
    throw std::bad_alloc();
  }
  static_cast<void>(list.release());
  list.reset(grown);
}

template <typename T> void set_option(CURL* easy, CURLoption option, T value) {
  CURLcode rc = curl_easy_setopt(easy, option, value);
  if (rc != CURLE_OK) {
    throw Error(ErrorKind::internal, fmt::format("libcurl rejected option {}: {}",
                                                 static_cast<int>(option), curl_easy_strerror(rc)));
  }
}

std::string_view trim_line(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

/// The request path as shown in messages: without the query, which may carry credentials.
std::string_view display_path(std::string_view path) {
  return path.substr(0, path.find_first_of("?#"));
}

bool is_tls_failure(CURLcode rc) {
  switch (rc) {
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_USE_SSL_FAILED:
    return true;
  default:
    return false;
  }
}

/// `text` on one line: control characters become spaces, runs of spaces collapse, and it is cut
/// to a length a terminal line can carry.
std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(std::min(text.size(), k_max_server_message + 3));
  bool space = false;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out.push_back(' ');
      space = false;
    }
    out.push_back(c);
    if (out.size() >= k_max_server_message) {
      out += "...";
      break;
    }
  }
  return out;
}

} // namespace

const char* reason_phrase(long status) {
  switch (status) {
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 204:
    return "No Content";
  case 301:
    return "Moved Permanently";
  case 302:
    return "Found";
  case 304:
    return "Not Modified";
  case 307:
    return "Temporary Redirect";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 409:
    return "Conflict";
  case 412:
    return "Precondition Failed";
  case 413:
    return "Payload Too Large";
  case 429:
    return "Too Many Requests";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Timeout";
  default:
    return "";
  }
}

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

struct Client::Impl {
  std::vector<Endpoint> endpoints;
  ClientOptions options;
  /// "scheme://host:port/base" per endpoint, computed once; request paths are appended to it.
  std::vector<std::string> url_prefixes;
  /// Endpoint::str() per endpoint, for Response::endpoint and messages.
  std::vector<std::string> names;
  std::size_t current = 0;
  /// The endpoint whose socket settings are on the easy handle, to skip re-setting them.
  std::size_t configured = static_cast<std::size_t>(-1);

  // The multi handle owns the connection cache, so it lives as long as the Client and the easy
  // handle is only added to it for the duration of one transfer. Declared first: destroyed last.
  MultiPtr multi;
  EasyPtr easy;
  // Header lists are built once: the heartbeat sends the same ones every time.
  SlistPtr default_headers;
  SlistPtr combined_headers;
  std::vector<std::string> combined_extra;
  curl_slist* headers_on_handle = nullptr;
  std::string method_on_handle;
  bool body_on_handle = false;
  std::string url;
  char error_buffer[CURL_ERROR_SIZE] = {};

  // State of the transfer in progress, read by the callbacks.
  Response* response = nullptr;
  const LineHandler* on_line = nullptr;
  std::optional<std::size_t> max_body;
  bool status_known = false;
  bool streaming = false;
  bool answered = false;
  bool stopped_by_handler = false;
  bool too_large = false; ///< the body or a streamed line passed options.max_response
  std::string pending_line;
  std::exception_ptr handler_error;

  Impl(std::vector<Endpoint> list, ClientOptions opts)
      : endpoints(std::move(list)), options(std::move(opts)) {
    if (endpoints.empty()) {
      throw Error(ErrorKind::config, fmt::format("no endpoint given for {}", options.name));
    }
    check_readable(options.tls.ca_file, "CA file", "--cacert");
    check_readable(options.tls.cert_file, "client certificate", "--cert");
    check_readable(options.tls.key_file, "client key", "--key");
    for (const Endpoint& endpoint : endpoints) {
      names.push_back(endpoint.str());
      // Over a unix socket the host part of the URL only fills the Host header.
      url_prefixes.push_back((endpoint.unix_socket.empty() ? names.back() : "http://localhost") +
                             endpoint.base_path);
    }

    init_curl_once();
    multi.reset(curl_multi_init());
    easy.reset(curl_easy_init());
    if (!multi || !easy) {
      throw Error(ErrorKind::internal, "cannot create a libcurl handle");
    }
    configure_handle();
  }

  static void check_readable(const std::string& path, const char* what, const char* flag) {
    if (!path.empty() && ::access(path.c_str(), R_OK) != 0) {
      throw Error(ErrorKind::config, fmt::format("cannot read the {} '{}': {}; check {}", what,
                                                 path, std::strerror(errno), flag));
    }
  }

  void configure_handle() {
    CURL* h = easy.get();
    set_option(h, CURLOPT_NOSIGNAL, 1L);
    set_option(h, CURLOPT_ERRORBUFFER, error_buffer);
    set_option(h, CURLOPT_WRITEFUNCTION, &Impl::on_body);
    set_option(h, CURLOPT_WRITEDATA, this);
    set_option(h, CURLOPT_HEADERFUNCTION, &Impl::on_header);
    set_option(h, CURLOPT_HEADERDATA, this);
    set_option(h, CURLOPT_PROTOCOLS_STR, "http,https");
    set_option(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    // Registries, Docker and fleet are cluster-internal; an http_proxy meant for the web must not
    // capture them (and tests must never leave 127.0.0.1).
    set_option(h, CURLOPT_PROXY, "");
    set_option(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
    // Long polls sit idle for minutes; keep-alive probes notice a peer that vanished.
    set_option(h, CURLOPT_TCP_KEEPALIVE, 1L);
    set_option(h, CURLOPT_TCP_KEEPIDLE, 30L);
    set_option(h, CURLOPT_TCP_KEEPINTVL, 10L);

    const TlsOptions& tls = options.tls;
    if (!tls.ca_file.empty()) {
      set_option(h, CURLOPT_CAINFO, tls.ca_file.c_str());
    }
    if (!tls.cert_file.empty()) {
      set_option(h, CURLOPT_SSLCERT, tls.cert_file.c_str());
    }
    if (!tls.key_file.empty()) {
      set_option(h, CURLOPT_SSLKEY, tls.key_file.c_str());
    }
    if (tls.insecure_skip_verify) {
      set_option(h, CURLOPT_SSL_VERIFYPEER, 0L);
      set_option(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }

    for (const std::string& line : options.default_headers) {
      append_header(default_headers, line);
    }
    // Without this curl waits up to a second for "100 Continue" before sending a larger body.
    append_header(default_headers, "Expect:");
  }

  curl_slist* headers_for(const Request& request) {
    if (request.headers.empty()) {
      return default_headers.get();
    }
    if (!combined_headers || request.headers != combined_extra) {
      SlistPtr list;
      for (const std::string& line : options.default_headers) {
        append_header(list, line);
      }
      for (const std::string& line : request.headers) {
        append_header(list, line);
      }
      append_header(list, "Expect:");
      if (headers_on_handle == combined_headers.get()) {
        headers_on_handle = nullptr; // the old list is about to be freed
      }
      combined_headers = std::move(list);
      combined_extra = request.headers;
    }
    return combined_headers.get();
  }

  void use_endpoint(std::size_t index) {
    if (configured == index) {
      return;
    }
    const Endpoint& endpoint = endpoints[index];
    set_option(easy.get(), CURLOPT_UNIX_SOCKET_PATH,
               endpoint.unix_socket.empty() ? nullptr : endpoint.unix_socket.c_str());
    if (options.http2) {
      // gRPC servers speak HTTP/2 from the first byte on plain TCP; over TLS ALPN agrees on it.
      set_option(easy.get(), CURLOPT_HTTP_VERSION,
                 static_cast<long>(endpoint.scheme == "https"
                                       ? CURL_HTTP_VERSION_2TLS
                                       : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE));
      // libcurl 7.88 (Debian 12) fails the second request on a kept HTTP/2 connection when the
      // same easy handle is added to the multi handle again ("Error in the HTTP2 framing
      // layer"): one connection per request instead.
      set_option(easy.get(), CURLOPT_FORBID_REUSE, 1L);
      // With its default 16 KiB receive buffer, libcurl 7.88 leaves the end of a large HTTP/2
      // answer unprocessed until its next timer fires (a 1.7 MB range stalled for the 2 s of the
      // connect timeout in 1 run of 6); with 1 MiB it did not stall in 150 runs.
      set_option(easy.get(), CURLOPT_BUFFERSIZE, 1L << 20);
    }
    configured = index;
  }

  void prepare(const Request& request, std::size_t index) {
    CURL* h = easy.get();
    use_endpoint(index);

    url.assign(url_prefixes[index]);
    if (request.path.empty() || request.path.front() != '/') {
      url.push_back('/');
    }
    url.append(request.path);
    set_option(h, CURLOPT_URL, url.c_str());

    const std::string& method = request.method;
    bool head = method == "HEAD";
    bool with_body =
        !request.body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
    if (with_body) {
      // The body pointer changes every time; setting it copies nothing.
      set_option(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      set_option(h, CURLOPT_POSTFIELDS, request.body.data());
    }
    // curl copies a custom method string, so repeat requests (the heartbeat) skip re-setting it.
    if (method != method_on_handle || with_body != body_on_handle) {
      set_option(h, CURLOPT_NOBODY, head ? 1L : 0L);
      if (head) {
        set_option(h, CURLOPT_CUSTOMREQUEST, static_cast<const char*>(nullptr));
      } else if (with_body) {
        set_option(h, CURLOPT_CUSTOMREQUEST, method == "POST" ? nullptr : method.c_str());
      } else {
        set_option(h, CURLOPT_HTTPGET, 1L);
        set_option(h, CURLOPT_CUSTOMREQUEST, method == "GET" ? nullptr : method.c_str());
      }
      method_on_handle = method;
      body_on_handle = with_body;
    }

    curl_slist* headers = headers_for(request);
    if (headers != headers_on_handle) {
      set_option(h, CURLOPT_HTTPHEADER, headers);
      headers_on_handle = headers;
    }

    auto timeout = request.timeout.value_or(options.request_timeout);
    set_option(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  }

  void reset_transfer(Response& out, const LineHandler* handler,
                      std::optional<std::size_t> body_limit) {
    out.status = 0;
    out.truncated = false;
    max_body = handler == nullptr ? body_limit : std::nullopt;
    out.body.clear();
    out.headers.clear();
    out.headers.reserve(8); // one allocation for the usual handful of response headers
    response = &out;
    on_line = handler;
    status_known = false;
    streaming = false;
    answered = false;
    stopped_by_handler = false;
    too_large = false;
    pending_line.clear();
    handler_error = nullptr;
    error_buffer[0] = '\0';
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* self = static_cast<Impl*>(user);
    std::size_t length = size * count;
    std::string_view line(data, length);
    self->answered = true;
    if (line.starts_with("HTTP/")) {
      // A new status line (after "100 Continue" or an informational answer) starts afresh.
      self->response->headers.clear();
      return length;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return length;
    }
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), ascii_lower);
    self->response->headers.emplace_back(std::move(name),
                                         std::string(trim_line(line.substr(colon + 1))));
    return length;
  }

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* self = static_cast<Impl*>(user);
    std::size_t length = size * count;
    self->answered = true;
    if (self->on_line == nullptr) {
      std::string& body = self->response->body;
      if (self->max_body && body.size() + length > *self->max_body) {
        body.append(data, *self->max_body - body.size());
        self->response->truncated = true;
        self->stopped_by_handler = true; // enough: end the transfer as a handler would
        return CURL_WRITEFUNC_ERROR;
      }
      if (!self->max_body && body.size() + length > self->options.max_response) {
        self->too_large = true;
        return CURL_WRITEFUNC_ERROR;
      }
      body.append(data, length);
      return length;
    }
    if (!self->status_known) {
      long status = 0;
      curl_easy_getinfo(self->easy.get(), CURLINFO_RESPONSE_CODE, &status);
      self->streaming = status >= 200 && status < 300;
      self->status_known = true;
    }
    if (!self->streaming) {
      if (self->response->body.size() + length > self->options.max_response) {
        self->too_large = true;
        return CURL_WRITEFUNC_ERROR;
      }
      self->response->body.append(data, length);
      return length;
    }
    if (self->pending_line.size() + length > self->options.max_response &&
        std::string_view(data, length).find('\n') == std::string_view::npos) {
      self->too_large = true; // one endless line
      return CURL_WRITEFUNC_ERROR;
    }
    try {
      if (!self->feed_lines(std::string_view(data, length))) {
        self->stopped_by_handler = true;
        return CURL_WRITEFUNC_ERROR;
      }
    } catch (...) {
      self->handler_error = std::current_exception();
      return CURL_WRITEFUNC_ERROR;
    }
    return length;
  }

  bool deliver(std::string_view line) {
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    return (*on_line)(line);
  }

  /// Splits a chunk into lines; a line cut across chunks waits in pending_line for its end.
  bool feed_lines(std::string_view chunk) {
    if (!pending_line.empty()) {
      auto newline = chunk.find('\n');
      if (newline == std::string_view::npos) {
        pending_line.append(chunk);
        return true;
      }
      pending_line.append(chunk.substr(0, newline));
      chunk.remove_prefix(newline + 1);
      if (!deliver(pending_line)) {
        return false;
      }
      pending_line.clear();
    }
    for (auto newline = chunk.find('\n'); newline != std::string_view::npos;
         newline = chunk.find('\n')) {
      if (!deliver(chunk.substr(0, newline))) {
        return false;
      }
      chunk.remove_prefix(newline + 1);
    }
    pending_line.append(chunk);
    return true;
  }

  /// Runs one transfer on the multi handle so that the stop token's fd can end it at any moment.
  CURLcode perform(const Request& request, std::size_t index) {
    CURLM* m = multi.get();
    CURL* h = easy.get();
    const StopToken* stop = options.stop;
    if (stop != nullptr && stop->requested()) {
      throw_cancelled(request, index);
    }
    CURLMcode mc = curl_multi_add_handle(m, h);
    if (mc != CURLM_OK) {
      throw Error(ErrorKind::internal,
                  fmt::format("libcurl cannot start a transfer: {}", curl_multi_strerror(mc)));
    }
    // Removing the handle also aborts a transfer that is still running (on cancel).
    struct Detach {
      CURLM* m;
      CURL* h;
      ~Detach() { curl_multi_remove_handle(m, h); }
    } detach{m, h};

    curl_waitfd stop_fd{};
    if (stop != nullptr) {
      stop_fd.fd = stop->fd();
      stop_fd.events = CURL_WAIT_POLLIN;
    }
    while (true) {
      int running = 0;
      mc = curl_multi_perform(m, &running);
      if (mc != CURLM_OK) {
        throw Error(ErrorKind::internal,
                    fmt::format("libcurl transfer failed: {}", curl_multi_strerror(mc)));
      }
      if (running == 0) {
        break;
      }
      mc = curl_multi_poll(m, stop != nullptr ? &stop_fd : nullptr, stop != nullptr ? 1 : 0,
                           k_poll_ceiling_ms, nullptr);
      if (mc != CURLM_OK) {
        throw Error(ErrorKind::internal,
                    fmt::format("libcurl cannot wait: {}", curl_multi_strerror(mc)));
      }
      if (stop != nullptr && stop->requested()) {
        throw_cancelled(request, index);
      }
    }

    CURLcode result = CURLE_FAILED_INIT;
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(m, &left)) {
      if (message->msg == CURLMSG_DONE && message->easy_handle == h) {
        result = message->data.result;
      }
    }
    return result;
  }

  [[noreturn]] void throw_cancelled(const Request& request, std::size_t index) const {
    throw Error(ErrorKind::cancelled,
                fmt::format("{} at {}: {} {}: interrupted", options.name, names[index],
                            request.method, display_path(request.path)));
  }

  /// How a transfer that got no answer failed, in a few words ("connection refused").
  std::string describe_failure(CURLcode rc, std::size_t index, const Request& request) const {
    CURL* h = easy.get();
    const Endpoint& endpoint = endpoints[index];
    std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return fmt::format("cannot resolve host '{}' (DNS)", endpoint.host);
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
      switch (os_errno) {
      case ECONNREFUSED:
        return "connection refused";
      case ENOENT:
        return "no such socket";
      case EACCES:
      case EPERM:
        return "permission denied";
      case ENETUNREACH:
      case EHOSTUNREACH:
        return "host unreachable";
      case ETIMEDOUT:
        return "connect timed out";
      default:
        return fmt::format("cannot connect: {}", detail);
      }
    }
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t pretransfer = 0;
      curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
      auto total = request.timeout.value_or(options.request_timeout);
      if (pretransfer == 0) {
        auto limit = options.connect_timeout;
        if (total.count() > 0 && total < limit) {
          limit = total;
        }
        return fmt::format("timed out after {}", format_duration(limit));
      }
      return fmt::format("timed out after {} waiting for the response", format_duration(total));
    }
    case CURLE_GOT_NOTHING:
      return "closed the connection without answering (an https endpoint spoken to as http?)";
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
      if (endpoint.scheme == "https" && options.tls.cert_file.empty()) {
        // A TLS 1.3 server checks the client certificate after the handshake and may just hang up.
        return fmt::format("connection lost ({}); if it requires a client certificate, pass "
                           "--cert and --key",
                           detail);
      }
      return fmt::format("connection lost ({})", detail);
    default:
      return detail;
    }
  }

  /// True when the peer ended the connection with a TLS alert (a rejected client certificate
  /// under TLS 1.3 arrives as a failed read, not as a handshake error).
  bool is_tls_alert(CURLcode rc, std::size_t index) const {
    return (rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR) &&
           endpoints[index].scheme == "https" && std::strstr(error_buffer, " alert ") != nullptr;
  }

  [[noreturn]] void throw_tls_error(CURLcode rc, std::size_t index) const {
    std::string where = fmt::format("{} at {}", options.name, names[index]);
    std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
      throw Error(ErrorKind::config,
                  fmt::format("{}: TLS certificate not trusted ({}); pass the CA that signed it "
                              "with --cacert",
                              where, detail));
    case CURLE_SSL_CACERT_BADFILE:
      throw Error(ErrorKind::config,
                  fmt::format("{}: cannot use the CA file '{}' ({}); check --cacert", where,
                              options.tls.ca_file, detail));
    case CURLE_SSL_CERTPROBLEM:
      throw Error(ErrorKind::config,
                  fmt::format("{}: cannot use the client certificate ({}); check --cert and --key",
                              where, detail));
    default:
      throw Error(ErrorKind::config,
                  fmt::format("{}: TLS handshake failed ({}); check that it serves https and "
                              "whether it needs --cacert, --cert and --key",
                              where, detail));
    }
  }

  Response run(const Request& request, const LineHandler* handler) {
    Response out;
    std::string failures;
    std::size_t count = endpoints.size();
    // The timeout is what the caller waits for the whole request, failover included: each
    // endpoint gets what the ones before it left.
    auto timeout = request.timeout.value_or(options.request_timeout);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (std::size_t attempt = 0; attempt < count; ++attempt) {
      std::size_t index = (current + attempt) % count;
      reset_transfer(out, handler, request.max_body);
      prepare(request, index);
      if (timeout.count() > 0 && attempt > 0) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now());
        if (left.count() <= 0) {
          failures += fmt::format("; no time left within {} for {}", format_duration(timeout),
                                  names[index]);
          break;
        }
        set_option(easy.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
      }
      CURLcode rc = perform(request, index);
      response = nullptr;
      if (handler_error) {
        std::rethrow_exception(handler_error);
      }
      if (too_large) {
        stick_to(index, failures);
        throw Error(ErrorKind::data,
                    fmt::format("{} at {}: {} {}: the answer is larger than {}, more than any "
                                "real answer; refusing to read it",
                                options.name, names[index], request.method,
                                display_path(request.path), format_size(options.max_response)));
      }
      if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && stopped_by_handler)) {
        if (rc == CURLE_OK && streaming && !pending_line.empty()) {
          // The body ended without a final newline: its last line is still a line.
          deliver(pending_line);
        }
        curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &out.status);
        out.endpoint = names[index];
        stick_to(index, failures);
        return out;
      }
      if (is_tls_failure(rc) || is_tls_alert(rc, index)) {
        throw_tls_error(rc, index);
      }
      if (answered) {
        // The server answered and then failed us: another member would not have the rest of
        // this response, so the caller retries (a watch resumes from its last revision).
        stick_to(index, failures);
        std::string where = fmt::format("{} at {}: {} {}", options.name, names[index],
                                        request.method, display_path(request.path));
        if (rc == CURLE_OPERATION_TIMEDOUT) {
          throw Error(
              ErrorKind::temporary,
              fmt::format("{}: response not complete within {}", where,
                          format_duration(request.timeout.value_or(options.request_timeout))));
        }
        throw Error(ErrorKind::unavailable,
                    fmt::format("{}: {}", where, describe_failure(rc, index, request)));
      }
      std::string reason = describe_failure(rc, index, request);
      spdlog::debug("{} at {} failed: {}", options.name, names[index], reason);
      if (!failures.empty()) {
        failures += "; ";
      }
      failures += names[index];
      failures += ": ";
      failures += reason;
    }
    throw Error(ErrorKind::unavailable, fmt::format("{} at {}", options.name, failures));
  }

  void stick_to(std::size_t index, const std::string& failures) {
    if (index != current) {
      // One line per change of endpoint, never one per request.
      spdlog::info("{}: now using {} ({})", options.name, names[index], failures);
      current = index;
    }
  }
};

Client::Client(std::vector<Endpoint> endpoints, ClientOptions options)
    : m_impl(std::make_unique<Impl>(std::move(endpoints), std::move(options))) {}

Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

Response Client::send(const Request& request) {
  return m_impl->run(request, nullptr);
}

Response Client::stream(const Request& request, const LineHandler& on_line) {
  return m_impl->run(request, &on_line);
}

void Client::set_stop(const StopToken* stop) {
  m_impl->options.stop = stop;
}

const Endpoint& Client::current_endpoint() const {
  return m_impl->endpoints[m_impl->current];
}

const std::vector<Endpoint>& Client::endpoints() const {
  return m_impl->endpoints;
}

void throw_status_error(const Request& request, const Response& response,
                        std::string_view server_message) {
  ErrorKind kind = ErrorKind::data;
  long status = response.status;
  if (status == 401 || status == 403) {
    kind = ErrorKind::config;
  } else if (status == 404) {
    kind = ErrorKind::not_found;
  } else if (status == 408 || status == 429 || status >= 500) {
    kind = ErrorKind::temporary;
  } else if (status >= 300 && status < 400) {
    kind = ErrorKind::config; // a redirect means the endpoint URL points at the wrong place
  }

  std::string_view path = display_path(request.path);
  std::string message = fmt::format("{} {}{}{}: HTTP {}", request.method, response.endpoint,
                                    path.starts_with('/') ? "" : "/", path, status);
  if (const char* phrase = reason_phrase(status); *phrase != '\0') {
    message += ' ';
    message += phrase;
  }
  std::string said =
      one_line(server_message.empty() ? std::string_view(response.body) : server_message);
  if (!said.empty()) {
    message += ": ";
    message += said;
  }
  if (status == 401 || status == 403) {
    message += " (check the credentials)";
  }
  throw Error(kind, message);
}

} // namespace herald::http
