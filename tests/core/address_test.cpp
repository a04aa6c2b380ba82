// The trust model's rule for what may reach a router config (core/address.hpp).

#include "herald/core/address.hpp"
#include "herald/core/name.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace herald;
using namespace std::string_literals;

TEST_SUITE_BEGIN("core");

TEST_CASE("is_valid_host accepts IP literals and DNS names") {
  for (const char* good :
       {"10.0.0.5", "127.0.0.1", "::1", "fe80::1", "2001:db8::5", "::ffff:10.0.0.1", "localhost",
        "web-1.example.com", "a", "xn--bcher-kva.example", "1host.example", "a.b2"}) {
    CAPTURE(good);
    CHECK(is_valid_host(good));
  }
}

TEST_CASE("is_valid_host refuses everything else: syntax, control bytes, non-ASCII, oversize") {
  std::string long_label(64, 'a');
  std::string long_name;
  while (long_name.size() < 254) {
    long_name += "abcdefghi.";
  }
  long_name += "com";
  for (const std::string& bad : {""s,
                                 "10.0.0.9\0"s,
                                 "10.0.0.9\0evil"s,
                                 "::1\0"s,
                                 "127.0.0.1;}server{listen"s,
                                 "10.0.0.9\r"s,
                                 "web\n"s,
                                 "a b"s,
                                 "a\0b"s,
                                 "{*f********"s,
                                 "x\"y"s,
                                 "x'y"s,
                                 "$host"s,
                                 "a\\b"s,
                                 "a#b"s,
                                 "a;b"s,
                                 "ex\xc3\xa4mple.com"s,
                                 "\xef\xbc\x9b"s,
                                 "-web.com"s,
                                 "web-.com"s,
                                 "a..b"s,
                                 ".a"s,
                                 "a."s,
                                 "10.0.0.999"s,
                                 "1.2.3"s,
                                 "[::1]"s,
                                 "fe80::1%eth0"s,
                                 "::g"s,
                                 long_label,
                                 long_name,
                                 "a_b.com"s,
                                 "a/b"s,
                                 "a@b"s,
                                 "\x1b[31m"s}) {
    CAPTURE(bad);
    CHECK_FALSE(is_valid_host(bad));
  }
}

TEST_CASE("try_parse_host_port applies the host rule") {
  HostPort hp;
  CHECK(try_parse_host_port("web.example:80", hp));
  CHECK(try_parse_host_port("[::1]:3000", hp));
  CHECK(hp.host == "::1");
  CHECK_FALSE(try_parse_host_port("127.0.0.1;}server{listen\r127.0.0.1:1", hp));
  CHECK_FALSE(try_parse_host_port("[zz]:80", hp));
  CHECK_FALSE(try_parse_host_port("10.0.0.1:80\nfrontend evil", hp));
  CHECK_FALSE(try_parse_host_port("10.0.0.1:0", hp));
  CHECK_FALSE(try_parse_host_port(std::string(200000, 'a') + ":80", hp));
}

TEST_CASE("tag_problem refuses control bytes, spaces, non-ASCII and config syntax") {
  CHECK_FALSE(tag_problem("server_alias=www.example.com"));
  CHECK_FALSE(tag_problem("httpchk=/health"));
  CHECK_FALSE(tag_problem("v1.2:blue"));
  for (const std::string& bad :
       {""s, "a\nb"s, "a\rb"s, "a\0b"s, "a\tb"s, "a b"s, "x;y"s, "x{"s, "}"s, "#c"s, "\"q"s, "'q"s,
        "`q"s, "$v"s, "a\\b"s, "caf\xc3\xa9"s, "\xc2\x85"s, std::string(513, 'a')}) {
    CAPTURE(bad);
    CHECK(tag_problem(bad).has_value());
    CHECK(meta_key_problem(bad).has_value());
  }
}

TEST_CASE("meta_value_problem allows spaces and UTF-8, not control characters or syntax") {
  CHECK_FALSE(meta_value_problem("version 1.2 (blue)"));
  CHECK_FALSE(meta_value_problem("caf\xc3\xa9"));
  CHECK_FALSE(meta_value_problem(""));
  for (const std::string& bad :
       {"a\nb"s, "a\rb"s, "a\0b"s, "\xc2\x85"s, "\xc2\x9b"s, "\xff"s, "\xc0\xaf"s, "\xed\xa0\x80"s,
        "a\xe2\x80\xae"
        "b"s,
        "a\xe2\x80\xa8"
        "b"s,
        "\xef\xbb\xbf"s,
        "a\xe2\x80\x8b"
        "b"s,
        "x;y"s, "{}"s, "a#b"s, "'"s, std::string(513, 'a')}) {
    CAPTURE(bad);
    CHECK(meta_value_problem(bad).has_value());
  }
}

TEST_CASE("key_text_problem refuses control characters and invalid UTF-8 only") {
  CHECK_FALSE(key_text_problem("/services/web/{app}"));
  CHECK(key_text_problem("/services/web\n"));
  CHECK(key_text_problem("/services/\x1b"));
  CHECK(key_text_problem("/services/\xff"));
}
