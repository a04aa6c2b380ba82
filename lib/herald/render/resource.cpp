#include "herald/render/resource.hpp"

#include "herald/core/error.hpp"
#include "herald/core/file.hpp"
#include "herald/core/strings.hpp"
#include "herald/registry/layout.hpp"
#include "herald/render/haproxy_runtime.hpp"
#include "herald/render/install.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

namespace herald::render {

namespace fs = std::filesystem;

namespace {

/// The keys of confd's [template] table and herald's own; anything else is a likely typo.
const std::vector<std::string>& known_toml_keys() {
  static const std::vector<std::string> k_keys = [] {
    std::vector<std::string> keys{"src",        "dest", "keys",  "prefix", "check_cmd",
                                  "reload_cmd", "mode", "owner", "uid",    "gid"};
    keys.insert(keys.end(), std::begin(k_herald_toml_keys), std::end(k_herald_toml_keys));
    return keys;
  }();
  return k_keys;
}

std::string position(const std::string& path, const toml::node& node) {
  const auto& where = node.source().begin;
  return fmt::format("{}:{}:{}", path, where.line, where.column);
}

std::string type_name(const toml::node& node) {
  switch (node.type()) {
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a float";
  case toml::node_type::boolean:
    return "a boolean";
  case toml::node_type::array:
    return "an array";
  case toml::node_type::table:
    return "a table";
  default:
    return "a date or time";
  }
}

[[noreturn]] void throw_type(const std::string& path, const toml::node& node, std::string_view key,
                             std::string_view expected) {
  throw Error(ErrorKind::config, fmt::format("{}: [template] {} must be {}, not {}",
                                             position(path, node), key, expected, type_name(node)));
}

std::optional<std::string> string_field(const toml::table& table, const std::string& path,
                                        std::string_view key) {
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    return std::nullopt;
  }
  if (const auto* s = node->as_string()) {
    return s->get();
  }
  throw_type(path, *node, key, "a string");
}

std::optional<std::int64_t> int_field(const toml::table& table, const std::string& path,
                                      std::string_view key) {
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    return std::nullopt;
  }
  if (const auto* i = node->as_integer()) {
    return i->get();
  }
  throw_type(path, *node, key, "an integer");
}

std::optional<uid_t> lookup_user(std::string_view user, std::string_view what) {
  std::string name(user);
  if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) {
    return static_cast<uid_t>(std::stoul(name));
  }
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwnam_r(name.c_str(), &pw, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    throw Error(ErrorKind::config, fmt::format("{}: no user named '{}' on this host", what, name));
  }
  return pw.pw_uid;
}

gid_t lookup_group(std::string_view group, std::string_view what) {
  std::string name(group);
  if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) {
    return static_cast<gid_t>(std::stoul(name));
  }
  struct group gr {};
  struct group* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getgrnam_r(name.c_str(), &gr, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    throw Error(ErrorKind::config, fmt::format("{}: no group named '{}' on this host", what, name));
  }
  return gr.gr_gid;
}

// "USER" or "USER:GROUP" into the resource's uid/gid.
void apply_owner(TemplateResource& resource, std::string_view owner, std::string_view what) {
  auto colon = owner.find(':');
  std::string_view user = owner.substr(0, colon);
  if (!user.empty()) {
    resource.uid = lookup_user(user, what);
  }
  if (colon != std::string_view::npos && colon + 1 < owner.size()) {
    resource.gid = lookup_group(owner.substr(colon + 1), what);
  }
}

std::string read_resource_file(const std::string& path) {
  std::optional<std::string> text = read_file(path, k_max_resource_size, "--confdir");
  if (!text) {
    throw Error(ErrorKind::config,
                fmt::format("--confdir: cannot read {}: {}", path, std::strerror(ENOENT)));
  }
  return std::move(*text);
}

} // namespace

