#pragma once
// Test helpers for the announce tests: a log capture, a registry wrapper that can be switched
// "down", and a probe whose verdict the test sets.

#include "herald/announce/probe.hpp"
#include "herald/core/error.hpp"
#include "herald/registry/registry.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <string>
#include <vector>

namespace herald::announce::test {

/// Collects every log line while alive and restores the previous default logger afterwards.
class LogCapture {
public:
  LogCapture() : m_sink(std::make_shared<Sink>()), m_previous(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("announce-test", m_sink);
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(m_previous); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  /// Every line logged so far, as "level: message".
  std::vector<std::string> lines() const {
    std::lock_guard lock(m_sink->lines_mutex);
    return m_sink->lines;
  }
  /// How many lines contain `text`.
  std::size_t count(const std::string& text) const {
    auto all = lines();
    return static_cast<std::size_t>(std::count_if(
        all.begin(), all.end(), [&](const auto& l) { return l.find(text) != std::string::npos; }));
  }

private:
  struct Sink final : spdlog::sinks::base_sink<std::mutex> {
    std::mutex lines_mutex;
    std::vector<std::string> lines;

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
      std::lock_guard lock(lines_mutex);
      lines.push_back(std::string(spdlog::level::to_string_view(msg.level).data()) + ": " +
                      std::string(msg.payload.data(), msg.payload.size()));
    }
    void flush_() override {}
  };

  std::shared_ptr<Sink> m_sink;
  std::shared_ptr<spdlog::logger> m_previous;
};

/// Forwards to a real (memory) registry, except while `down` is set: then every call throws
/// Error(unavailable) as a network backend does when its server is gone, or `failure_kind` when
/// the test wants another kind. Counts the calls that reached it.
class SwitchableRegistry final : public registry::Registry {
public:
  explicit SwitchableRegistry(registry::Registry& inner) : m_inner(inner) {}

  std::atomic<bool> down{false};
  std::atomic<ErrorKind> failure_kind{ErrorKind::unavailable};
  std::atomic<int> registers{0};
  std::atomic<int> refreshes{0};
  std::atomic<int> withdraws{0};
  std::atomic<int> deregisters{0};
  std::atomic<int> failures{0};

  std::string_view backend() const override { return m_inner.backend(); }
  std::string describe() const override { return m_inner.describe(); }
  std::optional<registry::KeyValue> get(std::string_view key) override {
    check();
    return m_inner.get(key);
  }
  registry::Snapshot list(std::string_view prefix) override {
    check();
    return m_inner.list(prefix);
  }
  void put(std::string_view key, std::string_view value) override {
    check();
    m_inner.put(key, value);
  }
  bool remove(std::string_view key) override {
    check();
    return m_inner.remove(key);
  }
  registry::WatchBatch watch(std::string_view prefix, std::int64_t after,
                             std::chrono::milliseconds max_wait) override {
    check();
    return m_inner.watch(prefix, after, max_wait);
  }
  void register_instance(const registry::Registration& reg) override {
    check();
    ++registers;
    m_inner.register_instance(reg);
  }
  registry::KeepAlive refresh_instance(const registry::Registration& reg) override {
    check();
    ++refreshes;
    return m_inner.refresh_instance(reg);
  }
  void withdraw_instance(const registry::Registration& reg, std::string_view reason) override {
    check();
    ++withdraws;
    m_inner.withdraw_instance(reg, reason);
  }
  bool deregister_instance(const registry::Registration& reg) override {
    check();
    ++deregisters;
    return m_inner.deregister_instance(reg);
  }
  std::vector<registry::Instance> instances(const registry::InstanceQuery& query) override {
    check();
    return m_inner.instances(query);
  }

private:
  void check() {
    if (down) {
      ++failures;
      throw Error(failure_kind.load(), "etcd at http://127.0.0.1:1 is down (test)");
    }
  }

  registry::Registry& m_inner;
};

/// A probe whose result the test sets; counts its checks.
class ScriptedProbe final : public Probe {
public:
  explicit ScriptedProbe(std::shared_ptr<std::atomic<bool>> passing)
      : m_passing(std::move(passing)) {}

  ProbeResult check() override {
    ++checks;
    if (*m_passing) {
      return {true, {}};
    }
    return {false, "scripted failure"};
  }
  std::string describe() const override { return "scripted"; }

  std::atomic<int> checks{0};

private:
  std::shared_ptr<std::atomic<bool>> m_passing;
};

} // namespace herald::announce::test
