#include "herald/render/install.hpp"

#include "herald/core/file.hpp"
#include "herald/render/command.hpp"
#include "herald/render/haproxy_runtime.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <limits>
#include <linux/magic.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace herald::render {

namespace fs = std::filesystem;

namespace {

/// What dest looks like before the install: its bytes and its mode/owner, kept so a failed
/// reload can put it back exactly.
struct DestState {
  std::optional<std::string> content;
  std::optional<struct stat> info;
};

/// True when `a` and `b` are the same file, unchanged in between (rename and every write change
/// the ctime, which no one can set back).
bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

/// dest's state; its content is taken from `known` (moved out) when dest is still the file
/// `known` describes, and read otherwise. A dest that is not a regular file is refused.
DestState read_dest_state(const TemplateResource& resource, InstalledFile* known = nullptr) {
  DestState state;
  std::optional<struct stat> info = stat_dest(resource.dest, resource.name);
  if (!info) {
    return state;
  }
  state.info = info;
  if (known != nullptr && known->info && same_file(*known->info, *info)) {
    state.content = std::move(known->content);
  } else {
    state.content = read_dest(resource.dest);
  }
  return state;
}

/// The requested mode/owner; what is not requested is taken from the current dest, so an
/// install never changes a file's permissions behind the operator's back.
FileAttributes stage_attributes(const TemplateResource& resource, const DestState& current) {
  FileAttributes out;
  if (resource.mode) {
    out.mode = *resource.mode;
  } else if (current.info) {
    out.mode = current.info->st_mode & 07777;
  }
  out.uid = resource.uid;
  out.gid = resource.gid;
  if (current.info) {
    // Keeping another user's ownership needs privileges; without them the file becomes ours,
    // which is what confd does too.
    bool privileged = ::geteuid() == 0;
    if (!out.uid && current.info->st_uid != ::geteuid() && privileged) {
      out.uid = current.info->st_uid;
    }
    if (!out.gid && current.info->st_gid != ::getegid() && privileged) {
      out.gid = current.info->st_gid;
    }
  }
  return out;
}

/// True when dest already has the mode and owner the resource asks for (confd also rewrites a
/// file whose content is right but whose mode or owner is not).
bool attributes_match(const TemplateResource& resource, const DestState& current) {
  const struct stat& info = *current.info;
  return (!resource.mode || (info.st_mode & 07777) == *resource.mode) &&
         (!resource.uid || info.st_uid == *resource.uid) &&
         (!resource.gid || info.st_gid == *resource.gid);
}

/// "SIGTERM", "SIGINT" or "a stop request", for messages.
std::string stop_reason(const StopToken& stop) {
  const char* name = stop.signal() != 0 ? ::sigabbrev_np(stop.signal()) : nullptr;
  return name != nullptr ? fmt::format("SIG{}", name) : std::string("a stop request");
}

/// Runs check_cmd on the staged file; throws Error(failed) when it rejects it.
void check_stage_file(const TemplateResource& resource, const StagedFile& stage,
                      const InstallOptions& options) {
  if (!resource.check_cmd) {
    return;
  }
  auto argv = substitute_src(resource.check_cmd->argv, stage.path());
  CommandResult result = run_command(argv, options.command_timeout, options.stop);
  if (result.stopped) {
    // The stage file goes with the stack; dest was not touched.
    throw Error(ErrorKind::cancelled,
                fmt::format("{}: check_cmd \"{}\" stopped by {}; {} is unchanged", resource.name,
                            resource.check_cmd->text, stop_reason(*options.stop), resource.dest));
  }
  if (!result.ok()) {
    throw Error(ErrorKind::failed,
                fmt::format("{}: check_cmd \"{}\" rejected the new {} ({}); {} is unchanged",
                            resource.name, resource.check_cmd->text, resource.dest,
                            describe_failure(result), resource.dest));
  }
}

/// Runs reload_cmd; a program that cannot be started counts as a failed reload.
CommandResult run_reload(const TemplateResource& resource, const InstallOptions& options) {
  try {
    return run_command(resource.reload_cmd->argv, options.command_timeout);
  } catch (const Error& e) {
    CommandResult result;
    result.status = 127;
    result.output = e.what();
    return result;
  }
}

/// Puts dest back as it was before the install (or removes it when there was none).
void restore_previous(const TemplateResource& resource, const DestState& previous) {
  if (!previous.content) {
    if (::unlink(resource.dest.c_str()) != 0 && errno != ENOENT) {
      throw Error(ErrorKind::config,
                  fmt::format("cannot remove {}: {}", resource.dest, std::strerror(errno)));
    }
    return;
  }
  FileAttributes attributes;
  attributes.mode = previous.info->st_mode & 07777;
  if (::geteuid() == 0) {
    attributes.uid = previous.info->st_uid;
    attributes.gid = previous.info->st_gid;
  }
  StagedFile stage(resource.dest, *previous.content, attributes, resource.name);
  stage.commit();
}

/// With a haproxy_socket: applies the change from `previous` to `content` through haproxy's
/// runtime API when only servers of existing backends differ. False (after one log line saying
/// why) when reload_cmd must do it.
bool apply_through_runtime_api(const TemplateResource& resource, const DestState& previous,
                               std::string_view content, const InstallOptions& options) {
  if (resource.haproxy_socket.empty()) {
    return false;
  }
  std::string fallback = resource.reload_cmd
                             ? fmt::format("running reload_cmd \"{}\"", resource.reload_cmd->text)
                             : std::string("no reload_cmd to run");
  if (!previous.content) {
    spdlog::info("{}: haproxy runtime: {} did not exist before, nothing to compare; {}",
                 resource.name, resource.dest, fallback);
    return false;
  }
  HaproxyConfigDiff diff = diff_haproxy_configs(*previous.content, content);
  if (!diff.plan) {
    spdlog::info("{}: haproxy runtime: {}; {}", resource.name, diff.reason, fallback);
    return false;
  }
  if (diff.plan->empty()) {
    spdlog::info("{}: haproxy runtime: no server changed (comments or spacing only), no reload",
                 resource.name);
    return true;
  }
  try {
    RuntimeApplyOptions apply;
    apply.drain_timeout = options.haproxy_drain;
    apply_runtime_plan(*diff.plan, stats_socket(resource.haproxy_socket, options.command_timeout),
                       apply);
  } catch (const Error& e) {
    spdlog::warn("{}: haproxy runtime: {} ({}); {}", resource.name, diff.plan->summary(), e.what(),
                 fallback);
    return false;
  }
  spdlog::info("{}: haproxy runtime: {} servers, no reload", resource.name, diff.plan->summary());
  return true;
}

/// Runs reload_cmd; when it fails, restores the previous config, reloads again and throws.
void reload_or_roll_back(const TemplateResource& resource, const DestState& previous,
                         const InstallOptions& options) {
  if (!resource.reload_cmd) {
    return;
  }
  CommandResult result = run_reload(resource, options);
  if (result.ok()) {
    return;
  }
  std::string failure = fmt::format("{}: reload_cmd \"{}\" failed ({})", resource.name,
                                    resource.reload_cmd->text, describe_failure(result));
  try {
    restore_previous(resource, previous);
  } catch (const Error& e) {
    throw Error(ErrorKind::failed, fmt::format("{}; putting the previous {} back also failed: {}",
                                               failure, resource.dest, e.what()));
  }
  // A dest that did not exist before has nothing to put back: say it was removed again.
  std::string undone =
      previous.content
          ? fmt::format("the previous {} was put back", resource.dest)
          : fmt::format("{} did not exist before, so it was removed again", resource.dest);
  CommandResult again = run_reload(resource, options);
  if (!again.ok()) {
    throw Error(ErrorKind::failed, fmt::format("{}; {} but reloading failed too ({})", failure,
                                               undone, describe_failure(again)));
  }
  throw Error(ErrorKind::failed, fmt::format("{}; {} and reloaded", failure, undone));
}

} // namespace

