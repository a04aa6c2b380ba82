#pragma once

#include "support/fixtures.hpp"

#include <string>

namespace herald::test {

/// The text of tests/fixtures/docker-api/`name` (recorded from Docker 20.10, API 1.41).
inline std::string docker_fixture(const std::string& name) {
  return read_fixture("docker-api/" + name);
}

} // namespace herald::test
