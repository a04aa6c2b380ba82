#include "herald/render/haproxy_config.hpp"

#include "herald/core/strings.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <charconv>
#include <fmt/format.h>
#include <map>
#include <netinet/in.h>

namespace herald::render {

namespace {

/// The keywords that open a section of haproxy.cfg (2.6).
bool is_section_keyword(std::string_view word) {
  static constexpr std::string_view k_sections[] = {
      "global",      "defaults", "frontend",  "backend",  "listen",
      "userlist",    "peers",    "resolvers", "mailers",  "program",
      "http-errors", "ring",     "cache",     "fcgi-app", "log-forward"};
  return std::find(std::begin(k_sections), std::end(k_sections), word) != std::end(k_sections);
}

/// A name haproxy accepts for a proxy or a server, and nothing the stats socket would read as
/// syntax: letters, digits, '.', '_', ':' and '-'.
bool is_plain_name(std::string_view name) {
  return !name.empty() && name.size() <= 255 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' ||
           c == '-';
  });
}

/// An argument of a server keyword: a number, a duration or a word ("2s", "layer7", "mark-down").
bool is_plain_argument(std::string_view text) {
  return !text.empty() && text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

std::vector<std::string> split_blanks(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_blank(text[i])) {
      ++i;
    }
    std::size_t start = i;
    while (i < text.size() && !is_blank(text[i])) {
      ++i;
    }
    if (i > start) {
      out.emplace_back(text.substr(start, i - start));
    }
  }
  return out;
}

std::string join_words(const std::vector<std::string>& words, std::size_t from = 0) {
  std::string out;
  for (std::size_t i = from; i < words.size(); ++i) {
    out += out.empty() ? "" : " ";
    out += words[i];
  }
  return out;
}

/// One meaningful line. A plain line (no quote, no backslash) is split into words with its
/// comment cut off, so spacing and comments do not count as changes; any other line is kept as
/// written, since quoting and escapes are not followed here.
struct ConfigLine {
  std::string text;               ///< the words joined by one space, or the line as written
  std::vector<std::string> words; ///< only for plain lines
  bool plain = true;
};

/// A `server NAME ADDRESS [OPTIONS]` line of a backend.
struct ServerLine {
  std::string name;
  std::string address;
  std::vector<std::string> options;
};

/// One section: its header line and body. Backends keep their server lines apart.
struct Section {
  std::string header;                 ///< "backend web", "global", "" before the first section
  std::optional<std::string> backend; ///< the name of a plain `backend NAME` section
  std::vector<std::string> body;      ///< every other line, in order
  std::vector<ServerLine> servers;    ///< backends only
  /// The options of its default-server lines, in order; nullopt when one is not plain.
  std::optional<std::vector<std::string>> default_server = std::vector<std::string>{};
  /// For a backend: the index of the defaults section it inherits from (the last one before it).
  std::optional<std::size_t> defaults;
};

struct ParsedConfig {
  std::vector<Section> sections;
  std::string error; ///< set when the text cannot be read safely
};

ConfigLine read_line(std::string_view raw) {
  ConfigLine line;
  line.plain = raw.find_first_of("\"'\\") == std::string_view::npos;
  if (line.plain) {
    line.words = split_blanks(raw.substr(0, raw.find('#')));
    line.text = join_words(line.words);
  } else {
    line.text = std::string(trim(raw));
    line.words = split_blanks(raw); // for the section keyword only
  }
  return line;
}

