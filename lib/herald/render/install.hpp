#pragma once

#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/render/resource.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>

namespace herald::render {

/// What install() did.
enum class InstallOutcome {
  unchanged, ///< dest already held exactly this content: not rewritten, not reloaded
  installed, ///< dest was replaced (and reloaded when the resource has a reload_cmd)
  /// dest was replaced and the change applied through haproxy's runtime API: no reload
  applied_at_runtime
};

/// Settings of install() that are not part of the resource.
struct InstallOptions {
  std::chrono::milliseconds command_timeout{30000}; ///< per check/reload command
  /// When set, a stop requested while check_cmd runs ends the command's process group, removes
  /// the stage file and throws Error(cancelled) with dest untouched. reload_cmd always runs to
  /// its end: the new file is installed by then, and a half-done reload helps no one.
  const StopToken* stop = nullptr;
  /// With a resource's haproxy_socket: how long servers removed through the runtime API may
  /// finish their sessions before they are shut down.
  std::chrono::milliseconds haproxy_drain{std::chrono::seconds(10)};
};

/// What the last install() of a resource left at dest, kept by a loop so that the next install
/// need not read dest back: --watch installs on every change, and dest is large (400 KB for 1000
/// apps on the bench template).
struct InstalledFile {
  std::string content;             ///< dest's bytes as installed
  std::optional<struct stat> info; ///< dest right after; any other write changes its ctime
};

/// The file an install of `dest` replaces: dest itself, or, when dest is a symbolic link
/// (sites-enabled/x -> ../sites-available/x), the regular file it finally names, so the link
/// stays a link. Error(config) naming `resource_name` when dest, or what it links to, exists and
/// is not a regular file (a device node such as /dev/null, a FIFO, a directory, a file of /proc
/// or /sys), or when a link leads nowhere: herald never replaces one.
std::string resolve_dest(const std::string& dest, std::string_view resource_name);

/// The stat() of the file resolve_dest() names, or nullopt when it does not exist; refused as
/// resolve_dest() refuses.
std::optional<struct stat> stat_dest(const std::string& dest, std::string_view resource_name);

/// dest's current content (through a link, as resolve_dest()), or nullopt when it does not exist.
/// Error(config) when it exists but cannot be read or is not a regular file (it is never opened
/// then: a FIFO would block).
std::optional<std::string> read_dest(const std::string& dest);

/// Installs `content` at resource.dest as confd's sync() does, one step each:
/// compare with dest (unchanged output is neither rewritten nor reloaded) -> stage a temp file
/// beside dest with the requested mode and owner, fsync'd -> run check_cmd on it -> rename it
/// over dest (atomic) -> run reload_cmd, or, for a resource with a haproxy_socket whose new
/// config differs from dest only in the servers of existing backends, apply those through
/// haproxy's runtime API (apply_runtime_plan()) instead; when it cannot (any other difference,
/// no socket, an unexpected answer) the reason is logged in one line and reload_cmd runs as
/// always. Any failure before the rename leaves dest byte-for-byte
/// as it was and removes the stage file. When reload_cmd fails, the previous dest (kept until
/// the reload succeeded) is put back and reload_cmd runs again so the service keeps serving;
/// then Error(failed) reports the first failure with the command's output. A dest that is a
/// link is followed and the file it names replaced; one that exists and is not a regular file is
/// refused (resolve_dest()).
InstallOutcome install(const TemplateResource& resource, std::string_view content,
                       const InstallOptions& options = {});

/// install() for a loop: dest is read only when it is not what `installed` recorded. On success
/// `installed` holds the new content and `content` gets the previous buffer back (its capacity is
/// reused by the next render); on a failure `installed` is forgotten and `content` is unchanged.
InstallOutcome install(const TemplateResource& resource, std::string& content,
                       const InstallOptions& options, InstalledFile& installed);

} // namespace herald::render
