#pragma once

#include "herald/core/stop.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::render {

/// A check_cmd / reload_cmd split into argv. herald runs commands without a shell: the text is
/// split with the shell's quoting rules ('single', "double", backslash) and nothing else, so a
/// value from the registry can never become shell syntax. `sh -c '...'` is the user's choice.
struct CommandLine {
  std::string text;              ///< as written, for messages
  std::vector<std::string> argv; ///< at least one word
};

/// Splits `text` into argv with shell-like quoting. Unquoted shell operators (`|`, `&&`, `;`,
/// `>`, `$(...)`, backquotes) are Error(config) suggesting `sh -c '...'`, since without a shell
/// they would silently become arguments. `what` names the setting for messages
/// ("check_cmd of conf.d/nginx.toml").
CommandLine split_command(std::string_view text, std::string_view what);

/// `argv` with every `{{.src}}` (also `{{ .src }}`) replaced by `src`, as confd substitutes the
/// staged file's path into check_cmd.
std::vector<std::string> substitute_src(const std::vector<std::string>& argv, std::string_view src);

/// The absolute path exec would run for `program` (PATH search when it has no '/'), or nullopt
/// when no such executable file exists.
std::optional<std::string> find_executable(std::string_view program);

/// Throws Error(config) naming `what` when argv[0] of `command` cannot be executed (missing, a
/// directory, not executable), so a typo is caught when the resource is loaded, not on the
/// first change.
void require_executable(const CommandLine& command, std::string_view what);

/// What one command run did.
struct CommandResult {
  int status = -1;        ///< exit status, 128+N when killed by signal N, -1 when not started
  bool timed_out = false; ///< killed after the timeout
  std::string output;     ///< stdout and stderr interleaved, at most k_output_limit bytes
  bool truncated = false; ///< output was longer than kept
  bool stopped = false;   ///< ended early because a stop was requested

  /// True when it exited 0 in time.
  bool ok() const { return status == 0 && !timed_out; }
};

/// How much of a command's output is kept for error messages.
inline constexpr std::size_t k_output_limit = 64 * 1024;

/// Runs `argv` (no shell) with stdin from /dev/null, stdout+stderr captured, in its own process
/// group; after `timeout` the group is killed. When `stop` is requested meanwhile, the group gets
/// SIGTERM, then SIGKILL after k_stop_grace, and the result says `stopped`. Signal dispositions
/// are reset to defaults in the child (herald ignores SIGPIPE). Throws Error(config) when argv[0]
/// cannot be executed.
CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const StopToken* stop = nullptr);

/// How long a command stopped by run_command() has between SIGTERM and SIGKILL.
inline constexpr std::chrono::milliseconds k_stop_grace{2000};

/// One line describing a failed run for an error message: "exit 1: nginx: [emerg] ...; nginx:
/// configuration file test failed" (output lines joined with "; ", shortened in the middle).
std::string describe_failure(const CommandResult& result);

} // namespace herald::render
