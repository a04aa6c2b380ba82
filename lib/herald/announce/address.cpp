#include "herald/announce/address.hpp"

#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"

#include <fmt/format.h>

namespace herald::announce {

namespace {

constexpr const char* k_host_variable = "COREOS_PRIVATE_IPV4";

/// A host as --host or COREOS_PRIVATE_IPV4 gives it: a name or an IP, IPv6 with or without
/// brackets. Validated by building "HOST:PORT" so the rules match parse_host_port's.
HostPort make_host_port(std::string host, std::uint16_t port, std::string_view what) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']' &&
      host.find(':') != std::string::npos) {
    host = host.substr(1, host.size() - 2);
  }
  std::string joined = host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                                           : fmt::format("{}:{}", host, port);
  HostPort out;
  if (host.empty() || !try_parse_host_port(joined, out)) {
    throw Error(
        ErrorKind::usage,
        fmt::format("invalid host '{}' from {}: use an IP address or a DNS name (letters, digits, "
                    "'-' and '.')",
                    escape_control(host), what));
  }
  return out;
}

} // namespace

EnvLookup process_env() {
  return [](const char* name) { return getenv_nonempty(name); };
}

std::string environment_file(const EnvLookup& env) {
  return env("HERALD_ENVIRONMENT_FILE").value_or("/etc/environment");
}

HostPort resolve_address(const AddressInput& input, const InstanceName& name,
                         const EnvLookup& env) {
  if (!input.addr.empty()) {
    if (!input.host.empty() || !input.port.empty()) {
      throw Error(ErrorKind::usage, "--addr HOST:PORT already names the host and port: drop "
                                    "--host/--port, or use them instead of --addr");
    }
    return parse_host_port(input.addr, "--addr");
  }
  if (input.port.empty()) {
    throw Error(ErrorKind::usage,
                fmt::format("no port for {}: pass --port PORT (with the host from --host or "
                            "COREOS_PRIVATE_IPV4) or --addr HOST:PORT",
                            name.str()));
  }
  std::uint16_t port = parse_port(input.port, "--port");
  if (!input.host.empty()) {
    return make_host_port(input.host, port, "--host");
  }
  if (auto host = env(k_host_variable)) {
    return make_host_port(std::string(trim(*host)), port, k_host_variable);
  }
  std::string file = environment_file(env);
  if (auto host = read_env_file_value(file, k_host_variable)) {
    return make_host_port(*host, port, fmt::format("{} in {}", k_host_variable, file));
  }
  throw Error(ErrorKind::config,
              fmt::format("no address for {}: pass --addr HOST:PORT, --host, or set "
                          "COREOS_PRIVATE_IPV4 (environment or {})",
                          name.str(), file));
}

} // namespace herald::announce
