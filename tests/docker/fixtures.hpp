#pragma once

#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <string>

namespace herald::test {

/// The text of shared/fixtures/docker-api/`name` (recorded from Docker 20.10, API 1.41).
inline std::string docker_fixture(const std::string& name) {
  std::string text = read_file(shared_dir() + "/fixtures/docker-api/" + name);
  REQUIRE_MESSAGE(!text.empty(), "missing fixture " << name);
  return text;
}

} // namespace herald::test