ParsedConfig parse_config(std::string_view text) {
  ParsedConfig out;
  out.sections.emplace_back(); // lines before the first section
  std::optional<std::size_t> last_defaults;
  std::size_t number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view raw = text.substr(start, end - start);
    start = end + 1;
    ++number;
    for (char c : raw) {
      auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        out.error = fmt::format("line {} holds a control character", number);
        return out;
      }
    }
    ConfigLine line = read_line(raw);
    if (line.text.empty()) {
      continue;
    }
    if (!line.words.empty() && is_section_keyword(line.words[0])) {
      Section section;
      section.header = line.text;
      if (line.plain && line.words[0] == "backend" && line.words.size() == 2 &&
          is_plain_name(line.words[1])) {
        section.backend = line.words[1];
        section.defaults = last_defaults;
      }
      if (line.words[0] == "defaults") {
        last_defaults = out.sections.size();
      }
      out.sections.push_back(std::move(section));
      continue;
    }
    Section& section = out.sections.back();
    if (line.plain && !line.words.empty() && line.words[0] == "default-server") {
      if (section.default_server) {
        section.default_server->insert(section.default_server->end(), line.words.begin() + 1,
                                       line.words.end());
      }
    } else if (!line.plain && line.text.starts_with("default-server")) {
      section.default_server.reset();
    }
    if (section.backend && line.plain && line.words.size() >= 3 && line.words[0] == "server") {
      section.servers.push_back(
          ServerLine{line.words[1], line.words[2], {line.words.begin() + 3, line.words.end()}});
      continue;
    }
    section.body.push_back(std::move(line.text));
  }
  return out;
}

/// "IP:PORT" or "[IPv6]:PORT" into its parts, or nullopt for anything else (a DNS name, a port
/// range or offset, a prefix such as ipv4@ or unix@).
std::optional<std::pair<std::string, int>> parse_address(std::string_view address) {
  std::string_view host;
  std::string_view port;
  if (address.starts_with('[')) {
    auto close = address.find("]:");
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
    in6_addr v6{};
    if (host.empty() || host.size() > 45 ||
        ::inet_pton(AF_INET6, std::string(host).c_str(), &v6) != 1) {
      return std::nullopt;
    }
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    in_addr v4{};
    if (host.empty() || host.size() > 15 ||
        ::inet_pton(AF_INET, std::string(host).c_str(), &v4) != 1) {
      return std::nullopt;
    }
  }
  int value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || port.size() > 5 || ec != std::errc() || ptr != port.data() + port.size() ||
      value < 1 || value > 65535 || !std::isdigit(static_cast<unsigned char>(port[0]))) {
    return std::nullopt;
  }
  return std::make_pair(std::string(host), value);
}

/// Why `options` cannot be handed to `add server`, or nullopt when they can.
std::optional<std::string> options_problem(const std::vector<std::string>& options) {
  for (std::size_t i = 0; i < options.size();) {
    const std::string& keyword = options[i];
    auto arguments = runtime_keyword_arguments(keyword);
    if (!arguments) {
      return fmt::format("option {} is not one herald passes to add server", quoted(keyword));
    }
    for (int a = 1; a <= *arguments; ++a) {
      if (i + static_cast<std::size_t>(a) >= options.size()) {
        return fmt::format("option {} lacks its argument", quoted(keyword));
      }
      const std::string& argument = options[i + static_cast<std::size_t>(a)];
      if (!is_plain_argument(argument)) {
        return fmt::format("the argument {} of option {} is not a plain word", quoted(argument),
                           quoted(keyword));
      }
    }
    i += 1 + static_cast<std::size_t>(*arguments);
  }
  return std::nullopt;
}

/// The server as the runtime API takes it, or why it cannot be.
std::optional<std::string> to_runtime_server(const std::string& backend, const ServerLine& line,
                                             std::vector<std::string> options, HaproxyServer& out) {
  std::string where = fmt::format("server {}/{}", backend, escape_control(line.name));
  if (!is_plain_name(line.name)) {
    return fmt::format("{}: the name is not one herald passes to the stats socket", where);
  }
  auto address = parse_address(line.address);
  if (!address) {
    return fmt::format("{}: address {} is not an IP literal with a port (the runtime API "
                       "resolves no name)",
                       where, quoted(line.address));
  }
  if (auto problem = options_problem(options)) {
    return fmt::format("{}: {}", where, *problem);
  }
  out.name = line.name;
  out.ip = address->first;
  out.port = address->second;
  out.options = std::move(options);
  return std::nullopt;
}

/// Servers by name; nullopt (with `error` set) when a name appears twice.
std::optional<std::map<std::string, const ServerLine*>> servers_by_name(const Section& section,
                                                                        std::string& error) {
  std::map<std::string, const ServerLine*> out;
  for (const auto& server : section.servers) {
    if (!out.emplace(server.name, &server).second) {
      error =
          fmt::format("backend {} has two servers named {}", *section.backend, quoted(server.name));
      return std::nullopt;
    }
  }
  return out;
}