std::string join_key(std::string_view a, std::string_view b) {
  // Called once per registry key when a snapshot is loaded: segments are appended from views,
  // with no intermediate strings.
  std::string out;
  out.reserve(a.size() + b.size() + 2);
  for (std::string_view part : {a, b}) {
    while (!part.empty()) {
      std::size_t slash = part.find('/');
      std::string_view segment = part.substr(0, slash);
      if (!segment.empty() && segment != ".") {
        out += '/';
        out += segment;
      }
      if (slash == std::string_view::npos) {
        break;
      }
      part.remove_prefix(slash + 1);
    }
  }
  if (out.empty()) {
    out = "/";
  }
  return out;
}

std::vector<std::string> TemplateResource::registry_keys() const {
  std::vector<std::string> all;
  all.reserve(keys.size());
  for (const auto& key : keys) {
    all.push_back(join_key(prefix, key));
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::vector<std::string> out;
  for (const auto& key : all) {
    // Sorted order puts a directory right before what it covers.
    if (out.empty() || !registry::key_in_dir(key, out.back())) {
      out.push_back(key);
    }
  }
  return out;
}

mode_t parse_mode(std::string_view text, std::string_view what, ErrorKind kind) {
  std::string_view digits = trim(text);
  if (digits.starts_with("0o") || digits.starts_with("0O")) {
    digits.remove_prefix(2);
  }
  unsigned value = 0;
  bool octal = !digits.empty();
  for (char c : digits) {
    if (c < '0' || c > '7' || value > 07777) {
      octal = false;
      break;
    }
    value = value * 8 + static_cast<unsigned>(c - '0');
  }
  if (!octal || value > 07777) {
    throw Error(kind, fmt::format("{}: '{}' is not a file mode: write the permission bits in "
                                  "octal, as chmod reads them (644, 0644 or 0o644)",
                                  what, text));
  }
  if ((value & 07000) != 0) {
    throw Error(kind, fmt::format("{}: '{}' sets the setuid, setgid or sticky bit, which a "
                                  "config file must not have: give the permission bits only, "
                                  "such as 0644",
                                  what, text));
  }
  return static_cast<mode_t>(value);
}

void check_haproxy_socket(std::string_view path, std::string_view what) {
  if (!path.starts_with('/')) {
    throw Error(ErrorKind::config,
                fmt::format("{}: {} is not an absolute path: name haproxy's stats socket as its "
                            "`stats socket` line does, e.g. /run/haproxy/admin.sock",
                            what, quoted(path)));
  }
  if (path.size() > k_max_socket_path) {
    throw Error(ErrorKind::config,
                fmt::format("{}: {} is longer than the {} bytes a unix socket path may have", what,
                            quoted(path), k_max_socket_path));
  }
  if (escape_control(path) != path) {
    throw Error(ErrorKind::config,
                fmt::format("{}: {} holds a control character", what, quoted(path)));
  }
}

TemplateResource resource_from_flags(const ResourceFlags& flags) {
  if (flags.template_file.empty()) {
    throw Error(ErrorKind::config,
                "no template: pass --template FILE --dest FILE --keys PREFIX, or --confdir DIR");
  }
  TemplateResource resource;
  resource.name = "--template " + flags.template_file;
  resource.src = flags.template_file;
  resource.dest = flags.dest;
  resource.keys = flags.keys;
  resource.prefix = join_key(flags.prefix, "");
  if (!flags.check_cmd.empty()) {
    resource.check_cmd = split_command(flags.check_cmd, "--check-cmd");
  }
  if (!flags.reload_cmd.empty()) {
    resource.reload_cmd = split_command(flags.reload_cmd, "--reload-cmd");
  }
  if (!flags.mode.empty()) {
    resource.mode = parse_mode(flags.mode, "--mode", ErrorKind::usage);
  }
  if (!flags.owner.empty()) {
    apply_owner(resource, flags.owner, "--owner");
  }
  if (!flags.haproxy_socket.empty()) {
    check_haproxy_socket(flags.haproxy_socket, "--haproxy-socket");
    resource.haproxy_socket = flags.haproxy_socket;
  }
  return resource;
}

TemplateResource parse_resource_toml(std::string_view text, const std::string& path,
                                     const std::string& templates_dir) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw Error(ErrorKind::data,
                fmt::format("{}:{}:{}: {}", path, where.line, where.column, e.description()));
  }
  const toml::node* template_node = root.get("template");
  if (template_node == nullptr) {
    throw Error(ErrorKind::config,
                fmt::format("{}: no [template] table: a confd template resource starts with "
                            "[template] and sets src, dest and keys",
                            path));
  }
  const toml::table* table = template_node->as_table();
  if (table == nullptr) {
    throw Error(ErrorKind::config,
                fmt::format("{}: template must be a table ([template]), not {}",
                            position(path, *template_node), type_name(*template_node)));
  }
  for (const auto& [key, node] : *table) {
    std::string name(key.str());
    const auto& known = known_toml_keys();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      auto near = closest_match(name, known);
      spdlog::warn("{}: [template] key '{}' is not a confd setting and is ignored{}",
                   position(path, node), name,
                   near ? fmt::format(" (did you mean '{}'?)", *near) : std::string());
    }
  }

  TemplateResource resource;
  resource.name = path;
  auto src = string_field(*table, path, "src");
  if (!src || src->empty()) {
    throw Error(ErrorKind::config,
                fmt::format("{}: [template] has no src: name the template file under {}", path,
                            templates_dir));
  }
  resource.src = (fs::path(templates_dir) / *src).string();
  auto dest = string_field(*table, path, "dest");
  if (!dest || dest->empty()) {
    throw Error(ErrorKind::config,
                fmt::format("{}: [template] has no dest: name the file to keep up to date", path));
  }
  resource.dest = *dest;
  if (const toml::node* keys = table->get("keys")) {
    const toml::array* array = keys->as_array();
    if (array == nullptr) {
      throw_type(path, *keys, "keys", "an array of strings");
    }
    for (const auto& element : *array) {
      const auto* s = element.as_string();
      if (s == nullptr) {
        throw_type(path, element, "keys", "an array of strings");
      }
      resource.keys.push_back(s->get());
    }
  }
  resource.prefix = join_key(string_field(*table, path, "prefix").value_or(""), "");
  std::string where_check = fmt::format("check_cmd of {}", path);
  if (auto check = string_field(*table, path, "check_cmd"); check && !trim(*check).empty()) {
    resource.check_cmd = split_command(*check, where_check);
  }
  std::string where_reload = fmt::format("reload_cmd of {}", path);
  if (auto reload = string_field(*table, path, "reload_cmd"); reload && !trim(*reload).empty()) {
    resource.reload_cmd = split_command(*reload, where_reload);
  }
  if (const toml::node* mode = table->get("mode")) {
    std::string what = fmt::format("{}: [template] mode", position(path, *mode));
    if (const auto* s = mode->as_string()) {
      if (!s->get().empty()) {
        resource.mode = parse_mode(s->get(), what);
      }
    } else if (const auto* i = mode->as_integer()) {
      // mode = 0o644 (or 0x1a4) is the number itself; mode = 644 means what chmod 644 means.
      bool decimal =
          (i->flags() &
           (toml::value_flags::format_as_octal | toml::value_flags::format_as_hexadecimal |
            toml::value_flags::format_as_binary)) == toml::value_flags::none;
      std::string octal = decimal ? std::to_string(i->get()) : fmt::format("{:o}", i->get());
      if (i->get() < 0) {
        octal = std::to_string(i->get()); // refused below, as written
      }
      resource.mode = parse_mode(octal, what);
    } else {
      throw_type(path, *mode, "mode", "a string such as \"0644\"");
    }
  }
  if (auto owner = string_field(*table, path, "owner"); owner && !owner->empty()) {
    apply_owner(resource, *owner, fmt::format("{}: [template] owner", path));
  }
  // uid/gid as numbers override owner, as confd's uid/gid do; -1 is confd's "unset".
  if (auto uid = int_field(*table, path, "uid"); uid && *uid >= 0) {
    resource.uid = static_cast<uid_t>(*uid);
  }
  if (auto gid = int_field(*table, path, "gid"); gid && *gid >= 0) {
    resource.gid = static_cast<gid_t>(*gid);
  }
  if (auto socket = string_field(*table, path, "haproxy_socket"); socket && !socket->empty()) {
    check_haproxy_socket(*socket, fmt::format("{}: [template] haproxy_socket",
                                              position(path, *table->get("haproxy_socket"))));
    resource.haproxy_socket = *socket;
  }
  return resource;
}

