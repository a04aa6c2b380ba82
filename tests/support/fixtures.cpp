#include "support/fixtures.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace herald::test {

std::string fixtures_dir() {
  return HERALD_FIXTURES_DIR;
}

std::string fixture_path(const std::string& relative) {
  std::string path = fixtures_dir() + "/" + relative;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    FAIL("missing fixture " << path << " (tests/fixtures/ comes with the checkout: "
                            << "is the clone complete?)");
  }
  return path;
}

std::string read_fixture(const std::string& relative) {
  std::string path = fixture_path(relative);
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  if (!std::filesystem::is_regular_file(path, ec) || !in) {
    FAIL("unreadable fixture " << path << " (not a readable file)");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace herald::test
