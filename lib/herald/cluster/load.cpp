#include "herald/cluster/load.hpp"

#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"
#include "herald/core/file.hpp"
#include "herald/core/strings.hpp"
#include "herald/core/utf8.hpp"
#include "herald/fleet/connection.hpp"
#include "herald/fleet/tunnel.hpp"
#include "herald/http/client.hpp"
#include "herald/registry/registry.hpp"
#include "herald/units/checks.hpp"
#include "herald/units/generate.hpp"
#include "herald/units/quote.hpp"
#include "herald/units/unit_file.hpp"
#include "herald/units/unit_name.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace herald::cluster {

namespace {

/// A cluster file, an env file or a unit file is a page of text; 1 MiB is far beyond any.
constexpr std::size_t k_max_file = 1 << 20;
/// herald announce's bound on --rise and --fall (apps/herald/commands/announce.cpp): beyond it a
/// check would take hours to act at any sane interval.
constexpr int k_max_rise_fall = 1000;
/// More instances than any one cluster file should ask for; a typo (30000 for 3) is refused.
constexpr int k_max_instances = 1000;
/// Merge keys (<<) nest at most this deep; entries visited through merges are capped, so that
/// a few aliases cannot make the parser walk millions of nodes.
constexpr int k_max_merge_depth = 16;
constexpr std::size_t k_max_merged_entries = 100000;

/// One problem found, where it was found.
struct Problem {
  Position at;
  std::string message; ///< "NAME:LINE:COLUMN: PATH: ..."
};

/// A key of a mapping, its value, and the key path.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
  std::string path; ///< "apps[1].health"
};

/// The entries of one mapping, merge keys resolved, unknown and duplicate keys reported.
struct Mapping {
  YAML::Node node;
  std::string path;
  std::vector<Entry> entries;

  const Entry* find(std::string_view key) const {
    for (const Entry& entry : entries) {
      if (entry.key == key) {
        return &entry;
      }
    }
    return nullptr;
  }
};

/// The path of `key` in `path`, for messages. A key is whatever the file says, bytes included:
/// one that would not show as it is (a control byte, invalid UTF-8) is shown quoted and escaped,
/// so that the message stays one safe line.
std::string child(const std::string& path, std::string_view key) {
  std::string as_quoted = herald::quoted(key);
  std::string part = as_quoted.size() == key.size() + 2 ? std::string(key) : as_quoted;
  return path.empty() ? part : path + "." + part;
}

std::string index(const std::string& path, std::size_t i) {
  return fmt::format("{}[{}]", path, i);
}

/// Where the first byte of `text` that is not UTF-8 is, or nullopt when it is all UTF-8.
std::optional<Position> invalid_utf8_position(std::string_view text) {
  std::size_t bad = invalid_utf8_offset(text);
  if (bad == text.size()) {
    return std::nullopt;
  }
  std::size_t newline = text.rfind('\n', bad);
  std::size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
  auto lines = std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n');
  return Position{static_cast<int>(lines) + 1, static_cast<int>(bad - line_start) + 1};
}

/// "NAME:LINE:COLUMN: invalid UTF-8" for a file (an env file, a unit file) that is not text, or
/// nullopt. systemd drops what is not UTF-8, and fleet carries a unit in JSON strings.
std::optional<std::string> utf8_problem(std::string_view content, std::string_view name) {
  if (auto at = invalid_utf8_position(content)) {
    return fmt::format("{}:{}:{}: invalid UTF-8", name, at->line, at->column);
  }
  return std::nullopt;
}

/// " (did you mean 'instances'?)" for a likely typo of one of `candidates`, else "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  auto near = closest_match(word, candidates);
  return near ? fmt::format(" (did you mean '{}'?)", *near) : std::string();
}

std::string key_list(const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& key : keys) {
    out += (out.empty() ? "" : ", ") + key;
  }
  return out;
}

/// Bytes a one-line value may not hold: control characters (tab aside) and invalid UTF-8.
bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

