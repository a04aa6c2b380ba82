#include "herald/core/error.hpp"

namespace herald {

ExitCode exit_code_for(ErrorKind kind) noexcept {
  switch (kind) {
  case ErrorKind::usage:
    return ExitCode::usage;
  case ErrorKind::data:
    return ExitCode::data;
  case ErrorKind::unavailable:
    return ExitCode::unavailable;
  case ErrorKind::temporary:
    return ExitCode::temporary;
  case ErrorKind::config:
    return ExitCode::config;
  case ErrorKind::cancelled:
    return ExitCode::interrupted;
  case ErrorKind::not_found:
  case ErrorKind::failed:
  case ErrorKind::internal:
    return ExitCode::failure;
  }
  return ExitCode::failure;
}

const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
  case ErrorKind::usage:
    return "usage";
  case ErrorKind::data:
    return "data";
  case ErrorKind::unavailable:
    return "unavailable";
  case ErrorKind::temporary:
    return "temporary";
  case ErrorKind::config:
    return "config";
  case ErrorKind::not_found:
    return "not_found";
  case ErrorKind::failed:
    return "failed";
  case ErrorKind::cancelled:
    return "cancelled";
  case ErrorKind::internal:
    return "internal";
  }
  return "internal";
}

} // namespace herald
