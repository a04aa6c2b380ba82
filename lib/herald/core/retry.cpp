#include "herald/core/retry.hpp"

#include "herald/core/duration.hpp"
#include "herald/core/strings.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <fmt/format.h>
#include <random>
#include <spdlog/spdlog.h>

namespace herald {

namespace {

using Milliseconds = std::chrono::milliseconds;

RandomFraction default_random() {
  return [engine = std::minstd_rand(std::random_device{}())]() mutable {
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
  };
}

/// The policy with every field in range, so that a zero or inverted setting cannot turn the
/// retry into a busy loop or an endless wait.
RetryPolicy normalised(RetryPolicy policy) {
  policy.cap = std::max(policy.cap, Milliseconds(1));
  policy.initial = std::clamp(policy.initial, Milliseconds(1), policy.cap);
  policy.multiplier = std::isfinite(policy.multiplier) ? std::max(policy.multiplier, 1.0) : 2.0;
  policy.jitter = std::isfinite(policy.jitter) ? std::clamp(policy.jitter, 0.0, 1.0) : 0.5;
  policy.max_attempts = std::max(policy.max_attempts, 0);
  return policy;
}

/// An outage's length as a person reads it in a log: "350ms", "2.4s", "12s", "3m20s".
std::string outage_length(Milliseconds length) {
  using namespace std::chrono_literals;
  if (length >= 10s) {
    return format_duration(std::chrono::round<std::chrono::seconds>(length));
  }
  if (length >= 1s) {
    return format_duration(Milliseconds(std::llround(length.count() / 100.0) * 100));
  }
  return format_duration(length);
}

/// Throws the exception being handled, so that a subclass of Error keeps its type; `error` itself
/// (sliced) when called outside a catch block.
[[noreturn]] void rethrow(const Error& error) {
  if (auto current = std::current_exception()) {
    std::rethrow_exception(current);
  }
  throw error;
}

} // namespace

RetryPolicy RetryPolicy::capped_at(std::chrono::milliseconds most) const {
  RetryPolicy out = *this;
  out.cap = std::min(cap, most);
  return out;
}

// --- Backoff ----------------------------------------------------------------------------------

Backoff::Backoff(RetryPolicy policy, RandomFraction random)
    : m_policy(normalised(policy)), m_random(random ? std::move(random) : default_random()),
      m_current_ms(static_cast<double>(m_policy.initial.count())) {}

std::chrono::milliseconds Backoff::next() {
  double ceiling = m_current_ms;
  double low = ceiling * (1.0 - m_policy.jitter);
  double fraction = std::clamp(m_random(), 0.0, 1.0);
  auto delay = std::llround(low + (ceiling - low) * fraction);
  m_current_ms = std::min(ceiling * m_policy.multiplier, static_cast<double>(m_policy.cap.count()));
  return Milliseconds(std::max<long long>(delay, 1));
}

bool Backoff::wait(const StopToken& stop) {
  return stop.wait_for(next());
}

void Backoff::reset() {
  m_current_ms = static_cast<double>(m_policy.initial.count());
}

// --- OutageLog --------------------------------------------------------------------------------

OutageLog::OutageLog(std::string subject, std::string meanwhile, SteadyNow now)
    : m_subject(std::move(subject)), m_meanwhile(std::move(meanwhile)),
      m_now(now ? std::move(now) : SteadyNow(&std::chrono::steady_clock::now)) {}

bool OutageLog::failed(std::string_view error) {
  ++m_failures;
  if (m_since) {
    spdlog::debug("{} still lost (attempt {}): {}", m_subject, m_failures, escape_control(error));
    return false;
  }
  m_since = m_now();
  spdlog::warn("{} lost: {}; {}", m_subject, escape_control(error), m_meanwhile);
  return true;
}

std::optional<std::chrono::milliseconds> OutageLog::recovered() {
  if (!m_since) {
    return std::nullopt;
  }
  auto length = std::chrono::duration_cast<Milliseconds>(m_now() - *m_since);
  length = std::max(length, Milliseconds(0));
  m_since.reset();
  m_failures = 0;
  spdlog::info("{} back after {}", m_subject, outage_length(length));
  return length;
}

// --- Retry ------------------------------------------------------------------------------------

Retry::Retry(RetryPolicy policy, OutageLog outage, RandomFraction random)
    : m_backoff(policy, std::move(random)), m_outage(std::move(outage)) {}

void Retry::succeeded() {
  m_outage.recovered();
  m_backoff.reset();
}

bool Retry::gives_up_now() const {
  int most = m_backoff.policy().max_attempts;
  return most != 0 && m_outage.failures() + 1 >= most;
}

bool Retry::wait_to_retry(const Error& error, const StopToken& stop) {
  if (error.kind() == ErrorKind::cancelled || stop.requested()) {
    return false;
  }
  if (!error.retryable() || gives_up_now()) {
    rethrow(error);
  }
  m_outage.failed(error.what());
  return !m_backoff.wait(stop);
}

bool Retry::wait_to_retry(std::string_view reason, const StopToken& stop) {
  if (stop.requested() || gives_up_now()) {
    return false;
  }
  m_outage.failed(reason);
  return !m_backoff.wait(stop);
}

void Retry::throw_stopped(const Error& error) {
  if (!error.retryable()) {
    rethrow(error);
  }
  throw Error(ErrorKind::cancelled,
              fmt::format("stopped while retrying: {}", escape_control(error.what())));
}

} // namespace herald