std::string dirname_of(const std::string& name) {
  std::filesystem::path parent = std::filesystem::path(name).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

/// Where each document of a YAML stream starts; nothing is built.
class DocumentStarts : public YAML::EventHandler {
public:
  std::vector<YAML::Mark> marks;

  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

/// The starts of the first three documents of `text` at most: enough to tell one document from
/// two, and a parser that is stuck from one that moves on. yaml-cpp's LoadAll() would loop
/// forever, building empty documents, where the parser is stuck.
std::vector<YAML::Mark> document_starts(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts handler;
  while (handler.marks.size() < 3 && parser.HandleNextDocument(handler)) {
  }
  return handler.marks;
}

class Parser {
public:
  Parser(std::string name, const LoadOptions& options)
      : m_name(std::move(name)), m_options(options) {
    m_base = dirname_of(m_name);
  }

  ClusterSpec parse(std::string_view text);

private:
  // --- reporting ---
  Position position(const YAML::Node& node) const {
    // yaml-cpp's marks are 0-based, and -1 on a node it made up (an empty document).
    YAML::Mark mark = node.Mark();
    return {std::max(mark.line, 0) + 1, std::max(mark.column, 0) + 1};
  }

  Problem problem(const YAML::Node& node, const std::string& path, const std::string& what) const {
    Position at = position(node);
    if (path.empty()) {
      return {at, fmt::format("{}:{}:{}: {}", m_name, at.line, at.column, what)};
    }
    return {at, fmt::format("{}:{}:{}: {}: {}", m_name, at.line, at.column, path, what)};
  }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& path,
                         const std::string& what) const {
    throw problem(node, path, what);
  }

  /// Runs `step`, recording the problem it throws, so that one bad value does not hide the
  /// next: the first problem in file order is the one reported.
  template <typename Step> bool guarded(Step&& step) {
    try {
      step();
      return true;
    } catch (const Problem& p) {
      m_problems.push_back(p);
      return false;
    }
  }

  /// Builds the Mapping of `node` (null is an empty mapping) with `known` keys.
  Mapping mapping(const YAML::Node& node, const std::string& path,
                  const std::vector<std::string>& known, std::string_view what);
  void collect(const YAML::Node& node, const std::string& path, Mapping& out,
               std::set<std::string>& seen, int depth, bool merged);

  /// The items of a sequence (null is empty).
  std::vector<YAML::Node> sequence(const YAML::Node& node, const std::string& path,
                                   std::string_view what);

  // --- scalars ---
  std::string scalar(const Entry& entry, std::string_view expected) const;
  std::string text(const Entry& entry, std::string_view expected) const;
  long long integer(const Entry& entry, long long min, long long max,
                    std::string_view expected) const;
  bool boolean(const Entry& entry) const;
  std::chrono::milliseconds duration(const Entry& entry, bool positive) const;
  Quantity quantity(const Entry& entry) const;
  std::vector<std::string> texts(const Entry& entry, std::string_view expected);
  /// A list of fleet machine metadata, KEY=VALUE each.
  std::vector<std::string> metadata(const Entry& entry);
  void check(const Entry& entry, const std::string& value,
             const std::optional<std::string>& rule) const {
    if (rule) {
      fail(entry.value, entry.path,
           fmt::format("invalid value {}: {}", herald::quoted(value), *rule));
    }
  }
  std::optional<std::string> read(const Entry& entry, const std::string& path,
                                  std::string_view what) const;

  // --- sections ---
  void parse_registry(const Entry& entry, RegistrySpec& out);
  void parse_scheduler(const Entry& entry, SchedulerSpec& out);
  void parse_router(const YAML::Node& node, const std::string& path, RouterSpec& out);
  void parse_app(const YAML::Node& node, const std::string& path, AppSpec& out);
  void parse_health(const Entry& entry, HealthCheck& out);
  void parse_placement(const Entry& entry, Placement& out, Mapping& keep);
  void parse_update(const Entry& entry, UpdatePolicy& out);
  void parse_env(const Entry& entry, std::vector<std::pair<std::string, std::string>>& out);
  void parse_env_file(const YAML::Node& node, const std::string& path, EnvFile& out);
  void parse_unit(const YAML::Node& node, const std::string& path, ExtraUnit& out);
  void parse_launch(const Entry& entry, LaunchSpec& out);

  // --- checks across entries ---
  void check_scheduler_fit(const ClusterSpec& spec);
  void check_names(const ClusterSpec& spec);
  void check_routing(ClusterSpec& spec);

  std::string m_name;
  std::string m_base;
  const LoadOptions& m_options;
  std::vector<Problem> m_problems;
  std::size_t m_merged = 0;
  /// Where each key was written, for the checks across entries ("apps[1].name" -> node).
  std::map<std::string, YAML::Node> m_nodes;
};

Mapping Parser::mapping(const YAML::Node& node, const std::string& path,
                        const std::vector<std::string>& known, std::string_view what) {
  Mapping out{node, path, {}};
  if (node.IsNull()) {
    return out;
  }
  if (!node.IsMap()) {
    fail(node, path, fmt::format("expected {}", what));
  }
  std::set<std::string> seen;
  collect(node, path, out, seen, 0, false);
  std::vector<Entry> kept;
  for (Entry& entry : out.entries) {
    // Top-level x- keys hold what other entries refer to (&anchors), as in docker-compose.
    if (path.empty() && entry.key.starts_with("x-")) {
      continue;
    }
    if (!known.empty() && std::find(known.begin(), known.end(), entry.key) == known.end()) {
      const std::string hint = did_you_mean(entry.key, known);
      m_problems.push_back(
          problem(entry.key_node, entry.path,
                  fmt::format("unknown key {}{}; {} takes {}", herald::quoted(entry.key), hint,
                              path.empty() ? "a cluster file" : path, key_list(known))));
      continue;
    }
    m_nodes[entry.path] = entry.value;
    kept.push_back(std::move(entry));
  }
  out.entries = std::move(kept);
  return out;
}

void Parser::collect(const YAML::Node& node, const std::string& path, Mapping& out,
                     std::set<std::string>& seen, int depth, bool merged) {
  std::vector<YAML::Node> merges;
  std::set<std::string> own;
  // Copies: yaml-cpp's iterators hand out temporaries.
  for (auto pair : node) {
    if (++m_merged > k_max_merged_entries) {
      fail(node, path, "too many entries (merge keys expand to more than 100000)");
    }
    YAML::Node key = pair.first;
    YAML::Node value = pair.second;
    if (!key.IsScalar()) {
      fail(key, path, "expected a key name, not a mapping or a list");
    }
    std::string name = key.Scalar();
    if (name == "<<" && key.Tag() != "!") {
      merges.push_back(value);
      continue;
    }
    if (!own.insert(name).second) {
      // yaml-cpp keeps both entries of a mapping that repeats a key; YAML forbids it.
      fail(key, child(path, name), "duplicate key: it is already set above in this mapping");
    }
    if (seen.insert(name).second) {
      out.entries.push_back(Entry{name, key, value, child(path, name)});
    } else if (!merged) {
      // An own key overrides what a merge key brought in earlier.
      for (Entry& entry : out.entries) {
        if (entry.key == name) {
          entry = Entry{name, key, value, child(path, name)};
        }
      }
    }
  }
  // Merged mappings add only keys not set in this one; with a list, earlier ones win.
  for (const YAML::Node& merge : merges) {
    if (depth >= k_max_merge_depth) {
      fail(merge, path, "merge keys (<<) nest too deep");
    }
    if (merge.IsMap()) {
      collect(merge, path, out, seen, depth + 1, true);
      continue;
    }
    if (merge.IsSequence()) {
      bool maps = true;
      for (const YAML::Node& item : merge) {
        maps = maps && item.IsMap();
      }
      if (maps) {
        for (const YAML::Node& item : merge) {
          collect(item, path, out, seen, depth + 1, true);
        }
        continue;
      }
    }
    fail(merge, path, "a merge key (<<) takes a mapping or a list of mappings (*anchor)");
  }
}

std::vector<YAML::Node> Parser::sequence(const YAML::Node& node, const std::string& path,
                                         std::string_view what) {
  std::vector<YAML::Node> out;
  if (node.IsNull()) {
    return out;
  }
  if (!node.IsSequence()) {
    fail(node, path, fmt::format("expected {}", what));
  }
  for (const YAML::Node& item : node) {
    out.push_back(item);
  }
  return out;
}

std::string Parser::scalar(const Entry& entry, std::string_view expected) const {
  if (!entry.value.IsScalar()) {
    // A missing value has its mark after the key, often on the next line: point at the key.
    fail(entry.value.IsNull() ? entry.key_node : entry.value, entry.path,
         fmt::format("expected {}, not {}", expected,
                     entry.value.IsNull()  ? "nothing"
                     : entry.value.IsMap() ? "a mapping"
                                           : "a list"));
  }
  return entry.value.Scalar();
}

std::string Parser::text(const Entry& entry, std::string_view expected) const {
  std::string value = scalar(entry, expected);
  if (has_control(value) || !is_valid_utf8(value)) {
    fail(entry.value, entry.path,
         fmt::format("{} holds control characters or invalid UTF-8; expected {}",
                     herald::quoted(value), expected));
  }
  return value;
}

long long Parser::integer(const Entry& entry, long long min, long long max,
                          std::string_view expected) const {
  std::string value = scalar(entry, expected);
  long long n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size() || n < min || n > max) {
    fail(entry.value, entry.path,
         fmt::format("expected {}, not {}", expected, herald::quoted(value)));
  }
  return n;
}