namespace {

/// Error(config) for a dest herald leaves alone: `dest` (`link_note` says where a link led) is
/// `type`, not a regular file.
[[noreturn]] void refuse_dest(std::string_view resource_name, const std::string& dest,
                              std::string_view type, std::string_view link_note) {
  throw Error(ErrorKind::config,
              fmt::format("{}: dest {} is {}{}, not a regular file: herald only ever replaces "
                          "regular files, so it leaves it alone; name a regular file as dest",
                          resource_name, dest, type, link_note));
}

/// True when `path` lives on a kernel pseudo file system (/proc, /sys): its "regular" files are
/// the kernel's knobs, never a config to replace.
bool on_pseudo_file_system(const std::string& path) {
  struct statfs fs_info {};
  if (::statfs(path.c_str(), &fs_info) != 0) {
    return false;
  }
  return fs_info.f_type == PROC_SUPER_MAGIC || fs_info.f_type == SYSFS_MAGIC;
}

/// The file a symbolic link `dest` finally names, refused unless it is a regular file.
std::string resolve_link(const std::string& dest, std::string_view resource_name) {
  std::error_code ec;
  fs::path points_to = fs::read_symlink(dest, ec);
  std::string named = ec ? std::string("?") : points_to.string();
  fs::path target = fs::canonical(dest, ec);
  if (ec) {
    throw Error(ErrorKind::config,
                fmt::format("{}: dest {} is a symbolic link to {}, which cannot be followed ({}): "
                            "create the file it names or name a regular file as dest",
                            resource_name, dest, named, ec.message()));
  }
  struct stat info {};
  if (::lstat(target.c_str(), &info) != 0) {
    throw Error(ErrorKind::config,
                fmt::format("{}: cannot stat {}, the target of dest {}: {}", resource_name,
                            target.string(), dest, std::strerror(errno)));
  }
  if (!S_ISREG(info.st_mode)) {
    refuse_dest(resource_name, dest, "a symbolic link",
                fmt::format(" to {} ({})", named, file_type_name(info.st_mode)));
  }
  if (on_pseudo_file_system(target.string())) {
    refuse_dest(resource_name, dest, "a symbolic link",
                fmt::format(" to {} (a file of the kernel's /proc or /sys)", named));
  }
  return target.string();
}

} // namespace

