// The exit code of herald unit submit|load|start|stop|unload|destroy from the units' reports.

#include "herald/cli/fleet_output.hpp"
#include "herald/core/error.hpp"

#include <doctest/doctest.h>
#include <vector>

using herald::ErrorKind;
using herald::cli::lifecycle_exit_code;
using herald::fleet::Outcome;
using herald::fleet::UnitReport;

namespace {

UnitReport report(Outcome outcome, ErrorKind error = ErrorKind::failed) {
  UnitReport out;
  out.unit = "web@1.service";
  out.outcome = outcome;
  out.final = true;
  out.error = error;
  return out;
}

} // namespace

TEST_SUITE_BEGIN("cli");

TEST_CASE("a lifecycle command exits 1 for a unit that failed or was refused, 69 when fleet could "
          "not be reached, 75 when only time ran out") {
  CHECK(lifecycle_exit_code({}) == 0);
  CHECK(lifecycle_exit_code({report(Outcome::ok), report(Outcome::ok)}) == 0);
  CHECK(lifecycle_exit_code({report(Outcome::ok), report(Outcome::timed_out)}) == 75);
  CHECK(lifecycle_exit_code({report(Outcome::error, ErrorKind::unavailable)}) == 69);
  CHECK(lifecycle_exit_code(
            {report(Outcome::timed_out), report(Outcome::error, ErrorKind::unavailable)}) == 69);
  CHECK(lifecycle_exit_code({report(Outcome::error, ErrorKind::data)}) == 1);
  CHECK(lifecycle_exit_code(
            {report(Outcome::error, ErrorKind::unavailable), report(Outcome::failed)}) == 1);
  CHECK(lifecycle_exit_code({report(Outcome::unschedulable)}) == 1);
  CHECK(lifecycle_exit_code({report(Outcome::ok), report(Outcome::failed)}) == 1);
}

TEST_SUITE_END();