bool Parser::boolean(const Entry& entry) const {
  std::string value = scalar(entry, "true or false");
  if (value == "true") {
    return true;
  }
  if (value == "false") {
    return false;
  }
  fail(entry.value, entry.path,
       fmt::format("expected true or false, not {}", herald::quoted(value)));
}

std::chrono::milliseconds Parser::duration(const Entry& entry, bool positive) const {
  std::string_view expected = "a duration such as 2s, 500ms or 1m30s";
  std::string value = text(entry, expected);
  std::chrono::milliseconds d{};
  try {
    d = parse_duration(value, entry.path);
  } catch (const Error&) {
    fail(entry.value, entry.path,
         fmt::format("expected {}, not {}", expected, herald::quoted(value)));
  }
  if (positive && d.count() <= 0) {
    fail(entry.value, entry.path, fmt::format("must be greater than zero (such as 2s)"));
  }
  return d;
}

Quantity Parser::quantity(const Entry& entry) const {
  std::string_view expected = "a count such as 1 or a percentage such as 25%";
  std::string value = text(entry, expected);
  Quantity q;
  std::string_view digits = value;
  if (digits.ends_with('%')) {
    q.percent = true;
    digits.remove_suffix(1);
  }
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), q.value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || q.value < 0 ||
      q.value > (q.percent ? 100 : k_max_instances)) {
    fail(entry.value, entry.path,
         fmt::format("expected {} (0 to {}, or 0% to 100%), not {}", expected, k_max_instances,
                     herald::quoted(value)));
  }
  return q;
}

std::vector<std::string> Parser::texts(const Entry& entry, std::string_view expected) {
  std::vector<std::string> out;
  std::vector<YAML::Node> items =
      sequence(entry.value, entry.path, fmt::format("a list of {}", expected));
  for (std::size_t i = 0; i < items.size(); ++i) {
    out.push_back(text(Entry{entry.key, entry.key_node, items[i], index(entry.path, i)}, expected));
  }
  return out;
}

std::vector<std::string> Parser::metadata(const Entry& entry) {
  std::vector<std::string> out = texts(entry, "KEY=VALUE items");
  for (std::size_t i = 0; i < out.size(); ++i) {
    Entry item{entry.key, entry.key_node, entry.value[i], index(entry.path, i)};
    check(item, out[i], units::metadata_problem(out[i]));
  }
  return out;
}

std::optional<std::string> Parser::read(const Entry& entry, const std::string& path,
                                        std::string_view what) const {
  try {
    if (m_options.read_file) {
      return m_options.read_file(path);
    }
    return read_file(path, k_max_file, what);
  } catch (const Error& e) {
    fail(entry.value, entry.path, escape_control(e.what()));
  }
}

// --- sections ---------------------------------------------------------------------------------

void Parser::parse_registry(const Entry& entry, RegistrySpec& out) {
  Mapping m = mapping(entry.value, entry.path, {"url", "prefix"}, "a mapping with url and prefix");
  if (const Entry* e = m.find("url")) {
    guarded([&] {
      out.url = text(*e, "a registry URL such as etcd://10.0.0.1:2379");
      try {
        registry::parse_location(out.url);
      } catch (const Error& error) {
        fail(e->value, e->path,
             fmt::format("{}; expected a registry URL such as etcd://10.0.0.1:2379, "
                         "etcd2://HOST:PORT or consul://HOST:8500",
                         escape_control(error.what())));
      }
    });
  }
  if (const Entry* e = m.find("prefix")) {
    guarded([&] {
      out.prefix = text(*e, "a key prefix such as /services/web");
      check(*e, out.prefix, units::url_path_problem(out.prefix, false));
    });
  }
}

void Parser::parse_scheduler(const Entry& entry, SchedulerSpec& out) {
  static const std::vector<std::string> k_docker_keys = {"kind", "endpoint", "host_ip"};
  static const std::vector<std::string> k_fleet_keys = {
      "kind",        "endpoint",       "tunnel", "strict_host_key_checking", "known_hosts_file",
      "ssh_timeout", "request_timeout"};
  // The kind decides which keys are known: read it first.
  Mapping all = mapping(entry.value, entry.path, {}, "a mapping with kind: docker or fleet");
  const Entry* kind = all.find("kind");
  if (kind == nullptr) {
    fail(entry.value, entry.path, "kind is missing: write kind: docker or kind: fleet");
  }
  std::string kind_name = text(*kind, "docker or fleet");
  if (kind_name == "docker") {
    out.kind = SchedulerKind::docker;
  } else if (kind_name == "fleet") {
    out.kind = SchedulerKind::fleet;
  } else {
    const std::string hint = did_you_mean(kind_name, {"docker", "fleet"});
    fail(kind->value, kind->path,
         fmt::format("unknown scheduler {}{}; expected docker or fleet", herald::quoted(kind_name),
                     hint));
  }
  bool fleet = out.kind == SchedulerKind::fleet;
  Mapping m = mapping(entry.value, entry.path, fleet ? k_fleet_keys : k_docker_keys,
                      "a mapping with kind: docker or fleet");
  if (const Entry* e = m.find("endpoint")) {
    guarded([&] {
      std::string value = text(*e, "an endpoint");
      Position at = position(e->value);
      std::string source = fmt::format("{}:{}:{}: {}", m_name, at.line, at.column, e->path);
      try {
        if (fleet) {
          fleet::parse_endpoints(value, source);
          out.fleet.endpoint = value;
          out.fleet.endpoint_source = source;
        } else {
          bool known = value.starts_with("unix://") || value.starts_with("tcp://") ||
                       value.starts_with("http://") || value.starts_with("https://");
          if (!known) {
            throw Error(ErrorKind::config, "");
          }
          http::parse_endpoint(value, source);
          out.docker.endpoint = value;
        }
      } catch (const Error&) {
        fail(e->value, e->path,
             fmt::format("invalid endpoint {}: expected {}", herald::quoted(value),
                         fleet ? "unix:///var/run/fleet.sock or http://HOST:PORT[,http://HOST:PORT]"
                               : "unix:///var/run/docker.sock or tcp://HOST:PORT"));
      }
    });
  }
  if (const Entry* e = m.find("host_ip")) {
    guarded([&] {
      out.docker.host_ip = text(*e, "an IP address of this host such as 127.0.0.1");
      bool literal = !out.docker.host_ip.starts_with("${") &&
                     !units::host_ip_problem(out.docker.host_ip).has_value();
      if (!literal) {
        check(*e, out.docker.host_ip,
              std::string("expected an IP address of this host such as 127.0.0.1 or 10.0.0.5"));
      }
    });
  }
  if (const Entry* e = m.find("tunnel")) {
    guarded([&] {
      std::string value = text(*e, "[USER@]HOST[:PORT]");
      try {
        out.fleet.tunnel = fleet::parse_tunnel_destination(value, e->path);
      } catch (const Error&) {
        check(*e, value, std::string("expected [USER@]HOST[:PORT] such as core@10.0.0.1"));
      }
    });
  }
  if (const Entry* e = m.find("strict_host_key_checking")) {
    guarded([&] { out.fleet.strict_host_key_checking = boolean(*e); });
  }
  if (const Entry* e = m.find("known_hosts_file")) {
    guarded([&] { out.fleet.known_hosts_file = text(*e, "a file name"); });
  }
  if (const Entry* e = m.find("ssh_timeout")) {
    guarded([&] { out.fleet.ssh_timeout = duration(*e, true); });
  }
  if (const Entry* e = m.find("request_timeout")) {
    guarded([&] { out.fleet.request_timeout = duration(*e, true); });
  }
}