std::vector<TemplateResource> load_confdir(const std::string& confdir) {
  fs::path conf_d = fs::path(confdir) / "conf.d";
  std::error_code ec;
  if (!fs::is_directory(conf_d, ec)) {
    throw Error(ErrorKind::config,
                fmt::format("--confdir {}: {} is not a directory: confd's layout is "
                            "CONFDIR/conf.d/*.toml and CONFDIR/templates/",
                            confdir, conf_d.string()));
  }
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(conf_d, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".toml" && !it->is_directory()) {
      files.push_back(it->path());
    }
  }
  if (ec) {
    throw Error(ErrorKind::config,
                fmt::format("cannot read {}: {}", conf_d.string(), ec.message()));
  }
  if (files.empty()) {
    throw Error(ErrorKind::config, fmt::format("--confdir {}: no template resources (*.toml) in {}",
                                               confdir, conf_d.string()));
  }
  std::sort(files.begin(), files.end());
  std::string templates_dir = (fs::path(confdir) / "templates").string();
  std::vector<TemplateResource> out;
  for (const auto& file : files) {
    out.push_back(
        parse_resource_toml(read_resource_file(file.string()), file.string(), templates_dir));
  }
  return out;
}

void apply_global_prefix(std::vector<TemplateResource>& resources, std::string_view prefix) {
  if (trim(prefix).empty()) {
    return;
  }
  for (auto& resource : resources) {
    resource.prefix = join_key(prefix, resource.prefix);
  }
}

