#pragma once

#include "herald/core/error.hpp"
#include "herald/render/command.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace herald::render {

/// One template resource, as confd's `[template]` table describes it: which template renders
/// which keys into which file, and the commands that check and reload it.
struct TemplateResource {
  std::string name;              ///< for messages: "conf.d/nginx.toml" or "--template nginx.tmpl"
  std::string src;               ///< the template file
  std::string dest;              ///< the file to keep up to date
  std::vector<std::string> keys; ///< as the template sees them (relative to `prefix`)
  std::string prefix = "/";      ///< registry prefix prepended to `keys` and stripped from keys
  std::optional<CommandLine> check_cmd;  ///< run on the staged file (`{{.src}}`)
  std::optional<CommandLine> reload_cmd; ///< run after dest was replaced
  std::optional<mode_t> mode;            ///< nullopt: keep dest's mode, 0644 for a new file
  std::optional<uid_t> uid;              ///< nullopt: keep dest's owner (or the process's)
  std::optional<gid_t> gid;
  /// herald's own key (`haproxy_socket`, --haproxy-socket): haproxy's stats socket (level
  /// admin). When set, a new config that differs from dest only in the servers of existing
  /// backends is applied through haproxy's runtime API instead of reload_cmd; "" = always reload.
  std::string haproxy_socket;

  /// The registry prefixes to read: `prefix` joined with each key ("/services" + "/web" ->
  /// "/services/web"), duplicates and prefixes covered by another removed, sorted.
  std::vector<std::string> registry_keys() const;
};

/// A resource given entirely by flags (`--template --dest --keys ...`).
struct ResourceFlags {
  std::string template_file;
  std::string dest;
  std::vector<std::string> keys;
  std::string prefix;
  std::string check_cmd;
  std::string reload_cmd;
  std::string mode;           ///< "0644"; "" = keep dest's
  std::string owner;          ///< USER or USER:GROUP, names or numbers; "" = keep dest's
  std::string haproxy_socket; ///< "" = none
};

/// The resource described by `flags`. Throws Error(usage) for a bad --mode, Error(config) for a
/// missing --template, an unknown owner or a command that is not a plain command line. --dest may
/// be empty here
/// (--stdout needs none); validate_resource() requires it when the render is installed.
TemplateResource resource_from_flags(const ResourceFlags& flags);

/// Parses one confd TOML template resource (`text` read from `path`). `templates_dir` is where
/// `src` is looked up, as confd does (CONFDIR/templates). TOML that does not parse is
/// Error(data) "PATH:LINE:COL: reason"; a table that does not describe a resource (no src, a
/// mode that is not octal, keys that are not strings) is Error(config) naming the file and key.
/// Besides confd's keys, herald reads its own (k_herald_toml_keys), which confd ignores; any
/// other key is logged as a warning with the nearest known key.
TemplateResource parse_resource_toml(std::string_view text, const std::string& path,
                                     const std::string& templates_dir);

/// The keys of the [template] table that herald adds to confd's: confd ignores keys it does
/// not know, so a resource using them still loads in confd.
inline constexpr const char* k_herald_toml_keys[] = {"haproxy_socket"};

/// Checks a haproxy stats socket path (`what` names the setting): absolute, short enough for a
/// unix socket, no control characters. Error(config) otherwise.
void check_haproxy_socket(std::string_view path, std::string_view what);

/// The largest template resource (TOML) file load_confdir() reads: real ones are a few lines.
inline constexpr std::size_t k_max_resource_size = std::size_t{1} << 20;

/// Every resource in DIR/conf.d/**/*.toml (sorted by path), with templates under DIR/templates,
/// as `confd -confdir DIR` reads them. Error(config) when DIR/conf.d is missing or holds no
/// .toml file, or a .toml file is not a regular file or larger than k_max_resource_size.
std::vector<TemplateResource> load_confdir(const std::string& confdir);

/// Joins a global --prefix onto each resource's prefix, as confd's -prefix flag does.
void apply_global_prefix(std::vector<TemplateResource>& resources, std::string_view prefix);

/// Checks what can be checked before the first render, so a typo fails at start-up with exit 78
/// rather than on the first change: the template file is readable and, when the render will be
/// installed (`installs`, false for --stdout), dest is set, its directory exists, dest is absent
/// or a regular file, and the check/reload programs are executable. Throws Error(config) naming
/// the resource.
void validate_resource(const TemplateResource& resource, bool installs);

/// Parses a file mode as chmod reads it: octal digits with or without a leading 0 or 0o ("644",
/// "0644", "0o644"). Anything else, a value above 07777, or a mode with the setuid, setgid or
/// sticky bit (which a config file must never have) is Error(kind) naming `what`.
mode_t parse_mode(std::string_view text, std::string_view what, ErrorKind kind = ErrorKind::config);

/// `/` + the segments of `a` and `b` joined, without empty or trailing segments, as Go's
/// path.Join("/", a, b) ("/services/", "web" -> "/services/web"; "", "" -> "/").
std::string join_key(std::string_view a, std::string_view b);

} // namespace herald::render