void Parser::parse_router(const YAML::Node& node, const std::string& path, RouterSpec& out) {
  out.position = position(node);
  Mapping m =
      mapping(node, path,
              {"name", "kind", "listen", "domain", "template", "global", "instances", "metadata"},
              "a router: a mapping with kind, listen, domain, ...");
  if (const Entry* e = m.find("name")) {
    guarded([&] {
      out.name = text(*e, "a router name such as herald-router");
      check(*e, out.name, units::router_name_problem(out.name));
    });
  }
  const Entry* kind = m.find("kind");
  if (kind == nullptr) {
    m_problems.push_back(
        problem(node, path, "kind is missing: write kind: nginx-host, nginx-path or haproxy"));
  } else {
    guarded([&] {
      std::string value = text(*kind, "nginx-host, nginx-path or haproxy");
      try {
        out.kind = units::parse_router_kind(value);
      } catch (const Error&) {
        const std::string hint = did_you_mean(value, {"nginx-host", "nginx-path", "haproxy"});
        fail(kind->value, kind->path,
             fmt::format("unknown router kind {}{}; expected nginx-host, nginx-path or haproxy",
                         herald::quoted(value), hint));
      }
    });
  }
  if (const Entry* e = m.find("listen")) {
    guarded([&] {
      out.listen = text(*e, "a port or ADDRESS:PORT");
      check(*e, out.listen, units::listen_problem(out.listen));
    });
  }
  if (const Entry* e = m.find("domain")) {
    guarded([&] {
      out.domain = text(*e, "a DNS name");
      check(*e, out.domain, units::dns_name_problem(out.domain));
    });
  }
  if (const Entry* e = m.find("template")) {
    guarded([&] {
      out.config_template = text(*e, "an absolute path on the machines");
      check(*e, out.config_template, units::host_path_problem(out.config_template));
    });
  }
  if (const Entry* e = m.find("global")) {
    guarded([&] { out.global = boolean(*e); });
  }
  if (const Entry* e = m.find("instances")) {
    guarded([&] {
      out.instances = static_cast<int>(
          integer(*e, 0, k_max_instances, fmt::format("a count from 0 to {}", k_max_instances)));
    });
  }
  if (const Entry* e = m.find("metadata")) {
    guarded([&] { out.metadata = metadata(*e); });
  }
}

void Parser::parse_health(const Entry& entry, HealthCheck& out) {
  Mapping m = mapping(entry.value, entry.path, {"path", "interval", "timeout", "rise", "fall"},
                      "a mapping with path, interval, timeout, rise and fall");
  if (const Entry* e = m.find("path")) {
    guarded([&] {
      out.path = text(*e, "an HTTP path such as /health");
      check(*e, out.path, units::url_path_problem(out.path, true));
    });
  }
  bool interval_ok = true;
  bool timeout_ok = true;
  if (const Entry* e = m.find("interval")) {
    interval_ok = guarded([&] { out.interval = duration(*e, true); });
  }
  const Entry* timeout = m.find("timeout");
  if (timeout != nullptr) {
    timeout_ok = guarded([&] { out.timeout = duration(*timeout, true); });
  }
  if (interval_ok && timeout_ok && out.timeout > out.interval) {
    const Entry* at = timeout != nullptr ? timeout : m.find("interval");
    m_problems.push_back(problem(
        at->value, at->path,
        fmt::format("the timeout {} is longer than the interval {}: a check must end before the "
                    "next one is due",
                    format_duration(out.timeout), format_duration(out.interval))));
  }
  std::string bound = fmt::format("a count from 1 to {}", k_max_rise_fall);
  if (const Entry* e = m.find("rise")) {
    guarded([&] { out.rise = static_cast<int>(integer(*e, 1, k_max_rise_fall, bound)); });
  }
  if (const Entry* e = m.find("fall")) {
    guarded([&] { out.fall = static_cast<int>(integer(*e, 1, k_max_rise_fall, bound)); });
  }
}

void Parser::parse_placement(const Entry& entry, Placement& out, Mapping& keep) {
  keep = mapping(entry.value, entry.path, {"spread", "metadata"},
                 "a mapping with spread and metadata");
  if (const Entry* e = keep.find("spread")) {
    guarded([&] { out.spread = boolean(*e); });
  }
  if (const Entry* e = keep.find("metadata")) {
    guarded([&] { out.metadata = metadata(*e); });
  }
}