void validate_resource(const TemplateResource& resource, bool installs) {
  if (::access(resource.src.c_str(), R_OK) != 0) {
    throw Error(ErrorKind::config, fmt::format("{}: cannot read template {}: {}", resource.name,
                                               resource.src, std::strerror(errno)));
  }
  if (!installs) {
    return;
  }
  if (resource.dest.empty()) {
    throw Error(ErrorKind::config,
                fmt::format("{} needs --dest FILE: the file to keep up to date (or --stdout to "
                            "print the result)",
                            resource.name));
  }
  fs::path dest(resource.dest);
  fs::path dir = dest.parent_path().empty() ? fs::path(".") : dest.parent_path();
  std::error_code ec;
  auto status = fs::status(dir, ec);
  if (!fs::exists(status)) {
    throw Error(ErrorKind::config,
                fmt::format("{}: the directory of dest {} does not exist: create {} or fix dest",
                            resource.name, resource.dest, dir.string()));
  }
  if (!fs::is_directory(status)) {
    throw Error(ErrorKind::config, fmt::format("{}: dest {}: {} is not a directory", resource.name,
                                               resource.dest, dir.string()));
  }
  if (fs::is_directory(dest, ec)) {
    throw Error(ErrorKind::config, fmt::format("{}: dest {} is a directory: name the file to write",
                                               resource.name, resource.dest));
  }
  stat_dest(resource.dest, resource.name); // a device, a FIFO or a bad link is refused now
  if (resource.check_cmd) {
    require_executable(*resource.check_cmd, fmt::format("check_cmd of {}", resource.name));
  }
  if (resource.reload_cmd) {
    require_executable(*resource.reload_cmd, fmt::format("reload_cmd of {}", resource.name));
  }
}

} // namespace herald::render
