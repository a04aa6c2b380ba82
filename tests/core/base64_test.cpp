#include "herald/core/base64.hpp"

#include <doctest/doctest.h>
#include <optional>
#include <string>

using namespace herald;

namespace {

std::optional<std::size_t> bad_byte(std::string_view text, Base64Decoding decoding) {
  return base64_decode(text, decoding).bad_byte;
}

} // namespace

TEST_SUITE_BEGIN("core");

TEST_CASE("base64_encode writes RFC 4648's test vectors with padding") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode("/w/a1") == "L3cvYTE=");
  CHECK(base64_encode(std::string("\0\xff", 2)) == "AP8=");
  CHECK(base64_encode("user:secret") == "dXNlcjpzZWNyZXQ=");
}

TEST_CASE("base64_decode round-trips every byte value in both modes") {
  std::string all;
  for (int c = 0; c < 256; ++c) {
    all.push_back(static_cast<char>(c));
  }
  CHECK(base64_decode(base64_encode(all)).bytes == all);
  CHECK(base64_decode(base64_encode(all), Base64Decoding::go_std).bytes == all);
  for (std::size_t n = 0; n <= 6; ++n) {
    std::string text = all.substr(100, n);
    CHECK(base64_decode(base64_encode(text), Base64Decoding::go_std).bytes == text);
  }
}

TEST_CASE("lenient base64 takes padding or none, and the URL-safe alphabet") {
  CHECK(base64_decode("L3Qvaw==").bytes == "/t/k");
  CHECK(base64_decode("YmFy").bytes == "bar");
  CHECK(base64_decode("djE").bytes == "v1");
  CHECK(base64_decode("aGk=").bytes == "hi");
  CHECK(base64_decode("aGk").bytes == "hi");
  CHECK(base64_decode("aGVyYWxk").bytes == "herald");
  CHECK(base64_decode("-_8").bytes == base64_decode("+/8").bytes);
  auto empty = base64_decode("");
  CHECK(static_cast<bool>(empty));
  CHECK(empty.bytes.empty());
}

TEST_CASE("lenient base64 reports the first byte that is not base64") {
  CHECK(bad_byte("a*b=", Base64Decoding::lenient) == std::optional<std::size_t>(1));
  CHECK(bad_byte("a*b", Base64Decoding::lenient) == std::optional<std::size_t>(1));
  CHECK(bad_byte("aGk=x", Base64Decoding::lenient) == std::optional<std::size_t>(4));
  CHECK(bad_byte("aGk=", Base64Decoding::lenient) == std::nullopt);
  // A lone last digit cannot hold a byte.
  CHECK(bad_byte("aGVsbG8gd", Base64Decoding::lenient) == std::optional<std::size_t>(8));
  auto corrupt = base64_decode("aGVy*");
  CHECK_FALSE(static_cast<bool>(corrupt));
  CHECK(corrupt.bytes.empty());
}

TEST_CASE("go_std base64 decodes as Go's StdEncoding and fails at the byte Go names") {
  CHECK(base64_decode("aGVyYWxk", Base64Decoding::go_std).bytes == "herald");
  CHECK(base64_decode("YW\nI=", Base64Decoding::go_std).bytes == "ab");
  CHECK(base64_decode("YW\r\nI=\n", Base64Decoding::go_std).bytes == "ab");
  // Unpadded: Go reports the start of the short group.
  CHECK(bad_byte("aGVsbG8", Base64Decoding::go_std) == std::optional<std::size_t>(4));
  CHECK(bad_byte("a!==", Base64Decoding::go_std) == std::optional<std::size_t>(1));
  CHECK(bad_byte("a===", Base64Decoding::go_std) == std::optional<std::size_t>(1));
  CHECK(bad_byte("YQ=", Base64Decoding::go_std) == std::optional<std::size_t>(3));
  CHECK(bad_byte("YQ=x", Base64Decoding::go_std) == std::optional<std::size_t>(2));
  CHECK(bad_byte("YWI=YWI=", Base64Decoding::go_std) == std::optional<std::size_t>(4));
  CHECK(bad_byte("-_8=", Base64Decoding::go_std) == std::optional<std::size_t>(0));
}

TEST_SUITE_END();