void Parser::parse_update(const Entry& entry, UpdatePolicy& out) {
  Mapping m =
      mapping(entry.value, entry.path, {"max_unavailable", "max_surge", "min_ready", "drain"},
              "a mapping with max_unavailable, max_surge, min_ready and drain");
  bool ok = true;
  if (const Entry* e = m.find("max_unavailable")) {
    ok = guarded([&] { out.max_unavailable = quantity(*e); }) && ok;
  }
  if (const Entry* e = m.find("max_surge")) {
    ok = guarded([&] { out.max_surge = quantity(*e); }) && ok;
  }
  if (ok && out.max_unavailable.value == 0 && out.max_surge.value == 0) {
    m_problems.push_back(problem(entry.value, entry.path,
                                 "max_surge and max_unavailable are both 0, so a rollout could "
                                 "never start: allow one (max_surge: 1 keeps every instance "
                                 "serving)"));
  }
  if (const Entry* e = m.find("min_ready")) {
    guarded([&] { out.min_ready = duration(*e, false); });
  }
  if (const Entry* e = m.find("drain")) {
    guarded([&] { out.drain = duration(*e, false); });
  }
}

/// Why `value` cannot be an environment value, or nullopt.
std::optional<std::string> env_value_problem(std::string_view name, std::string_view value) {
  if (has_control(value)) {
    return "it holds control characters (a newline, an escape); write them out another way";
  }
  try {
    units::environment_word(name, value);
  } catch (const Error& e) {
    return escape_control(e.what());
  }
  return std::nullopt;
}

void Parser::parse_env(const Entry& entry, std::vector<std::pair<std::string, std::string>>& out) {
  Mapping m = mapping(entry.value, entry.path, {}, "a mapping of NAME: value");
  for (const Entry& e : m.entries) {
    guarded([&] {
      if (!units::is_valid_environment_name(e.key)) {
        fail(e.key_node, e.path,
             fmt::format("invalid variable name {}: expected a POSIX name (letters, digits and "
                         "'_', not starting with a digit)",
                         herald::quoted(e.key)));
      }
      std::string value =
          scalar(e, fmt::format("a value (write {}: \"\" for an empty one)", e.key));
      if (auto why = env_value_problem(e.key, value)) {
        fail(e.value, e.path, fmt::format("invalid value: {}", *why));
      }
      out.emplace_back(e.key, value);
    });
  }
}

void Parser::parse_env_file(const YAML::Node& node, const std::string& path, EnvFile& out) {
  Entry entry{"env_files", node, node, path};
  out.path = text(entry, "a file name");
  if (out.path.empty()) {
    fail(node, path, "expected a file name, not \"\"");
  }
  out.resolved = out.path.starts_with('/') ? out.path : m_base + "/" + out.path;
  std::optional<std::string> content = read(entry, out.resolved, out.resolved);
  if (!content) {
    fail(node, path, fmt::format("env file {} does not exist", herald::quoted(out.resolved)));
  }
  if (auto why = utf8_problem(*content, out.path)) {
    fail(node, path, *why);
  }
  try {
    out.vars = units::parse_env_file(
        *content, out.path, [&](const std::string& name) -> std::optional<std::string> {
          throw Error(ErrorKind::config,
                      fmt::format("{}: {} has no value: write {}=VALUE (a cluster's instances must "
                                  "not depend on the environment of whoever runs herald)",
                                  out.path, name, name));
        });
  } catch (const Error& e) {
    fail(node, path, escape_control(e.what()));
  }
  for (const auto& [name, value] : out.vars) {
    if (auto why = env_value_problem(name, value)) {
      fail(node, path, fmt::format("{}: invalid value of {}: {}", out.path, name, *why));
    }
  }
}

void Parser::parse_app(const YAML::Node& node, const std::string& path, AppSpec& out) {
  out.position = position(node);
  out.port = 0;
  Mapping m = mapping(node, path,
                      {"name", "image", "port", "instances", "routing", "aliases", "env",
                       "env_files", "health", "placement", "update", "on_demand"},
                      "an app: a mapping with name, image, port, ...");
  for (const char* required : {"name", "image", "port"}) {
    if (m.find(required) == nullptr) {
      m_problems.push_back(problem(node, path, fmt::format("{} is missing", required)));
    }
  }
  if (const Entry* e = m.find("name")) {
    guarded([&] {
      out.name = text(*e, "an app name such as web, or a template such as {name}");
      if (out.is_template()) {
        // A template: what it makes must be a valid name, and {name} stands only once.
        std::size_t first = out.name.find("{name}");
        if (out.name.find("{name}", first + 1) != std::string::npos) {
          fail(e->value, e->path, "a template name holds {name} once");
        }
        std::string sample = out.name;
        sample.replace(first, 6, "x");
        check(*e, out.name, units::app_name_problem(sample));
        out.on_demand = true;
      } else {
        check(*e, out.name, units::app_name_problem(out.name));
      }
    });
  }
  if (const Entry* e = m.find("image")) {
    guarded([&] {
      out.image = text(*e, "a Docker image reference");
      std::string sample = out.image;
      for (std::size_t at = sample.find("{name}"); at != std::string::npos;
           at = sample.find("{name}")) {
        sample.replace(at, 6, "x");
      }
      check(*e, out.image, units::image_problem(sample));
    });
  }
  if (const Entry* e = m.find("port")) {
    guarded([&] {
      out.port = static_cast<std::uint16_t>(
          integer(*e, 1, 65535, "the port the app listens on in its container (1-65535)"));
    });
  }
  if (const Entry* e = m.find("instances")) {
    guarded([&] {
      out.instances = static_cast<int>(
          integer(*e, 0, k_max_instances, fmt::format("a count from 0 to {}", k_max_instances)));
    });
  }
  if (const Entry* e = m.find("routing")) {
    guarded([&] {
      std::string value = text(*e, "host, path or none");
      if (value == "host") {
        out.routing = Routing::host;
      } else if (value == "path") {
        out.routing = Routing::path;
      } else if (value == "none") {
        out.routing = Routing::none;
      } else {
        const std::string hint = did_you_mean(value, {"host", "path", "none"});
        fail(e->value, e->path,
             fmt::format("unknown routing {}{}; expected host (APP.DOMAIN), path (/APP/) or none",
                         herald::quoted(value), hint));
      }
    });
  }
  if (const Entry* e = m.find("aliases")) {
    guarded([&] {
      out.aliases = texts(*e, "DNS names");
      for (std::size_t i = 0; i < out.aliases.size(); ++i) {
        Entry item{e->key, e->key_node, e->value[i], index(e->path, i)};
        check(item, out.aliases[i], units::dns_name_problem(out.aliases[i]));
        m_nodes[item.path] = item.value;
      }
      if (!out.aliases.empty() && out.routing != Routing::host) {
        fail(e->value, e->path,
             fmt::format("aliases are host names, for routing: host; this app routes by {}",
                         to_string(out.routing)));
      }
    });
  }
  if (const Entry* e = m.find("env")) {
    guarded([&] { parse_env(*e, out.env); });
  }
  if (const Entry* e = m.find("env_files")) {
    guarded([&] {
      std::vector<YAML::Node> items = sequence(e->value, e->path, "a list of file names");
      for (std::size_t i = 0; i < items.size(); ++i) {
        guarded([&] {
          EnvFile file;
          parse_env_file(items[i], index(e->path, i), file);
          out.env_files.push_back(std::move(file));
        });
      }
    });
  }
  if (const Entry* e = m.find("health")) {
    guarded([&] { parse_health(*e, out.health); });
  }
  if (const Entry* e = m.find("placement")) {
    Mapping keep;
    guarded([&] { parse_placement(*e, out.placement, keep); });
  }
  if (const Entry* e = m.find("update")) {
    guarded([&] { parse_update(*e, out.update); });
  }
  if (const Entry* e = m.find("on_demand")) {
    guarded([&] {
      bool value = boolean(*e);
      if (!value && out.is_template()) {
        fail(e->value, e->path, "a template ({name}) is always started on demand");
      }
      out.on_demand = value || out.is_template();
    });
  }
}

