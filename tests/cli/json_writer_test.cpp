#include "herald/cli/json_writer.hpp"

#include <doctest/doctest.h>
#include <limits>
#include <sstream>
#include <string>

using namespace herald::cli;
using nlohmann::ordered_json;

namespace {

/// A value with every kind of JSON, empty and nested containers, and strings the fast path
/// must hand to the escaper: quotes, control bytes, UTF-8, invalid UTF-8.
ordered_json awkward() {
  ordered_json doc;
  doc["plain"] = "text";
  doc["escaped"] = std::string("say \"hi\"\\\n\t\x01 caf\xc3\xa9 \xff\xfe end\x7f");
  doc["k\"ey\n"] = "";
  doc["int"] = -42;
  doc["big"] = std::numeric_limits<std::uint64_t>::max();
  doc["min"] = std::numeric_limits<std::int64_t>::min();
  doc["float"] = 0.1;
  doc["tiny"] = 1e-300;
  doc["whole"] = 3.0;
  doc["yes"] = true;
  doc["no"] = false;
  doc["nothing"] = nullptr;
  doc["empty_array"] = ordered_json::array();
  doc["empty_object"] = ordered_json::object();
  doc["nested"] = {{"a", {1, 2, {{"b", ordered_json::array({ordered_json::object()})}}}},
                   {"c", ordered_json::array({ordered_json::array()})}};
  return doc;
}

std::string written(const ordered_json& value, bool compact) {
  std::ostringstream out;
  JsonWriter writer(out, compact);
  writer.value(value);
  writer.flush();
  return out.str();
}

} // namespace

TEST_SUITE_BEGIN("cli");

TEST_CASE("json writer prints byte for byte what nlohmann dumps, indented or compact") {
  ordered_json doc = awkward();
  auto dump = [&](int indent) {
    return doc.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  CHECK(written(doc, false) == dump(2));
  CHECK(written(doc, true) == dump(-1));
  for (const auto& scalar : {ordered_json(1), ordered_json("x"), ordered_json(nullptr),
                             ordered_json::array(), ordered_json::object()}) {
    CHECK(written(scalar, false) == scalar.dump(2));
  }
}

TEST_CASE("json writer replaces invalid UTF-8 with U+FFFD instead of failing") {
  std::ostringstream out;
  JsonWriter writer(out, true);
  writer.string("bad\xFF\xFEvalue");
  writer.flush();
  CHECK(out.str() == "\"bad\xEF\xBF\xBD\xEF\xBF\xBDvalue\"");
}

TEST_CASE("json writer writes an empty text as null with string_or_null") {
  std::ostringstream out;
  JsonWriter writer(out, true);
  writer.begin_object();
  writer.string_or_null("machine", "");
  writer.string_or_null("image", "web:v1");
  writer.end_object();
  writer.flush();
  CHECK(out.str() == R"({"machine":null,"image":"web:v1"})");
}

TEST_CASE("json writer builds the same value it would print") {
  ordered_json doc = awkward();
  ordered_json built = "previous content";
  {
    JsonWriter writer(built);
    writer.value(doc);
  }
  CHECK(built == doc);
  CHECK(built.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) == written(doc, false));
}

TEST_CASE("json writer builds values from tokens, keys first inside objects") {
  ordered_json built;
  JsonWriter writer(built);
  writer.begin_object();
  writer.key("list");
  writer.begin_array();
  writer.number_unsigned(7);
  writer.begin_object();
  writer.key("deep");
  writer.boolean(false);
  writer.end_object();
  writer.number_float(1.5);
  writer.end_array();
  writer.key("after");
  writer.string("x");
  writer.end_object();
  CHECK(built.dump() == R"({"list":[7,{"deep":false},1.5],"after":"x"})");
}

TEST_SUITE_END();
