// The only translation unit that compiles Boost.Beast: the HTTP side of the launcher. Handler
// (handler.cpp) decides the answers; this file reads requests within limits and writes answers.
#include "herald/launch/server.hpp"

#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/launch/handler.hpp"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <charconv>
#include <fmt/format.h>
#include <list>
#include <mutex>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <thread>

namespace herald::launch {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

/// A connected socket that Beast reads and writes synchronously, where every read and write
/// waits at most until a deadline and ends at once when the server stops: synchronous Asio
/// has no timeouts of its own, and a client sending a byte a minute (slowloris) must not keep
/// a thread for ever. Satisfies Beast's SyncReadStream and SyncWriteStream.
class DeadlineStream {
public:
  DeadlineStream(tcp::socket& socket, int stop_fd) : m_socket(socket), m_stop_fd(stop_fd) {}

  void expires_at(Clock::time_point deadline) { m_deadline = deadline; }

  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, error_code& ec) {
    for (;;) {
      if (!wait_for(POLLIN, ec)) {
        return 0;
      }
      std::size_t n = m_socket.read_some(buffers, ec);
      if (ec != asio::error::would_block && ec != asio::error::try_again) {
        return n;
      }
    }
  }
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    error_code ec;
    auto n = read_some(buffers, ec);
    if (ec) {
      throw boost::system::system_error(ec);
    }
    return n;
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers, error_code& ec) {
    for (;;) {
      if (!wait_for(POLLOUT, ec)) {
        return 0;
      }
      std::size_t n = m_socket.write_some(buffers, ec);
      if (ec != asio::error::would_block && ec != asio::error::try_again) {
        return n;
      }
    }
  }
  template <class ConstBufferSequence> std::size_t write_some(const ConstBufferSequence& buffers) {
    error_code ec;
    auto n = write_some(buffers, ec);
    if (ec) {
      throw boost::system::system_error(ec);
    }
    return n;
  }

private:
  /// Waits until the socket is ready for `events`; false (and `ec` set) at the deadline or stop.
  bool wait_for(short events, error_code& ec) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(m_deadline - Clock::now());
      if (left.count() <= 0) {
        ec = asio::error::timed_out;
        return false;
      }
      pollfd fds[2] = {{m_socket.native_handle(), events, 0}, {m_stop_fd, POLLIN, 0}};
      int ready = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 60000)));
      if (ready < 0 && errno != EINTR) {
        ec = error_code(errno, boost::system::system_category());
        return false;
      }
      if (ready > 0 && fds[1].revents != 0) {
        ec = asio::error::operation_aborted;
        return false;
      }
      if (ready > 0 && fds[0].revents != 0) {
        return true;
      }
    }
  }

  tcp::socket& m_socket;
  int m_stop_fd;
  Clock::time_point m_deadline = Clock::now();
};

/// "host:port" or "[v6]:port" split; nullopt when malformed.
std::optional<std::pair<std::string, std::uint16_t>> split_listen(std::string_view listen) {
  std::string_view host;
  std::string_view port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find("]:");
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string_view::npos || listen.find(':') != colon) {
      return std::nullopt;
    }
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  unsigned value = 0;
  auto [end, err] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || port.empty() || err != std::errc() || end != port.data() + port.size() ||
      value > 65535) {
    return std::nullopt;
  }
  return std::pair(std::string(host), static_cast<std::uint16_t>(value));
}

std::string header_value(const http::request<http::string_body>& request, http::field field) {
  auto it = request.find(field);
  return it == request.end() ? std::string() : std::string(it->value());
}

std::string header_value(const http::request<http::string_body>& request, std::string_view name) {
  auto it = request.find(beast::string_view(name.data(), name.size()));
  return it == request.end() ? std::string() : std::string(it->value());
}

} // namespace

struct Server::Impl {
  Impl(ServeOptions options_, Policy& policy, Flights& flights, RoutableFn routable,
       Metrics& metrics)
      : options(std::move(options_)),
        handler(options, policy, flights, std::move(routable), metrics, stop) {}

