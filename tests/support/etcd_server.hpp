#pragma once

#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace herald::test {

/// A real etcd (Debian's etcd-server) on free 127.0.0.1 ports with the v2 API enabled, its data
/// in a temp dir. Skips the test when etcd is not installed. Stopped and removed on destruction.
class EtcdServer {
public:
  EtcdServer();
  ~EtcdServer();

  /// "http://127.0.0.1:PORT"
  std::string client_url() const;
  int client_port() const { return m_client_port; }
  /// "etcd://127.0.0.1:PORT" / "etcd2://127.0.0.1:PORT"
  std::string v3_url() const;
  std::string v2_url() const;

  /// SIGTERM and wait; keeps the data dir.
  void stop();
  /// SIGKILL; keeps the data dir.
  void kill();
  /// Starts again on the same ports and data dir and waits until it answers.
  void start();
  /// Waits (at most 20 s) until /health says true: for a cluster member, until its cluster has a
  /// leader again after another member died.
  void wait_ready() const;

  /// etcdctl (v3) against this server; returns stdout, REQUIREs success.
  std::string etcdctl(const std::vector<std::string>& args) const;
  /// etcdctl with ETCDCTL_API=2.
  std::string etcdctl2(const std::vector<std::string>& args) const;

  /// The value of `key` in the v3 keyspace, nullopt when absent (or when etcd gave no answer in
  /// four tries, 100 ms apart: a failed request is not taken for an absent key at the first try).
  std::optional<std::string> get3(const std::string& key) const;
  /// The value of `key` in the v2 keyspace, nullopt when absent (same retries as get3).
  std::optional<std::string> get2(const std::string& key) const;
  /// The TTL left of a v2 key, or of the lease a v3 key is bound to (nullopt: none / absent).
  std::optional<long> ttl2(const std::string& key) const;
  std::optional<long> ttl3(const std::string& key) const;

private:
  friend class EtcdCluster;
  EtcdServer(const std::string& name, int client_port, int peer_port,
             const std::string& initial_cluster, const std::string& data_dir);

  std::string m_name;
  int m_client_port = 0;
  int m_peer_port = 0;
  std::string m_initial_cluster;
  std::string m_data_dir;
  std::unique_ptr<TempDir> m_dir;
  std::unique_ptr<Process> m_process;
  bool m_started_once = false;
};

/// Three etcd members on loopback; member(i) can be killed while the others serve.
class EtcdCluster {
public:
  EtcdCluster();
  EtcdServer& member(int i) { return *m_members.at(static_cast<std::size_t>(i)); }
  /// "etcd://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3" (v2: "etcd2://...")
  std::string v3_url() const;
  std::string v2_url() const;

private:
  TempDir m_dir;
  std::vector<std::unique_ptr<EtcdServer>> m_members;
};

} // namespace herald::test
