#pragma once

#include "herald/core/exit_code.hpp"

#include <stdexcept>
#include <string>

namespace herald {

/// How an operation failed; callers pick retry or give-up from it, main() picks the exit code.
enum class ErrorKind {
  usage,       ///< the command line is wrong
  data,        ///< input data is malformed (template, value, file contents)
  unavailable, ///< a service (registry, Docker, fleet) cannot be reached; retry later
  temporary,   ///< a transient failure (timeout, conflict); retry
  config,      ///< configuration is wrong (credentials, missing address, bad URL)
  not_found,   ///< the thing asked for does not exist
  failed,      ///< a step ran and failed or was refused (a check or reload command, the drop
               ///< guard): exit 1, and a loop tries again on the next change
  cancelled,   ///< stopped by SIGINT/SIGTERM before it finished
  internal     ///< a bug in herald
};

/// The one exception type lib/ throws. The message is one line a user can act on and never
/// carries a secret.
class Error : public std::runtime_error {
public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), m_kind(kind) {}

  /// What went wrong, in the terms of ErrorKind.
  ErrorKind kind() const noexcept { return m_kind; }

  /// True when waiting and retrying may succeed (unavailable, temporary).
  bool retryable() const noexcept {
    return m_kind == ErrorKind::unavailable || m_kind == ErrorKind::temporary;
  }

private:
  ErrorKind m_kind;
};

/// The exit code DESIGN.md assigns to an error of `kind`.
ExitCode exit_code_for(ErrorKind kind) noexcept;

/// A short name for `kind` ("unavailable", "config", ...), for logs and JSON output.
const char* to_string(ErrorKind kind) noexcept;

} // namespace herald