  /// One connection's thread; `done` once it returned.
  struct Connection {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void serve(tcp::socket socket);
  void write(DeadlineStream& stream, const Response& answer, unsigned version, bool head,
             bool keep_alive);
  void linger(tcp::socket& socket, DeadlineStream& stream);
  void reap(bool all);

  ServeOptions options;
  StopToken stop; ///< ends the accept loop, every read and every held request
  Handler handler;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  bool started = false;
  std::atomic<int> active{0};
  std::list<Connection> connections; ///< touched by the accept loop's thread only
};

Server::Server(ServeOptions options, Policy& policy, Flights& flights, RoutableFn routable,
               Metrics& metrics)
    : m_impl(std::make_unique<Impl>(std::move(options), policy, flights, std::move(routable),
                                    metrics)) {
  flights.set_metrics(&metrics);
}

Server::~Server() {
  stop();
  m_impl->reap(true);
}

void Server::start() {
  if (m_impl->started) {
    return;
  }
  const auto& listen = m_impl->options.listen;
  auto parts = split_listen(listen);
  if (!parts) {
    throw Error(
        ErrorKind::config,
        fmt::format("launch: listen address {} is not HOST:PORT ([V6]:PORT)", quoted(listen)));
  }
  error_code ec;
  tcp::endpoint endpoint;
  auto address = asio::ip::make_address(parts->first, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, parts->second);
  } else {
    tcp::resolver resolver(m_impl->io);
    auto results = resolver.resolve(parts->first, std::to_string(parts->second), ec);
    if (ec || results.empty()) {
      throw Error(ErrorKind::config, fmt::format("launch: cannot resolve the listen address {}: {}",
                                                 quoted(listen), ec ? ec.message() : "no address"));
    }
    endpoint = results.begin()->endpoint();
  }
  auto& acceptor = m_impl->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (!ec) {
    acceptor.non_blocking(true, ec);
  }
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    throw Error(ErrorKind::unavailable,
                fmt::format("launch: cannot listen on {}: {}", quoted(listen), ec.message()));
  }
  m_impl->started = true;
}

