#pragma once

#include "herald/registry/opener.hpp"
#include "herald/registry/registry.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace herald::cli {

/// Flags every command accepts, as given on the command line (empty = not given).
struct GlobalOptions {
  std::string registry;      ///< --registry URL
  std::string cacert;        ///< --cacert FILE
  std::string cert;          ///< --cert FILE
  std::string key;           ///< --key FILE
  std::string user;          ///< --user NAME (etcd v3 auth)
  std::string password_file; ///< --password-file FILE
  std::string token_file;    ///< --token-file FILE (Consul ACL token)
  std::string timeout;       ///< --timeout DURATION (per request)
  std::string log_level;     ///< --log-level
  std::string log_format;    ///< --log-format
};

/// Reads environment variables; replaceable in tests.
using EnvLookup = std::function<std::optional<std::string>(const char*)>;

/// The process environment (non-empty values only).
EnvLookup process_env();

/// Connection settings resolved from flags, then HERALD_*, then the ecosystem's variables
/// (ETCDCTL_*, CONSUL_HTTP_*), then defaults: the URL is --registry, HERALD_REGISTRY,
/// ETCDCTL_ENDPOINTS (read as etcd v3), CONSUL_HTTP_ADDR (as consul://), then
/// etcd://127.0.0.1:2379. Reads the password and token files. Throws Error(usage/config) naming
/// the flag or variable at fault; secrets never appear in messages.
struct Connection {
  std::string url;
  registry::Options options;
};
Connection resolve_connection(const GlobalOptions& global, const EnvLookup& env = process_env());

/// The registry the global options name (resolve_connection), ready to open: what a command
/// hands to lib/ and opens its own connection from.
registry::Opener registry_opener(const GlobalOptions& global, const EnvLookup& env = process_env());

/// --log-level / --log-format resolved with HERALD_LOG_LEVEL / HERALD_LOG_FORMAT.
struct LogSettings {
  std::string level = "info";
  std::string format; ///< "" = automatic (journal under systemd, text otherwise)
};
LogSettings resolve_log_settings(const GlobalOptions& global, const EnvLookup& env = process_env());

/// Reads a secret from a file, dropping one trailing newline. Error(config) names the file and
/// says what is wrong (missing, unreadable, empty), never its contents.
std::string read_secret_file(const std::string& path, std::string_view what);

} // namespace herald::cli