void Parser::parse_launch(const Entry& entry, LaunchSpec& out) {
  out.position = position(entry.value);
  Mapping m = mapping(entry.value, entry.path,
                      {"allow", "deny", "policy_cmd", "policy_timeout", "max_apps"},
                      "a mapping with allow, deny, policy_cmd, policy_timeout and max_apps");
  auto patterns = [&](const Entry& e, std::vector<std::string>& into) {
    into = texts(e, "app names, globs (web-*) or /regular expressions/");
    for (std::size_t i = 0; i < into.size(); ++i) {
      const std::string& item = into[i];
      if (item.empty() || has_control(item)) {
        fail(e.value[i], index(e.path, i), "expected a name, a glob or a /regex/, not \"\"");
      }
      if (item.size() >= 2 && item.front() == '/' && item.back() == '/') {
        try {
          std::regex check(item.substr(1, item.size() - 2));
        } catch (const std::regex_error&) {
          fail(e.value[i], index(e.path, i),
               fmt::format("{} is no valid regular expression", herald::quoted(item)));
        }
      }
    }
  };
  if (const Entry* e = m.find("allow")) {
    guarded([&] { patterns(*e, out.allow); });
  }
  if (const Entry* e = m.find("deny")) {
    guarded([&] { patterns(*e, out.deny); });
  }
  if (const Entry* e = m.find("policy_cmd")) {
    guarded([&] {
      out.policy_cmd = texts(*e, "a command as a list: [/usr/local/bin/isavailable, --quiet]");
      if (out.policy_cmd.empty() || out.policy_cmd.front().empty() ||
          out.policy_cmd.front().front() != '/') {
        fail(e->value, e->path,
             "expected a command as a list starting with an absolute path, run without a shell");
      }
    });
  }
  if (const Entry* e = m.find("policy_timeout")) {
    guarded([&] { out.policy_timeout = duration(*e, true); });
  }
  if (const Entry* e = m.find("max_apps")) {
    guarded([&] {
      out.max_apps = static_cast<int>(integer(*e, 0, 10000, "a count from 0 (no cap) to 10000"));
    });
  }
}

void Parser::parse_unit(const YAML::Node& node, const std::string& path, ExtraUnit& out) {
  out.position = position(node);
  Mapping m = mapping(node, path, {"name", "text", "file", "global"},
                      "a unit: a mapping with name, text or file, and global");
  const Entry* name = m.find("name");
  if (name == nullptr) {
    m_problems.push_back(problem(node, path, "name is missing: write name: NAME.service"));
  } else {
    guarded([&] {
      out.name = text(*name, "a unit name such as registry.service");
      std::string why = units::systemd_name_problem(out.name);
      if (why.empty()) {
        why = units::fleet_name_problem(out.name);
      }
      if (why.empty() && out.name.find("@.") != std::string::npos) {
        why = "it is a template; name an instance such as registry@1.service";
      }
      if (!why.empty()) {
        check(
            *name, out.name,
            fmt::format("{}; expected a unit name such as registry.service", escape_control(why)));
      }
    });
  }
  const Entry* text_entry = m.find("text");
  const Entry* file_entry = m.find("file");
  if ((text_entry == nullptr) == (file_entry == nullptr)) {
    m_problems.push_back(
        problem(node, path,
                text_entry == nullptr
                    ? "the unit file is missing: write text: (the unit inline) or file: (a path)"
                    : "text and file exclude each other: give the unit inline or as a file"));
  }
  std::string source = out.name.empty() ? path : out.name;
  if (text_entry != nullptr) {
    guarded([&] {
      out.text = scalar(*text_entry, "the unit file's text");
      if (auto why = utf8_problem(out.text, source)) {
        fail(text_entry->value, text_entry->path, *why);
      }
      try {
        units::UnitFile::parse(out.text, source);
      } catch (const Error& e) {
        fail(text_entry->value, text_entry->path, escape_control(e.what()));
      }
    });
  }
  if (file_entry != nullptr) {
    guarded([&] {
      out.file = text(*file_entry, "a file name");
      std::string resolved = out.file.starts_with('/') ? out.file : m_base + "/" + out.file;
      std::optional<std::string> content = read(*file_entry, resolved, resolved);
      if (!content) {
        fail(file_entry->value, file_entry->path,
             fmt::format("unit file {} does not exist", herald::quoted(resolved)));
      }
      out.text = std::move(*content);
      if (auto why = utf8_problem(out.text, out.file)) {
        fail(file_entry->value, file_entry->path, *why);
      }
      try {
        units::UnitFile::parse(out.text, out.file);
      } catch (const Error& e) {
        fail(file_entry->value, file_entry->path, escape_control(e.what()));
      }
    });
  }
  if (const Entry* e = m.find("global")) {
    guarded([&] { out.global = boolean(*e); });
  }
}

// --- checks across entries --------------------------------------------------------------------

