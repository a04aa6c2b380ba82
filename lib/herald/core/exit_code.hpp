#pragma once

namespace herald {

/// Process exit statuses, as documented in herald(1); sysexits.h values where it has one.
enum class ExitCode : int {
  ok = 0,           ///< success
  failure = 1,      ///< a runtime failure (a check or reload that failed, --strict miss)
  usage = 2,        ///< bad command line
  data = 65,        ///< EX_DATAERR: bad input data (template, YAML, unit file)
  unavailable = 69, ///< EX_UNAVAILABLE: a registry, Docker or fleet could not be reached
  temporary = 75,   ///< EX_TEMPFAIL: a temporary failure; retrying may succeed
  config = 78,      ///< EX_CONFIG: bad configuration (missing address, bad credentials)
  interrupted = 130 ///< a one-shot command stopped by Ctrl-C
};

/// The integer a process returns for `code`.
constexpr int to_int(ExitCode code) {
  return static_cast<int>(code);
}

} // namespace herald
