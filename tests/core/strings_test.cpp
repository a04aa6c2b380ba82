#include "herald/core/strings.hpp"

#include <cstdio>
#include <doctest/doctest.h>
#include <fstream>
#include <unistd.h>

using namespace herald;

TEST_SUITE_BEGIN("core");

TEST_CASE("split keeps empty fields") {
  CHECK(split("a,,b", ',') == std::vector<std::string>{"a", "", "b"});
  CHECK(split("", ',') == std::vector<std::string>{""});
}

TEST_CASE("escape_control writes control bytes as C escapes and keeps the rest") {
  CHECK(escape_control("plain text, UTF-8: caf\xc3\xa9") == "plain text, UTF-8: caf\xc3\xa9");
  CHECK(escape_control("a\nb\r\tc") == "a\\nb\\r\\tc");
  CHECK(escape_control(std::string_view("\x1b[31m\x00\x7f", 7)) == "\\x1b[31m\\x00\\x7f");
  CHECK(escape_control("back\\slash") == "back\\slash");
}

TEST_CASE("escape_control also escapes invalid UTF-8, C1 controls and invisible characters") {
  // A lone continuation byte, a truncated sequence and an overlong '/' are bytes, not text.
  CHECK(escape_control("a\x80"
                       "b") == "a\\x80b");
  CHECK(escape_control("caf\xc3") == "caf\\xc3");
  CHECK(escape_control("\xc0\xaf") == "\\xc0\\xaf");
  // U+009B (CSI in C1), U+202E (right-to-left override), U+2028 (line separator), BOM.
  CHECK(escape_control("\xc2\x9b"
                       "31m") == "\\u{009b}31m");
  CHECK(escape_control("user\xe2\x80\xaegnp.exe") == "user\\u{202e}gnp.exe");
  CHECK(escape_control("a\xe2\x80\xa8"
                       "b\xef\xbb\xbf") == "a\\u{2028}b\\u{feff}");
  CHECK(escape_control("\xe2\x82\xac \xf0\x9f\x98\x80") == "\xe2\x82\xac \xf0\x9f\x98\x80"); // kept
}

TEST_CASE("quoted puts text in double quotes with quotes, backslashes and control bytes escaped") {
  CHECK(quoted("web@1") == "\"web@1\"");
  CHECK(quoted("say \"hi\" \\ bye") == "\"say \\\"hi\\\" \\\\ bye\"");
  CHECK(quoted(std::string_view("a\0b\n", 4)) == "\"a\\x00b\\n\"");
  CHECK(quoted("\xff\xfe") == "\"\\xff\\xfe\""); // fmt's {:?} asserts on this
  CHECK(quoted("") == "\"\"");
}

TEST_CASE("closest_match suggests a near name and nothing for a far one") {
  std::vector<std::string> names{"announce", "deregister", "render"};
  CHECK(closest_match("anounce", names) == std::optional<std::string>("announce"));
  CHECK_FALSE(closest_match("zzzzzzzz", names).has_value());
}

TEST_CASE("read_env_file_value reads /etc/environment style files") {
  char path[] = "/tmp/herald-env-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  {
    std::ofstream out(path);
    out << "# comment\nCOREOS_PUBLIC_IPV4=1.2.3.4\nexport COREOS_PRIVATE_IPV4=\"10.0.0.9\"\n"
        << "EMPTY=\n";
  }
  CHECK(read_env_file_value(path, "COREOS_PRIVATE_IPV4") == std::optional<std::string>("10.0.0.9"));
  CHECK(read_env_file_value(path, "COREOS_PUBLIC_IPV4") == std::optional<std::string>("1.2.3.4"));
  CHECK_FALSE(read_env_file_value(path, "EMPTY").has_value());
  CHECK_FALSE(read_env_file_value(path, "MISSING").has_value());
  CHECK_FALSE(read_env_file_value("/nonexistent/herald", "X").has_value());
  std::remove(path);
}

TEST_SUITE_END();