/// The default-server options a backend's new servers get, or nullopt when one of them is not
/// a plain line.
std::optional<std::vector<std::string>> inherited_options(const ParsedConfig& config,
                                                          const Section& backend) {
  std::vector<std::string> out;
  if (backend.defaults) {
    const auto& defaults = config.sections[*backend.defaults].default_server;
    if (!defaults) {
      return std::nullopt;
    }
    out = *defaults;
  }
  if (!backend.default_server) {
    return std::nullopt;
  }
  out.insert(out.end(), backend.default_server->begin(), backend.default_server->end());
  return out;
}

/// The plan for one backend both configs have, or the reason in `error`.
std::optional<BackendChanges> diff_backend(const ParsedConfig& old_config, const Section& before,
                                           const ParsedConfig& new_config, const Section& after,
                                           std::string& error) {
  const std::string& name = *after.backend;
  if (before.body != after.body) {
    error = fmt::format("backend {} changed beyond its server lines", name);
    return std::nullopt;
  }
  auto inherited = inherited_options(new_config, after);
  if (inherited != inherited_options(old_config, before)) {
    error = fmt::format("the default-server options of backend {} changed", name);
    return std::nullopt;
  }
  auto old_servers = servers_by_name(before, error);
  auto new_servers = old_servers ? servers_by_name(after, error) : std::nullopt;
  if (!new_servers) {
    return std::nullopt;
  }
  BackendChanges changes;
  changes.backend = name;
  for (const auto& line : after.servers) {
    auto it = old_servers->find(line.name);
    if (it == old_servers->end()) {
      if (!inherited) {
        error = fmt::format("backend {}: a default-server line uses quoting herald does not "
                            "follow",
                            name);
        return std::nullopt;
      }
      std::vector<std::string> options = *inherited;
      options.insert(options.end(), line.options.begin(), line.options.end());
      HaproxyServer server;
      if (auto problem = to_runtime_server(name, line, std::move(options), server)) {
        error = *problem;
        return std::nullopt;
      }
      changes.added.push_back(std::move(server));
      continue;
    }
    const ServerLine& old_line = *it->second;
    if (old_line.options != line.options) {
      error = fmt::format("server {}/{} changed its options", name, escape_control(line.name));
      return std::nullopt;
    }
    if (old_line.address != line.address) {
      HaproxyServer server;
      if (auto problem = to_runtime_server(name, line, {}, server)) {
        error = *problem;
        return std::nullopt;
      }
      changes.readdressed.push_back(std::move(server));
    }
  }
  for (const auto& line : before.servers) {
    if (new_servers->count(line.name) == 0) {
      if (!is_plain_name(line.name)) {
        error = fmt::format("server {}/{}: the name is not one herald passes to the stats socket",
                            name, escape_control(line.name));
        return std::nullopt;
      }
      changes.removed.push_back(line.name);
    }
  }
  return changes;
}

/// Backends by name; nullopt (with `error` set) when a name appears twice.
std::optional<std::map<std::string, const Section*>> backends_by_name(const ParsedConfig& config,
                                                                      std::string& error) {
  std::map<std::string, const Section*> out;
  for (const auto& section : config.sections) {
    if (section.backend && !out.emplace(*section.backend, &section).second) {
      error = fmt::format("backend {} is defined twice", *section.backend);
      return std::nullopt;
    }
  }
  return out;
}

/// Why the sections other than plain backends differ, or nullopt when they are the same.
std::optional<std::string> other_sections_problem(const ParsedConfig& before,
                                                  const ParsedConfig& after) {
  std::vector<const Section*> a;
  std::vector<const Section*> b;
  for (const auto& s : before.sections) {
    if (!s.backend) {
      a.push_back(&s);
    }
  }
  for (const auto& s : after.sections) {
    if (!s.backend) {
      b.push_back(&s);
    }
  }
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    if (i >= a.size() || i >= b.size()) {
      const Section& extra = i < a.size() ? *a[i] : *b[i];
      return fmt::format("section {} was {}", quoted(extra.header),
                         i < a.size() ? "removed" : "added");
    }
    if (a[i]->header != b[i]->header || a[i]->body != b[i]->body) {
      std::string header =
          b[i]->header.empty() ? std::string("before the first section") : quoted(b[i]->header);
      return fmt::format("section {} changed", header);
    }
  }
  return std::nullopt;
}

} // namespace