void Parser::check_scheduler_fit(const ClusterSpec& spec) {
  if (spec.scheduler.kind == SchedulerKind::fleet) {
    for (std::size_t i = 0; i < spec.routers.size(); ++i) {
      std::string path = index("routers", i);
      if (m_nodes.count(path + ".global") != 0 && m_nodes.count(path + ".instances") != 0 &&
          spec.routers[i].global) {
        m_problems.push_back(problem(m_nodes[path + ".instances"], path + ".instances",
                                     "a global router runs on every machine: drop instances, "
                                     "or set global: false"));
      }
    }
    return;
  }
  for (std::size_t i = 0; i < spec.routers.size(); ++i) {
    std::string path = index("routers", i) + ".instances";
    if (!spec.routers[i].global && spec.routers[i].instances > 1) {
      m_problems.push_back(problem(m_nodes[path], path,
                                   "the docker scheduler runs one engine, where two routers would "
                                   "listen on the same address: use instances: 1 (or fleet)"));
    }
  }
  auto refuse = [&](const std::string& path, std::string_view what) {
    m_problems.push_back(problem(m_nodes[path], path,
                                 fmt::format("{} needs the fleet scheduler; the docker scheduler "
                                             "runs every container on its one engine",
                                             what)));
  };
  for (std::size_t i = 0; i < spec.routers.size(); ++i) {
    std::string path = index("routers", i);
    if (spec.routers[i].global) {
      refuse(path + ".global", "a global router (one on every machine)");
    }
    if (!spec.routers[i].metadata.empty()) {
      refuse(path + ".metadata", "placing a router by machine metadata");
    }
  }
  for (std::size_t i = 0; i < spec.apps.size(); ++i) {
    std::string path = index("apps", i) + ".placement";
    if (spec.apps[i].placement.spread) {
      refuse(path + ".spread", "spread (one instance per machine)");
    }
    if (!spec.apps[i].placement.metadata.empty()) {
      refuse(path + ".metadata", "placing instances by machine metadata");
    }
  }
  if (!spec.units.empty()) {
    refuse("units", "an extra unit (a systemd unit on the machines)");
  }
}

void Parser::check_names(const ClusterSpec& spec) {
  std::map<std::string, std::string> apps;
  for (std::size_t i = 0; i < spec.apps.size(); ++i) {
    std::string path = index("apps", i) + ".name";
    const std::string& name = spec.apps[i].name;
    if (name.empty()) {
      continue;
    }
    auto [it, added] = apps.emplace(name, index("apps", i));
    if (!added) {
      m_problems.push_back(problem(m_nodes[path], path,
                                   fmt::format("app {} is already {}: give each app its own name",
                                               herald::quoted(name), it->second)));
    }
  }
  std::map<std::string, std::string> routers;
  for (std::size_t i = 0; i < spec.routers.size(); ++i) {
    std::string path = index("routers", i);
    auto [it, added] = routers.emplace(spec.routers[i].name, path);
    if (!added) {
      // Unnamed routers clash on the default name: point at the router then.
      std::string at = m_nodes.count(path + ".name") != 0 ? path + ".name" : path;
      m_problems.push_back(
          problem(m_nodes[at], at,
                  fmt::format("router {} is already {}: give each router its own name",
                              herald::quoted(spec.routers[i].name), it->second)));
    }
  }
  // An extra unit may not take a name herald gives its own units.
  std::map<std::string, std::string> units;
  for (std::size_t i = 0; i < spec.units.size(); ++i) {
    const ExtraUnit& unit = spec.units[i];
    std::string path = index("units", i) + ".name";
    if (unit.name.empty() || m_nodes.count(path) == 0) {
      continue;
    }
    std::string stem = unit.name.substr(0, unit.name.rfind('.'));
    std::string prefix = stem.substr(0, stem.find('@'));
    std::string owner;
    if (apps.count(prefix) != 0 && stem.find('@') != std::string::npos) {
      owner = apps[prefix];
    } else if (prefix.ends_with("-discovery") && stem.find('@') != std::string::npos &&
               apps.count(prefix.substr(0, prefix.size() - 10)) != 0) {
      owner = apps[prefix.substr(0, prefix.size() - 10)];
    } else if (routers.count(stem) != 0) {
      owner = routers[stem];
    } else if (stem.ends_with("-render") && routers.count(stem.substr(0, stem.size() - 7)) != 0) {
      owner = routers[stem.substr(0, stem.size() - 7)];
    }
    if (!owner.empty()) {
      m_problems.push_back(problem(m_nodes[path], path,
                                   fmt::format("{} is a unit herald writes for {}: name the extra "
                                               "unit otherwise",
                                               herald::quoted(unit.name), owner)));
      continue;
    }
    auto [it, added] = units.emplace(unit.name, index("units", i));
    if (!added) {
      m_problems.push_back(problem(m_nodes[path], path,
                                   fmt::format("unit {} is already {}: give each unit its own name",
                                               herald::quoted(unit.name), it->second)));
    }
  }
}

void Parser::check_routing(ClusterSpec& spec) {
  bool by_host = false;
  bool by_path = false;
  std::set<std::string> domains;
  for (const RouterSpec& router : spec.routers) {
    by_host = by_host || router.kind != RouterKind::nginx_path;
    by_path = by_path || router.kind != RouterKind::nginx_host;
    if (!router.domain.empty()) {
      domains.insert(router.domain);
    }
  }
  // Host names: each app's APP.DOMAIN for every router domain, and the aliases.
  std::map<std::string, std::string> hosts;
  for (std::size_t i = 0; i < spec.apps.size(); ++i) {
    const AppSpec& app = spec.apps[i];
    if (app.routing == Routing::host && !app.name.empty() && !app.is_template()) {
      for (const std::string& domain : domains) {
        hosts.emplace(app.name + "." + domain, index("apps", i) + ".name");
      }
    }
  }
  for (std::size_t i = 0; i < spec.apps.size(); ++i) {
    const AppSpec& app = spec.apps[i];
    std::string path = index("apps", i);
    for (std::size_t j = 0; j < app.aliases.size(); ++j) {
      std::string alias_path = index(path + ".aliases", j);
      if (m_nodes.count(alias_path) == 0) {
        continue;
      }
      auto [it, added] = hosts.emplace(app.aliases[j], alias_path);
      if (!added && !it->second.starts_with(path + ".")) {
        m_problems.push_back(problem(m_nodes[alias_path], alias_path,
                                     fmt::format("host {} is already routed to {}: two apps "
                                                 "cannot share a host name",
                                                 herald::quoted(app.aliases[j]), it->second)));
      } else if (!added) {
        m_problems.push_back(problem(
            m_nodes[alias_path], alias_path,
            fmt::format("host {} is listed twice for this app", herald::quoted(app.aliases[j]))));
      }
    }
    if (spec.routers.empty()) {
      continue;
    }
    bool explicit_routing = m_nodes.count(path + ".routing") != 0;
    if (!explicit_routing && !by_host && app.aliases.empty()) {
      // Only nginx-path routers: an app that does not say is routed the way they route.
      spec.apps[i].routing = Routing::path;
      continue;
    }
    if ((app.routing == Routing::host && !by_host) || (app.routing == Routing::path && !by_path)) {
      std::string at = explicit_routing ? path + ".routing" : path + ".aliases";
      m_problems.push_back(problem(
          m_nodes[at], at,
          fmt::format("no router routes by {}: add a router of kind {}, or route this app by {}",
                      to_string(app.routing),
                      app.routing == Routing::host ? "nginx-host or haproxy"
                                                   : "nginx-path or haproxy",
                      app.routing == Routing::host ? "path" : "host")));
    }
  }
}

