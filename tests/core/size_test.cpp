#include "herald/core/error.hpp"
#include "herald/core/size.hpp"

#include <doctest/doctest.h>

using herald::format_size;
using herald::parse_size;

TEST_SUITE_BEGIN("core");

TEST_CASE("sizes parse as whole numbers with binary units") {
  CHECK(parse_size("4096", "--max-output") == 4096);
  CHECK(parse_size("512K", "x") == 512u << 10);
  CHECK(parse_size("64M", "x") == 64u << 20);
  CHECK(parse_size("64MiB", "x") == 64u << 20);
  CHECK(parse_size("64mb", "x") == 64u << 20);
  CHECK(parse_size("1G", "x") == std::size_t{1} << 30);
  CHECK(parse_size("10B", "x") == 10);
  for (const char* bad :
       {"", "M", "0", "-1", "1.5M", "12Q", "99999999999999999999", "16E", "20000000000T"}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(parse_size(bad, "--max-output"), doctest::Contains("invalid size '"),
                         herald::Error);
  }
}

TEST_CASE("sizes print in the largest whole unit") {
  CHECK(format_size(std::size_t{64} << 20) == "64 MiB");
  CHECK(format_size(std::size_t{1} << 30) == "1 GiB");
  CHECK(format_size(4096) == "4 KiB");
  CHECK(format_size(1000) == "1000 bytes");
  CHECK(format_size(0) == "0 bytes");
}

TEST_SUITE_END();