std::uint16_t Server::port() const {
  error_code ec;
  auto endpoint = m_impl->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void Server::stop() {
  m_impl->stop.request();
}

void Server::run(const StopToken& stop) {
  start();
  auto& impl = *m_impl;
  spdlog::info("launch: serving on {} (port {})", impl.options.listen, port());
  while (!stop.requested() && !impl.stop.requested()) {
    pollfd fds[3] = {{impl.acceptor.native_handle(), POLLIN, 0},
                     {stop.fd(), POLLIN, 0},
                     {impl.stop.fd(), POLLIN, 0}};
    int ready = ::poll(fds, 3, 1000);
    impl.reap(false);
    if (ready <= 0 || fds[0].revents == 0) {
      continue;
    }
    error_code ec;
    tcp::socket socket(impl.io);
    impl.acceptor.accept(socket, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      continue;
    }
    if (ec) {
      // Out of descriptors or memory: let connections end before accepting again.
      spdlog::warn("launch: accept: {}", ec.message());
      impl.stop.wait_for(std::chrono::milliseconds(50));
      continue;
    }
    if (impl.active.load() >= impl.options.max_connections) {
      socket.close(ec);
      continue;
    }
    ++impl.active;
    auto& connection = impl.connections.emplace_back();
    try {
      connection.thread = std::thread([&impl, &connection, s = std::move(socket)]() mutable {
        impl.serve(std::move(s));
        --impl.active;
        connection.done = true;
      });
    } catch (const std::system_error& e) {
      impl.connections.pop_back();
      --impl.active;
      spdlog::warn("launch: cannot start a connection thread: {}", e.what());
    }
  }
  impl.stop.request();
  error_code ec;
  impl.acceptor.close(ec);
  impl.reap(true);
}

void Server::Impl::reap(bool all) {
  for (auto it = connections.begin(); it != connections.end();) {
    if (all || it->done.load()) {
      if (it->thread.joinable()) {
        it->thread.join();
      }
      it = connections.erase(it);
    } else {
      ++it;
    }
  }
}

void Server::Impl::write(DeadlineStream& stream, const Response& answer, unsigned version,
                         bool head, bool keep_alive) {
  http::response<http::string_body> response{static_cast<http::status>(answer.status), version};
  for (const auto& [name, value] : answer.headers) {
    response.set(beast::string_view(name.data(), name.size()),
                 beast::string_view(value.data(), value.size()));
  }
  response.body() = answer.body;
  response.keep_alive(keep_alive);
  response.prepare_payload();
  if (head) {
    response.body().clear(); // Content-Length stays that of the GET answer
  }
  stream.expires_at(Clock::now() + options.read_timeout);
  error_code ec;
  http::write(stream, response, ec);
}

void Server::Impl::linger(tcp::socket& socket, DeadlineStream& stream) {
  // Closing with unread bytes makes the kernel send a reset, which may destroy the answer
  // before the client reads it: say we are done, then read and drop what the client still
  // sends, for a bounded time and amount (nginx's lingering close).
  error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_at(Clock::now() + std::min<std::chrono::milliseconds>(options.read_timeout,
                                                                       std::chrono::seconds(1)));
  char sink[4096];
  std::size_t dropped = 0;
  while (!ec && dropped < 1024 * 1024) {
    dropped += stream.read_some(asio::buffer(sink), ec);
  }
}

void Server::Impl::serve(tcp::socket socket) {
  error_code ec;
  socket.non_blocking(true, ec);
  std::string peer;
  if (auto endpoint = socket.remote_endpoint(ec); !ec) {
    peer = endpoint.address().to_string();
  }
  DeadlineStream stream(socket, stop.fd());
  beast::flat_buffer buffer(k_header_limit + k_body_limit + 8192);
  try {
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(k_header_limit));
      parser.body_limit(k_body_limit);
      stream.expires_at(Clock::now() + options.read_timeout);
      http::read(stream, buffer, parser, ec);
      if (ec) {
        int status = 0;
        if (ec == http::error::header_limit) {
          status = 431;
        } else if (ec == http::error::body_limit) {
          status = 413;
        } else if (ec.category() == http::make_error_code(http::error::end_of_stream).category()) {
          // A malformed request gets nginx's 400; a connection that simply ended gets nothing.
          bool ended = ec == http::error::end_of_stream || ec == http::error::partial_message ||
                       ec == http::error::short_read;
          status = ended ? 0 : 400;
        }
        if (status != 0) {
          Response answer;
          answer.status = status;
          answer.headers.emplace_back("Content-Type", "text/html");
          answer.headers.emplace_back("Cache-Control", "no-store");
          auto reason = std::string(http::obsolete_reason(static_cast<http::status>(status)));
          answer.body = fmt::format("<html>\r\n<head><title>{0} {1}</title></head>\r\n<body>\r\n"
                                    "<center><h1>{0} {1}</h1></center>\r\n"
                                    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
                                    status, reason);
          write(stream, answer, 11, false, false);
          linger(socket, stream);
        }
        break;
      }
      auto& message = parser.get();
      Request request;
      request.method = std::string(message.method_string());
      request.target = std::string(message.target());
      request.host = header_value(message, http::field::host);
      request.accept = header_value(message, http::field::accept);
      request.client =
          client_address(peer, header_value(message, "X-Real-IP"),
                         header_value(message, "X-Forwarded-For"), options.trusted_proxies);
      auto answer = handler.handle(request);
      bool keep_alive = message.keep_alive() && !stop.requested();
      write(stream, answer, message.version(), message.method() == http::verb::head, keep_alive);
      if (!keep_alive) {
        break;
      }
    }
  } catch (const std::exception& e) {
    spdlog::debug("launch: connection from {}: {}", escape_control(peer), escape_control(e.what()));
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

} // namespace herald::launch