ClusterSpec Parser::parse(std::string_view text) {
  ClusterSpec spec;
  spec.source = m_name;
  if (text.find('\0') != std::string_view::npos) {
    throw Error(ErrorKind::data,
                fmt::format("{}: invalid YAML: the file holds a NUL byte", m_name));
  }
  // YAML is Unicode text, but yaml-cpp passes any bytes through into keys and values.
  if (auto at = invalid_utf8_position(text)) {
    throw Error(ErrorKind::data, fmt::format("{}:{}:{}: invalid YAML: the file is not UTF-8 here",
                                             m_name, at->line, at->column));
  }
  YAML::Node root;
  try {
    std::string copy(text);
    std::vector<YAML::Mark> starts = document_starts(copy);
    for (std::size_t i = 1; i < starts.size(); ++i) {
      if (starts[i].pos == starts[i - 1].pos) {
        // yaml-cpp 0.7 neither takes nor refuses a ',' where a document should start: it hands
        // out an empty document there, again and again (jbeder/yaml-cpp#1040).
        throw Error(ErrorKind::data,
                    fmt::format("{}:{}:{}: invalid YAML: ',' outside a flow collection ([...] "
                                "or {{...}})",
                                m_name, starts[i].line + 1, starts[i].column + 1));
      }
    }
    if (starts.size() > 1) {
      throw Error(ErrorKind::data,
                  fmt::format("{}:{}:{}: a second YAML document: a cluster file is one document "
                              "(remove the '---' line)",
                              m_name, starts[1].line + 1, starts[1].column + 1));
    }
    root = YAML::Load(copy);
  } catch (const YAML::Exception& e) {
    // yaml-cpp's messages are lower-case fragments ("end of map not found"); its marks are
    // 0-based, and -1 when it has none.
    int line = e.mark.line >= 0 ? e.mark.line + 1 : 1;
    int column = e.mark.column >= 0 ? e.mark.column + 1 : 1;
    throw Error(ErrorKind::data, fmt::format("{}:{}:{}: invalid YAML: {}", m_name, line, column,
                                             escape_control(e.msg)));
  }
  bool scheduler_ok = true;
  bool routers_ok = true;
  guarded([&] {
    Mapping top = mapping(root, "", {"registry", "scheduler", "routers", "apps", "units", "launch"},
                          "a mapping with registry, scheduler, routers, apps, units and launch");
    if (root.IsNull()) {
      fail(root, "apps", "the file is empty: a cluster file lists at least its apps");
    }
    if (const Entry* e = top.find("scheduler")) {
      std::size_t before = m_problems.size();
      scheduler_ok =
          guarded([&] { parse_scheduler(*e, spec.scheduler); }) && m_problems.size() == before;
    }
    // Routers are global on fleet unless they say otherwise; docker has no "every machine".
    bool fleet = spec.scheduler.kind == SchedulerKind::fleet;
    if (const Entry* e = top.find("registry")) {
      guarded([&] { parse_registry(*e, spec.registry); });
    }
    if (const Entry* e = top.find("routers")) {
      std::size_t before = m_problems.size();
      guarded([&] {
        std::vector<YAML::Node> items = sequence(e->value, e->path, "a list of routers");
        for (std::size_t i = 0; i < items.size(); ++i) {
          RouterSpec router;
          router.global = fleet;
          m_nodes[index("routers", i)] = items[i];
          guarded([&] { parse_router(items[i], index("routers", i), router); });
          if (router.global && m_nodes.count(index("routers", i) + ".global") == 0 &&
              m_nodes.count(index("routers", i) + ".instances") != 0) {
            router.global = false; // "instances: 2" alone means a counted router
          }
          spec.routers.push_back(std::move(router));
        }
      });
      routers_ok = m_problems.size() == before;
    }
    const Entry* apps = top.find("apps");
    if (apps == nullptr) {
      fail(root, "apps", "apps is missing: a cluster file lists the apps it runs");
    }
    guarded([&] {
      std::vector<YAML::Node> items = sequence(apps->value, apps->path, "a list of apps");
      for (std::size_t i = 0; i < items.size(); ++i) {
        AppSpec app;
        guarded([&] { parse_app(items[i], index("apps", i), app); });
        spec.apps.push_back(std::move(app));
      }
    });
    if (const Entry* e = top.find("units")) {
      m_nodes["units"] = e->value;
      guarded([&] {
        std::vector<YAML::Node> items = sequence(e->value, e->path, "a list of units");
        for (std::size_t i = 0; i < items.size(); ++i) {
          ExtraUnit unit;
          guarded([&] { parse_unit(items[i], index("units", i), unit); });
          spec.units.push_back(std::move(unit));
        }
      });
    }
    if (const Entry* e = top.find("launch")) {
      guarded([&] { parse_launch(*e, spec.launch); });
    }
    if (scheduler_ok) {
      check_scheduler_fit(spec);
    }
    check_names(spec);
    if (routers_ok) {
      check_routing(spec);
    }
  });
  if (!m_problems.empty()) {
    const Problem& first = *std::min_element(
        m_problems.begin(), m_problems.end(), [](const Problem& a, const Problem& b) {
          return std::tie(a.at.line, a.at.column) < std::tie(b.at.line, b.at.column);
        });
    throw Error(ErrorKind::config, first.message);
  }
  return spec;
}

} // namespace

ClusterSpec parse_cluster(std::string_view text, const std::string& name,
                          const LoadOptions& options) {
  return Parser(name, options).parse(text);
}

ClusterSpec load_cluster_file(const std::string& path, const LoadOptions& options) {
  std::optional<std::string> text;
  if (options.read_file) {
    text = options.read_file(path);
  } else {
    text = read_file(path, k_max_file, "cluster file " + path);
  }
  if (!text) {
    throw Error(ErrorKind::config,
                fmt::format("cluster file {} does not exist: pass -f FILE (see herald-cluster(5))",
                            escape_control(path)));
  }
  return parse_cluster(*text, path, options);
}

} // namespace herald::cluster
