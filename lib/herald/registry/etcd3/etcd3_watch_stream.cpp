#include "herald/core/strings.hpp"
#include "herald/registry/etcd3/etcd3_json.hpp"
#include "herald/registry/etcd3/etcd3_watch_stream_impl.hpp"
#include "herald/registry/layout.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <limits>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <utility>

namespace herald::registry::etcd3 {

WakeFd::WakeFd() : m_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (m_fd < 0) {
    throw Error(ErrorKind::internal, "cannot create the etcd watch stream's eventfd");
  }
}

WakeFd::~WakeFd() {
  ::close(m_fd);
}

void WakeFd::signal() const {
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(m_fd, &one, sizeof one);
}

void WakeFd::drain() const {
  std::uint64_t count = 0;
  [[maybe_unused]] auto n = ::read(m_fd, &count, sizeof count);
}

WatchStream::WatchStream(std::vector<http::Endpoint> endpoints, http::ClientOptions options,
                         std::string prefix, http::Request request, std::int64_t after_index)
    : m_prefix(std::move(prefix)), m_delivered(after_index),
      m_started(std::chrono::steady_clock::now()) {
  options.stop = &m_cancel;
  m_client = std::make_unique<http::Client>(std::move(endpoints), std::move(options));
  m_thread = std::thread([this, request = std::move(request)] { run(request); });
}

WatchStream::~WatchStream() {
  m_cancel.request();
  m_thread.join();
}

bool WatchStream::wait(std::chrono::steady_clock::time_point deadline, const StopToken* stop) {
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

WatchBatch WatchStream::take(std::int64_t after_index) {
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

std::optional<StreamEnd> WatchStream::end() {
  std::lock_guard lock(m_mutex);
  if (!m_events.empty() || !m_end) {
    return std::nullopt;
  }
  return m_end;
}

void WatchStream::run(const http::Request& request) {
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

} // namespace herald::registry::etcd3
