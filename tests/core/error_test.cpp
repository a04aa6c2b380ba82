#include "herald/core/error.hpp"

#include <doctest/doctest.h>

using herald::ErrorKind;
using herald::ExitCode;

TEST_SUITE_BEGIN("core");

TEST_CASE("error kinds map to the exit codes of DESIGN.md") {
  CHECK(exit_code_for(ErrorKind::usage) == ExitCode::usage);
  CHECK(to_int(exit_code_for(ErrorKind::data)) == 65);
  CHECK(to_int(exit_code_for(ErrorKind::unavailable)) == 69);
  CHECK(to_int(exit_code_for(ErrorKind::temporary)) == 75);
  CHECK(to_int(exit_code_for(ErrorKind::config)) == 78);
  CHECK(to_int(exit_code_for(ErrorKind::cancelled)) == 130);
  CHECK(to_int(exit_code_for(ErrorKind::not_found)) == 1);
  CHECK(to_int(exit_code_for(ErrorKind::failed)) == 1);
  CHECK(to_int(exit_code_for(ErrorKind::internal)) == 1);
}

TEST_CASE("only unavailable and temporary errors are retryable") {
  CHECK(herald::Error(ErrorKind::unavailable, "x").retryable());
  CHECK(herald::Error(ErrorKind::temporary, "x").retryable());
  CHECK_FALSE(herald::Error(ErrorKind::config, "x").retryable());
  CHECK_FALSE(herald::Error(ErrorKind::data, "x").retryable());
  CHECK_FALSE(herald::Error(ErrorKind::failed, "x").retryable());
}

TEST_SUITE_END();
