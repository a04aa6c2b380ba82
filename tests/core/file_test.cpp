#include "herald/core/error.hpp"
#include "herald/core/file.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using herald::Links;
using herald::read_file;

TEST_SUITE_BEGIN("core");

TEST_CASE("read_file reads a regular file and says when there is none") {
  herald::test::TempDir dir;
  CHECK(read_file(dir.write("a", "hello"), 5, "--template") == "hello");
  CHECK(read_file(dir.write("empty", ""), 5, "--template") == "");
  CHECK_FALSE(read_file(dir.file("missing"), 5, "--template"));
}

TEST_CASE("read_file refuses a FIFO, a device and a directory without blocking") {
  herald::test::TempDir dir;
  std::string fifo = dir.file("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  std::string message = "--template: " + fifo + " is a FIFO, not a regular file";
  CHECK_THROWS_WITH_AS(read_file(fifo, 100, "--template"), doctest::Contains(message.c_str()),
                       herald::Error);
  CHECK_THROWS_WITH_AS(read_file("/dev/zero", 100, "--template"),
                       doctest::Contains("is a character device"), herald::Error);
  CHECK_THROWS_WITH_AS(read_file(dir.path(), 100, "--template"),
                       doctest::Contains("is a directory"), herald::Error);
}

TEST_CASE("read_file follows a symbolic link unless told to refuse it") {
  herald::test::TempDir dir;
  std::string target = dir.write("target", "x");
  std::string link = dir.file("link");
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  CHECK(read_file(link, 5, "t") == "x");
  CHECK_THROWS_WITH_AS(read_file(link, 5, "dest", Links::refuse),
                       doctest::Contains("is a symbolic link"), herald::Error);
}

TEST_CASE("read_file refuses a file larger than the limit") {
  herald::test::TempDir dir;
  CHECK(read_file(dir.write("ten", "0123456789"), 10, "t") == "0123456789");
  CHECK_THROWS_WITH_AS(read_file(dir.file("ten"), 9, "--template"),
                       doctest::Contains("is larger than 9 bytes"), herald::Error);
}

TEST_SUITE_END();
