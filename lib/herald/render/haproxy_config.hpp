#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::render {

/// One server of a backend as the runtime API takes it: every part checked to be a plain token
/// (no space, newline, ';' or quote can reach the stats socket).
struct HaproxyServer {
  std::string name; ///< [A-Za-z0-9._:-], as haproxy allows in a server name
  std::string ip;   ///< an IPv4 or IPv6 literal (no brackets): the runtime API resolves nothing
  int port = 0;     ///< 1-65535
  /// For a server to add: the options `add server` gets, the backend's default-server options
  /// (those of the defaults section first) followed by the server line's own, because a
  /// dynamic server inherits nothing from default-server. Each is a keyword 2.6 accepts for
  /// dynamic servers (runtime_keyword_arguments()) and its arguments.
  std::vector<std::string> options;

  /// "IP:PORT", IPv6 in brackets, as `add server` reads an address.
  std::string address() const;
  /// True when the options turn on health checks (`check`), which a dynamic server needs
  /// `enable health` for.
  bool checked() const;
};

/// What changes in one backend.
struct BackendChanges {
  std::string backend;                    ///< a name checked as a server name is
  std::vector<HaproxyServer> added;       ///< servers only the new config has
  std::vector<std::string> removed;       ///< names of servers only the old config has
  std::vector<HaproxyServer> readdressed; ///< same name and options, another address
};

/// The runtime changes that take a running haproxy from the old config to the new one.
struct HaproxyRuntimePlan {
  std::vector<BackendChanges> backends; ///< only backends with a change, in the new config's order

  /// "web +1 -1, api ~1": per backend servers added (+), removed (-), readdressed (~).
  std::string summary() const;
  /// True when no server changes (the configs differ only in comments or spacing).
  bool empty() const { return backends.empty(); }
};

/// Either a plan or why there is none.
struct HaproxyConfigDiff {
  std::optional<HaproxyRuntimePlan> plan;
  std::string reason; ///< one line, set when plan is not: why a reload is needed
};

/// Compares two haproxy.cfg texts and returns the runtime plan when the only differences are
/// server lines (added, removed, or a new address) of backends both have; anything else (a new
/// or removed backend, any change in another section or in a backend's other lines, a server
/// whose options changed, an address that is not an IP literal with a port, an option `add
/// server` does not take, a name or token the parser does not accept, quoting it does not
/// follow) gives the reason instead. Only what is needed is parsed: sections (`backend NAME`
/// and the rest, compared line by line with comments and spacing ignored), `server` and
/// `default-server` lines. Every token of the plan has been validated.
HaproxyConfigDiff diff_haproxy_configs(std::string_view old_config, std::string_view new_config);

/// How many arguments `keyword` takes when herald passes it to `add server`, or nullopt when it
/// does not: the keywords haproxy 2.6 accepts for dynamic servers (management.txt, "add
/// server") without files or names of other objects. Others (ssl and its files, agent checks,
/// track, id, enabled/disabled; cookie and resolvers, which 2.6 refuses) fall back to a reload.
std::optional<int> runtime_keyword_arguments(std::string_view keyword);

} // namespace herald::render
