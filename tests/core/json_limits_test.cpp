#include "herald/core/error.hpp"
#include "herald/core/json_limits.hpp"

#include <doctest/doctest.h>
#include <string>

TEST_SUITE_BEGIN("core");

TEST_CASE("json_depth counts nested arrays and objects, not brackets in strings") {
  CHECK(herald::json_depth("") == 0);
  CHECK(herald::json_depth("\"[[[\"") == 0);
  CHECK(herald::json_depth(R"({"a":[1,{"b":"]]]\"[["}],"c":{}})") == 3);
  CHECK(herald::json_depth("[[[]]][]") == 3);
  CHECK(herald::json_depth(std::string(5000, '['), 10) == 11); // stops past the limit
}

TEST_CASE("check_json_depth refuses a document nested deeper than the limit") {
  std::size_t limit = herald::k_max_json_depth;
  CHECK_NOTHROW(herald::check_json_depth(std::string(limit, '['), "etcd answered a range"));
  try {
    herald::check_json_depth(std::string(limit + 1, '{'), "etcd answered a range");
    FAIL("expected an error");
  } catch (const herald::Error& e) {
    CHECK(e.kind() == herald::ErrorKind::data);
    CHECK(std::string(e.what()) == "etcd answered a range: JSON nested more than 1000 levels deep");
  }
}

TEST_SUITE_END();
