#pragma once

#include "fleet/fixtures.hpp"
#include "support/temp_dir.hpp"

#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace herald::test {

/// A server on a unix socket that answers each request with the next recorded fleetd response,
/// byte for byte (chunked again where fleetd chunked), so the client under test reads exactly
/// what a real fleetd sent. A request nobody queued an answer for gets a 599.
class ReplayServer {
public:
  ReplayServer();
  ~ReplayServer();
  ReplayServer(const ReplayServer&) = delete;
  ReplayServer& operator=(const ReplayServer&) = delete;

  /// "unix:///tmp/.../fleet.sock"
  std::string url() const { return "unix://" + m_path; }

  /// Queues the response of exchange fixture `name` as the answer to the next request.
  void answer_with(const std::string& name);

  /// One request as it arrived.
  struct Received {
    std::string method;
    std::string target; ///< path and query, as sent
    std::vector<std::string> headers;
    std::string body;

    /// The value of header `name` (case-insensitive), "" when absent.
    std::string header(const std::string& name) const;
  };

  /// Every request so far, in order.
  std::vector<Received> received() const;

  /// Responses queued and not yet sent.
  std::size_t pending() const;

private:
  void serve();
  void serve_connection(int fd);

  TempDir m_dir;
  std::string m_path;
  int m_listen_fd = -1;
  std::atomic<bool> m_stop{false};
  mutable std::mutex m_mutex;
  std::deque<RecordedResponse> m_answers;
  std::vector<Received> m_received;
  std::thread m_thread;
};

} // namespace herald::test
