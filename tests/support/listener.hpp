#pragma once

namespace herald::test {

/// A TCP listener on 127.0.0.1 (an ephemeral port) that a --check-tcp probe finds open, or
/// closed after close(); reopen() listens again on the same port.
class Listener {
public:
  Listener();
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  /// The port it listens on (kept across close() and reopen()).
  int port() const { return m_port; }
  /// Stops listening: connects are refused.
  void close();
  /// Listens again on the same port.
  void reopen();

private:
  void open(int port);

  int m_fd = -1;
  int m_port = 0;
};

} // namespace herald::test
