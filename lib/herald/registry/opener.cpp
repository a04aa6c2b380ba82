#include "herald/registry/opener.hpp"

#include "herald/core/error.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

namespace herald::registry {

namespace {

constexpr std::chrono::milliseconds k_after_stop_connect_timeout{1000};
constexpr std::chrono::milliseconds k_after_stop_request_timeout{2000};

} // namespace

Opener::Opener(std::string url, Options options)
    : m_open([url = std::move(url)](const Options& with) { return registry::open(url, with); }),
      m_options(std::move(options)) {}

Opener::Opener(OpenFunction open, Options options)
    : m_open(std::move(open)), m_options(std::move(options)) {}

std::unique_ptr<Registry> Opener::open(const StopToken& stop) const {
  Options options = m_options;
  options.stop = &stop;
  return open_with(options);
}

std::unique_ptr<Registry> Opener::open_after_stop() const {
  Options options = m_options;
  options.stop = nullptr;
  options.connect_timeout = std::min(options.connect_timeout, k_after_stop_connect_timeout);
  options.request_timeout = std::min(options.request_timeout, k_after_stop_request_timeout);
  return open_with(options);
}

std::unique_ptr<Registry> Opener::open_with(const Options& options) const {
  if (!m_open) {
    throw Error(ErrorKind::internal, "no registry to open: the Opener is empty");
  }
  return m_open(options);
}

} // namespace herald::registry
