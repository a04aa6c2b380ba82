#pragma once
// Test helpers for the announce tests: the log capture, a registry wrapper that can be switched
// "down", and a probe whose verdict the test sets.

#include "herald/announce/probe.hpp"
#include "herald/core/error.hpp"
#include "herald/registry/registry.hpp"
#include "support/log_capture.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace herald::announce::test {

using herald::test::LogCapture;

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
  /// Answer instances_are_keys() as Consul does: instances are services, not keys.
  std::atomic<bool> services_not_keys{false};

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
  bool instances_are_keys() const override {
    return !services_not_keys && m_inner.instances_are_keys();
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
