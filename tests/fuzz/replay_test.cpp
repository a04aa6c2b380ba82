// Every fuzz harness replayed in the unit tests (g++, ASan + UBSan): its seed corpus and every
// input a fuzzer found to crash (tests/fixtures/fuzz-regressions/NAME/), so a fixed bug stays
// fixed without clang or libFuzzer.

#include "fuzz.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <glob.h>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace herald::fuzz {

namespace {

std::map<std::string, Target>& targets() {
  static std::map<std::string, Target> all;
  return all;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// The files `pattern` (relative to the source tree) matches.
std::vector<std::string> expand(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t found{};
  std::string absolute = std::string(HERALD_SOURCE_DIR) + "/" + pattern;
  if (::glob(absolute.c_str(), 0, nullptr, &found) == 0) {
    for (std::size_t i = 0; i < found.gl_pathc; ++i) {
      out.emplace_back(found.gl_pathv[i]);
    }
  }
  ::globfree(&found);
  return out;
}

/// The seeds of `name` (its .seeds globs and seeds/NAME/) and its regressions.
std::vector<std::string> inputs_of(const std::string& name) {
  std::vector<std::string> files;
  std::istringstream seeds(
      read_all(std::string(HERALD_SOURCE_DIR) + "/tests/fuzz/" + name + ".seeds"));
  for (std::string line; std::getline(seeds, line);) {
    if (!line.empty() && line[0] != '#') {
      auto more = expand(line);
      files.insert(files.end(), more.begin(), more.end());
    }
  }
  for (const char* dir : {"tests/fuzz/seeds/", "tests/fixtures/fuzz-regressions/"}) {
    auto more = expand(dir + name + "/*");
    files.insert(files.end(), more.begin(), more.end());
  }
  return files;
}

} // namespace

bool register_target(const char* name, Target target) {
  targets().emplace(name, target);
  return true;
}

} // namespace herald::fuzz

TEST_SUITE_BEGIN("fuzz");

TEST_CASE("every fuzz harness runs its seeds and past crashes cleanly") {
  const auto& all = herald::fuzz::targets();
  REQUIRE(all.size() >= 9);
  std::size_t total = 0;
  for (const auto& [name, target] : all) {
    auto files = herald::fuzz::inputs_of(name);
    for (const auto& file : files) {
      CAPTURE(file);
      std::string input = herald::fuzz::read_all(file);
      CHECK(target(reinterpret_cast<const std::uint8_t*>(input.data()), input.size()) == 0);
    }
    total += files.size();
  }
  std::string summary = std::to_string(total) + " inputs replayed through " +
                        std::to_string(all.size()) + " harnesses";
  MESSAGE(summary);
  CHECK(total > 0);
}

TEST_SUITE_END();
