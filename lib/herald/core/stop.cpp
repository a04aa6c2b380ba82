#include "herald/core/stop.hpp"

#include "herald/core/error.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace herald {

namespace {

// The one process-wide pointer a signal handler needs; set only by install_stop_signals().
std::atomic<StopToken*> g_signal_target{nullptr};

void on_stop_signal(int sig) {
  StopToken* token = g_signal_target.load();
  if (token != nullptr) {
    token->request(sig);
  }
}

} // namespace

StopToken::StopToken() {
  if (::pipe2(m_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw Error(ErrorKind::internal, "cannot create the stop pipe");
  }
}

StopToken::~StopToken() {
  StopToken* self = this;
  g_signal_target.compare_exchange_strong(self, nullptr);
  ::close(m_pipe[0]);
  ::close(m_pipe[1]);
}

void StopToken::request(int sig) noexcept {
  int saved_errno = errno;
  m_signal.store(sig, std::memory_order_release);
  if (!m_requested.exchange(true, std::memory_order_acq_rel)) {
    char byte = 1;
    [[maybe_unused]] auto n = ::write(m_pipe[1], &byte, 1);
  }
  errno = saved_errno;
}

bool StopToken::wait_for(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!requested()) {
    // Round up: poll() takes whole milliseconds and must not wake before the deadline.
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd pfd{m_pipe[0], POLLIN, 0};
    int rc = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
    if (rc < 0 && errno != EINTR) {
      return requested();
    }
  }
  return true;
}

void install_stop_signals(StopToken& token) {
  g_signal_target.store(&token);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  // A closed terminal or ssh session must not kill a sidekick before it deregisters.
  ::sigaction(SIGHUP, &sa, nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGPIPE, &ignore, nullptr);
}

} // namespace herald
