#include "herald/cli/global_options.hpp"

#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <utility>

namespace herald::cli {

EnvLookup process_env() {
  return [](const char* name) { return getenv_nonempty(name); };
}

std::string read_secret_file(const std::string& path, std::string_view what) {
  // Not core's read_file(): a secret may come through a pipe (--password-file <(pass etcd)).
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw Error(
        ErrorKind::config,
        fmt::format("{} '{}' is a directory: name the file that holds the secret", what, path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(ErrorKind::config, fmt::format("cannot read {} '{}': {}; check the path and its "
                                               "permissions",
                                               what, path, std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string secret = buffer.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
    secret.pop_back();
  }
  if (secret.empty()) {
    throw Error(ErrorKind::config, fmt::format("{} '{}' is empty", what, path));
  }
  return secret;
}

namespace {

template <typename... Names>
std::optional<std::string> first_env(const EnvLookup& env, Names... names) {
  for (const char* name : {names...}) {
    if (auto value = env(name)) {
      return value;
    }
  }
  return std::nullopt;
}

std::string pick(const std::string& flag, const std::optional<std::string>& fallback) {
  if (!flag.empty()) {
    return flag;
  }
  return fallback.value_or("");
}

} // namespace

Connection resolve_connection(const GlobalOptions& global, const EnvLookup& env) {
  Connection conn;
  if (!global.registry.empty()) {
    conn.url = global.registry;
  } else if (auto url = env("HERALD_REGISTRY")) {
    conn.url = *url;
  } else if (auto endpoints = env("ETCDCTL_ENDPOINTS")) {
    conn.url = *endpoints;
  } else if (auto consul = env("CONSUL_HTTP_ADDR")) {
    std::string addr = *consul;
    if (addr.rfind("https://", 0) == 0) {
      conn.url = "consul+https://" + addr.substr(8);
    } else if (addr.rfind("http://", 0) == 0) {
      conn.url = "consul://" + addr.substr(7);
    } else {
      conn.url = "consul://" + addr;
    }
  } else {
    conn.url = "etcd://127.0.0.1:2379";
  }

  auto& opts = conn.options;
  opts.tls.ca_file =
      pick(global.cacert, first_env(env, "HERALD_CACERT", "ETCDCTL_CACERT", "CONSUL_CACERT"));
  opts.tls.cert_file =
      pick(global.cert, first_env(env, "HERALD_CERT", "ETCDCTL_CERT", "CONSUL_CLIENT_CERT"));
  opts.tls.key_file =
      pick(global.key, first_env(env, "HERALD_KEY", "ETCDCTL_KEY", "CONSUL_CLIENT_KEY"));

  // etcd credentials: never from argv. --user names the user; the password comes from
  // --password-file, HERALD_PASSWORD or ETCDCTL_PASSWORD; ETCDCTL_USER may hold "user:password".
  if (global.user.find(':') != std::string::npos) {
    throw Error(ErrorKind::usage,
                "--user takes only the user name: pass the password with --password-file FILE or "
                "the HERALD_PASSWORD variable, never on the command line");
  }
  std::string user = global.user;
  std::string password;
  if (user.empty()) {
    if (auto from_env = first_env(env, "HERALD_USER", "ETCDCTL_USER")) {
      auto colon = from_env->find(':');
      user = from_env->substr(0, colon);
      if (colon != std::string::npos) {
        password = from_env->substr(colon + 1);
      }
    }
  }
  if (!global.password_file.empty()) {
    password = read_secret_file(global.password_file, "--password-file");
  } else if (auto from_env = first_env(env, "HERALD_PASSWORD", "ETCDCTL_PASSWORD")) {
    password = *from_env;
  }
  if (!user.empty() && password.empty()) {
    throw Error(ErrorKind::config,
                fmt::format("no password for etcd user '{}': pass --password-file FILE or set "
                            "HERALD_PASSWORD",
                            user));
  }
  opts.username = user;
  opts.password = password;

  // Consul ACL token: --token-file, then CONSUL_HTTP_TOKEN_FILE, which wins over
  // CONSUL_HTTP_TOKEN as in Consul's own client (api.DefaultConfig).
  if (!global.token_file.empty()) {
    opts.token = read_secret_file(global.token_file, "--token-file");
  } else if (auto token_file = env("CONSUL_HTTP_TOKEN_FILE")) {
    opts.token = read_secret_file(*token_file, "CONSUL_HTTP_TOKEN_FILE");
  } else if (auto token = env("CONSUL_HTTP_TOKEN")) {
    opts.token = *token;
  }

  std::string timeout = pick(global.timeout, env("HERALD_TIMEOUT"));
  if (!timeout.empty()) {
    opts.request_timeout = parse_duration(timeout, "--timeout");
    if (opts.request_timeout.count() <= 0) {
      throw Error(ErrorKind::usage, "--timeout must be greater than zero");
    }
    opts.connect_timeout = std::min(opts.connect_timeout, opts.request_timeout);
  }
  return conn;
}

registry::Opener registry_opener(const GlobalOptions& global, const EnvLookup& env) {
  Connection connection = resolve_connection(global, env);
  return registry::Opener(std::move(connection.url), std::move(connection.options));
}

LogSettings resolve_log_settings(const GlobalOptions& global, const EnvLookup& env) {
  LogSettings settings;
  settings.level = pick(global.log_level, env("HERALD_LOG_LEVEL"));
  if (settings.level.empty()) {
    settings.level = "info";
  }
  settings.format = pick(global.log_format, env("HERALD_LOG_FORMAT"));
  return settings;
}

} // namespace herald::cli
