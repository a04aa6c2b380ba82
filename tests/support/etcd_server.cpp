#include "support/etcd_server.hpp"

#include "herald/core/base64.hpp"

#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

namespace herald::test {

namespace {

std::string etcd_binary() {
  std::string bin = find_program("etcd");
  if (bin.empty()) {
    skip("etcd is not installed (Debian package etcd-server; run ./scripts/setup)");
  }
  return bin;
}

} // namespace

EtcdServer::EtcdServer() : m_dir(std::make_unique<TempDir>()) {
  m_name = "default";
  // free_port() only knows a port was free a moment ago: another test's server or container
  // may take it before etcd binds. Then etcd exits saying so, and it starts again on new ports.
  for (int attempt = 1;; ++attempt) {
    m_client_port = free_port();
    m_peer_port = free_port();
    m_initial_cluster = m_name + "=http://127.0.0.1:" + std::to_string(m_peer_port);
    m_data_dir = m_dir->file("data-" + std::to_string(attempt));
    try {
      start();
      return;
    } catch (const std::runtime_error&) {
      bool taken = m_process->err().find("address already in use") != std::string::npos;
      m_process->signal(SIGKILL);
      m_process->wait(std::chrono::seconds(5));
      if (!taken || attempt == 3) {
        throw;
      }
    }
  }
}

EtcdServer::EtcdServer(const std::string& name, int client_port, int peer_port,
                       const std::string& initial_cluster, const std::string& data_dir)
    : m_name(name), m_client_port(client_port), m_peer_port(peer_port),
      m_initial_cluster(initial_cluster), m_data_dir(data_dir) {}

EtcdServer::~EtcdServer() {
  if (m_process) {
    m_process->signal(SIGKILL);
    m_process->wait(std::chrono::seconds(5));
  }
}

std::string EtcdServer::client_url() const {
  return "http://127.0.0.1:" + std::to_string(m_client_port);
}
std::string EtcdServer::v3_url() const {
  return "etcd://127.0.0.1:" + std::to_string(m_client_port);
}
std::string EtcdServer::v2_url() const {
  return "etcd2://127.0.0.1:" + std::to_string(m_client_port);
}

void EtcdServer::start() {
  std::string client = client_url();
  std::string peer = "http://127.0.0.1:" + std::to_string(m_peer_port);
  m_process = std::make_unique<Process>(std::vector<std::string>{etcd_binary(),
                                                                 "--name",
                                                                 m_name,
                                                                 "--data-dir",
                                                                 m_data_dir,
                                                                 "--listen-client-urls",
                                                                 client,
                                                                 "--advertise-client-urls",
                                                                 client,
                                                                 "--listen-peer-urls",
                                                                 peer,
                                                                 "--initial-advertise-peer-urls",
                                                                 peer,
                                                                 "--initial-cluster",
                                                                 m_initial_cluster,
                                                                 "--initial-cluster-state",
                                                                 "new",
                                                                 "--initial-cluster-token",
                                                                 "herald-test",
                                                                 "--enable-v2=true",
                                                                 "--log-level",
                                                                 "error",
                                                                 "--logger",
                                                                 "zap",
                                                                 "--heartbeat-interval",
                                                                 "50",
                                                                 "--election-timeout",
                                                                 "500"});
  bool cluster_member = m_initial_cluster.find(',') != std::string::npos;
  if (m_started_once || !cluster_member) {
    wait_ready(); // the first start of a cluster member waits for its peers (EtcdCluster)
  }
  m_started_once = true;
}

void EtcdServer::wait_ready() const {
  bool ready = eventually(
      [&] {
        if (!m_process->running()) {
          return true; // exited: no use waiting (its stderr says why)
        }
        auto reply = http_request(m_client_port, "GET", "/health", "", 1000);
        return reply.status == 200 && reply.body.find("true") != std::string::npos;
      },
      std::chrono::seconds(20));
  if (!ready || !m_process->running()) {
    throw std::runtime_error("etcd did not become healthy on port " +
                             std::to_string(m_client_port) + ": " + m_process->err());
  }
}

void EtcdServer::stop() {
  m_process->signal(SIGTERM);
  m_process->wait(std::chrono::seconds(10));
}

void EtcdServer::kill() {
  m_process->signal(SIGKILL);
  m_process->wait(std::chrono::seconds(10));
}

std::string EtcdServer::etcdctl(const std::vector<std::string>& args) const {
  std::string bin = find_program("etcdctl");
  if (bin.empty()) {
    skip("etcdctl is not installed (Debian package etcd-client)");
  }
  std::vector<std::string> argv{bin, "--endpoints", client_url()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv, {{"ETCDCTL_API", "3"}});
  INFO("etcdctl stderr: " << r.err);
  REQUIRE(r.status == 0);
  return r.out;
}

std::string EtcdServer::etcdctl2(const std::vector<std::string>& args) const {
  std::string bin = find_program("etcdctl");
  if (bin.empty()) {
    skip("etcdctl is not installed (Debian package etcd-client)");
  }
  std::vector<std::string> argv{bin, "--endpoints", client_url()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv, {{"ETCDCTL_API", "2"}});
  INFO("etcdctl stderr: " << r.err);
  REQUIRE(r.status == 0);
  return r.out;
}

namespace {

// A read that got no answer says nothing about the key: under a loaded test run a request can
// fail while etcd is up, and "absent" would then make a check like "the key was withdrawn" pass
// by accident. Such reads are tried again (bounded); an etcd that is really down still reads as
// absent, after about 300 ms.
HttpReply read_with_retry(int port, const std::string& method, const std::string& path,
                          const std::string& body, bool (*answered)(const HttpReply&)) {
  HttpReply reply;
  for (int attempt = 0; attempt < 4; ++attempt) {
    reply = http_request(port, method, path, body);
    if (answered(reply)) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return reply;
}

} // namespace

std::optional<std::string> EtcdServer::get3(const std::string& key) const {
  nlohmann::json req{{"key", base64_encode(key)}};
  auto reply = read_with_retry(m_client_port, "POST", "/v3/kv/range", req.dump(),
                               [](const HttpReply& r) { return r.status == 200; });
  if (reply.status != 200) {
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (!j.contains("kvs") || j["kvs"].empty()) {
    return std::nullopt;
  }
  return base64_decode(j["kvs"][0].value("value", "")).bytes;
}

std::optional<long> EtcdServer::ttl3(const std::string& key) const {
  nlohmann::json req{{"key", base64_encode(key)}};
  auto reply = http_request(m_client_port, "POST", "/v3/kv/range", req.dump());
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (reply.status != 200 || !j.contains("kvs") || j["kvs"].empty()) {
    return std::nullopt;
  }
  std::string lease = j["kvs"][0].value("lease", "0");
  if (lease == "0") {
    return std::nullopt;
  }
  auto ttl_reply = http_request(m_client_port, "POST", "/v3/lease/timetolive",
                                nlohmann::json{{"ID", lease}}.dump());
  auto t = nlohmann::json::parse(ttl_reply.body, nullptr, false);
  if (t.is_discarded() || !t.contains("TTL")) {
    return std::nullopt;
  }
  return std::stol(t["TTL"].get<std::string>());
}

std::optional<std::string> EtcdServer::get2(const std::string& key) const {
  // 404 is etcd's own answer for a missing key; anything else without 200 is no answer.
  auto reply = read_with_retry(m_client_port, "GET", "/v2/keys" + key, "", [](const HttpReply& r) {
    return r.status == 200 || r.status == 404;
  });
  if (reply.status != 200) {
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (j.is_discarded() || !j.contains("node") || !j["node"].contains("value")) {
    return std::nullopt;
  }
  return j["node"]["value"].get<std::string>();
}

std::optional<long> EtcdServer::ttl2(const std::string& key) const {
  auto reply = http_request(m_client_port, "GET", "/v2/keys" + key);
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (reply.status != 200 || j.is_discarded() || !j["node"].contains("ttl")) {
    return std::nullopt;
  }
  return j["node"]["ttl"].get<long>();
}

EtcdCluster::EtcdCluster() {
  etcd_binary();
  int client[3];
  int peer[3];
  std::string initial;
  for (int i = 0; i < 3; ++i) {
    client[i] = free_port();
    peer[i] = free_port();
    initial += (i ? "," : "") + std::string("m") + std::to_string(i) +
               "=http://127.0.0.1:" + std::to_string(peer[i]);
  }
  for (int i = 0; i < 3; ++i) {
    m_members.push_back(
        std::unique_ptr<EtcdServer>(new EtcdServer("m" + std::to_string(i), client[i], peer[i],
                                                   initial, m_dir.file("m" + std::to_string(i)))));
  }
  for (auto& m : m_members) {
    m->start(); // a member of a new cluster answers /health only once a quorum is up
  }
  for (auto& m : m_members) {
    m->wait_ready();
  }
}

std::string EtcdCluster::v3_url() const {
  std::string url = "etcd://";
  for (std::size_t i = 0; i < m_members.size(); ++i) {
    url += (i ? "," : "") + std::string("127.0.0.1:") + std::to_string(m_members[i]->client_port());
  }
  return url;
}

std::string EtcdCluster::v2_url() const {
  return "etcd2://" + v3_url().substr(7);
}

} // namespace herald::test