std::string resolve_dest(const std::string& dest, std::string_view resource_name) {
  struct stat info {};
  if (::lstat(dest.c_str(), &info) != 0) {
    if (errno == ENOENT) {
      return dest;
    }
    throw Error(ErrorKind::config, fmt::format("{}: cannot stat dest {}: {}", resource_name, dest,
                                               std::strerror(errno)));
  }
  if (S_ISLNK(info.st_mode)) {
    return resolve_link(dest, resource_name);
  }
  if (!S_ISREG(info.st_mode)) {
    refuse_dest(resource_name, dest, file_type_name(info.st_mode), "");
  }
  if (on_pseudo_file_system(dest)) {
    refuse_dest(resource_name, dest, "a file of the kernel's /proc or /sys", "");
  }
  return dest;
}

std::optional<struct stat> stat_dest(const std::string& dest, std::string_view resource_name) {
  std::string path = resolve_dest(dest, resource_name);
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) {
      return std::nullopt;
    }
    throw Error(ErrorKind::config, fmt::format("{}: cannot stat dest {}: {}", resource_name, dest,
                                               std::strerror(errno)));
  }
  if (!S_ISREG(info.st_mode)) { // replaced in between
    refuse_dest(resource_name, dest, file_type_name(info.st_mode), "");
  }
  return info;
}

std::optional<std::string> read_dest(const std::string& dest) {
  // No size bound: dest is what herald wrote, or what the operator put there.
  return read_file(resolve_dest(dest, "dest"), std::numeric_limits<std::size_t>::max() / 2, "dest",
                   Links::refuse);
}

namespace {

/// install() once dest is known to be a regular file or absent.
InstallOutcome install_at(const TemplateResource& resource, std::string& content,
                          const InstallOptions& options, InstalledFile& installed) {
  DestState previous = read_dest_state(resource, &installed);
  installed.info.reset(); // until dest is known again below
  InstallOutcome outcome = InstallOutcome::installed;
  if (previous.content && *previous.content == content && attributes_match(resource, previous)) {
    spdlog::debug("{}: {} is up to date", resource.name, resource.dest);
    outcome = InstallOutcome::unchanged;
  } else {
    StagedFile stage(resource.dest, content, stage_attributes(resource, previous), resource.name);
    check_stage_file(resource, stage, options);
    if (options.stop != nullptr && options.stop->requested()) {
      throw Error(ErrorKind::cancelled,
                  fmt::format("{}: stopped by {} before installing; {} is "
                              "unchanged",
                              resource.name, stop_reason(*options.stop), resource.dest));
    }
    stage.commit();
    if (apply_through_runtime_api(resource, previous, content, options)) {
      outcome = InstallOutcome::applied_at_runtime;
    } else {
      reload_or_roll_back(resource, previous, options);
    }
  }
  struct stat now {};
  if (::stat(resource.dest.c_str(), &now) == 0) {
    installed.info = now;
    installed.content.swap(content);
  }
  if (previous.content) {
    content = std::move(*previous.content);
  }
  return outcome;
}

} // namespace

InstallOutcome install(const TemplateResource& resource, std::string_view content,
                       const InstallOptions& options) {
  std::string copy(content);
  InstalledFile none;
  return install(resource, copy, options, none);
}

InstallOutcome install(const TemplateResource& resource, std::string& content,
                       const InstallOptions& options, InstalledFile& installed) {
  std::string target = resolve_dest(resource.dest, resource.name);
  if (target != resource.dest) {
    // A link (sites-enabled/x -> sites-available/x) stays a link: the file it names is replaced,
    // staged beside it so the rename stays on one file system.
    spdlog::debug("{}: dest {} is a link to {}: installing there", resource.name, resource.dest,
                  target);
    TemplateResource through_link = resource;
    through_link.dest = std::move(target);
    return install_at(through_link, content, options, installed);
  }
  return install_at(resource, content, options, installed);
}

} // namespace herald::render