std::optional<int> runtime_keyword_arguments(std::string_view keyword) {
  struct Keyword {
    std::string_view name;
    int arguments;
  };
  static constexpr Keyword k_keywords[] = {
      {"backup", 0},        {"check", 0},          {"check-send-proxy", 0},
      {"send-proxy", 0},    {"send-proxy-v2", 0},  {"tfo", 0},
      {"downinter", 1},     {"error-limit", 1},    {"fall", 1},
      {"fastinter", 1},     {"inter", 1},          {"maxconn", 1},
      {"maxqueue", 1},      {"minconn", 1},        {"observe", 1},
      {"on-error", 1},      {"on-marked-down", 1}, {"on-marked-up", 1},
      {"pool-low-conn", 1}, {"pool-max-conn", 1},  {"pool-purge-delay", 1},
      {"port", 1},          {"proto", 1},          {"rise", 1},
      {"slowstart", 1},     {"weight", 1}};
  for (const auto& k : k_keywords) {
    if (k.name == keyword) {
      return k.arguments;
    }
  }
  return std::nullopt;
}

std::string HaproxyServer::address() const {
  return ip.find(':') == std::string::npos ? fmt::format("{}:{}", ip, port)
                                           : fmt::format("[{}]:{}", ip, port);
}

bool HaproxyServer::checked() const {
  for (std::size_t i = 0; i < options.size();) {
    if (options[i] == "check") {
      return true;
    }
    i += 1 + static_cast<std::size_t>(runtime_keyword_arguments(options[i]).value_or(0));
  }
  return false;
}

std::string HaproxyRuntimePlan::summary() const {
  std::string out;
  for (const auto& b : backends) {
    out += out.empty() ? "" : ", ";
    out += b.backend;
    if (!b.added.empty()) {
      out += fmt::format(" +{}", b.added.size());
    }
    if (!b.removed.empty()) {
      out += fmt::format(" -{}", b.removed.size());
    }
    if (!b.readdressed.empty()) {
      out += fmt::format(" ~{}", b.readdressed.size());
    }
  }
  return out;
}

HaproxyConfigDiff diff_haproxy_configs(std::string_view old_config, std::string_view new_config) {
  HaproxyConfigDiff out;
  ParsedConfig before = parse_config(old_config);
  if (!before.error.empty()) {
    out.reason = "the current config: " + before.error;
    return out;
  }
  ParsedConfig after = parse_config(new_config);
  if (!after.error.empty()) {
    out.reason = "the new config: " + after.error;
    return out;
  }
  // New and removed backends first: a new app changes the frontend too, and its name says more.
  std::string error;
  auto old_backends = backends_by_name(before, error);
  auto new_backends = old_backends ? backends_by_name(after, error) : std::nullopt;
  if (!new_backends) {
    out.reason = error;
    return out;
  }
  for (const auto& section : after.sections) {
    if (section.backend && old_backends->count(*section.backend) == 0) {
      out.reason = fmt::format("backend {} is new", *section.backend);
      return out;
    }
  }
  for (const auto& section : before.sections) {
    if (section.backend && new_backends->count(*section.backend) == 0) {
      out.reason = fmt::format("backend {} was removed", *section.backend);
      return out;
    }
  }
  if (auto problem = other_sections_problem(before, after)) {
    out.reason = *problem;
    return out;
  }
  HaproxyRuntimePlan plan;
  for (const auto& section : after.sections) {
    if (!section.backend) {
      continue;
    }
    auto changes = diff_backend(before, *old_backends->at(*section.backend), after, section, error);
    if (!changes) {
      out.reason = error;
      return out;
    }
    if (!changes->added.empty() || !changes->removed.empty() || !changes->readdressed.empty()) {
      plan.backends.push_back(std::move(*changes));
    }
  }
  out.plan = std::move(plan);
  return out;
}

} // namespace herald::render
