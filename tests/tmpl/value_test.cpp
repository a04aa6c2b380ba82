#include "herald/tmpl/value.hpp"

#include <doctest/doctest.h>

using namespace herald::tmpl;

TEST_SUITE_BEGIN("tmpl");

TEST_CASE("values carry the Go type names Go would print") {
  CHECK(Value().type_name().empty());
  CHECK(Value::nil().type_name() == "interface {}");
  CHECK(Value(true).type_name() == "bool");
  CHECK(Value(3).type_name() == "int");
  CHECK(Value::integer(3, IntType::go_uint16).type_name() == "uint16");
  CHECK(Value(1.5).type_name() == "float64");
  CHECK(Value("s").type_name() == "string");
  CHECK(Value::list({}).type_name() == "[]interface {}");
  CHECK(Value::strings({"a"}).type_name() == "[]string");
  CHECK(Value::map({}).type_name() == "map[string]interface {}");
  CHECK(Value::kv_pair("k", "v").type_name() == "memkv.KVPair");
  CHECK(Value::record("net.SRV", {}, true).type_name() == "*net.SRV");
  Value pairs = Value::list({}, "memkv.KVPairs", "[]memkv.KVPair");
  CHECK(pairs.underlying_type_name() == "[]memkv.KVPair");
}

TEST_CASE("truth follows Go: zero values and empty containers are false") {
  CHECK_FALSE(Value().truthy());
  CHECK_FALSE(Value::nil().truthy());
  CHECK_FALSE(Value(0).truthy());
  CHECK_FALSE(Value(0.0).truthy());
  CHECK_FALSE(Value("").truthy());
  CHECK_FALSE(Value::list({}).truthy());
  CHECK_FALSE(Value::map({}).truthy());
  CHECK(Value(-1).truthy());
  CHECK(Value("0").truthy());
  CHECK(Value::kv_pair("", "").truthy());
}

TEST_CASE("maps sort their keys and keep the last of duplicates") {
  Value m = Value::map({{"b", Value(1)}, {"a", Value(2)}, {"b", Value(3)}});
  REQUIRE(m.size() == 2);
  CHECK(m.entries()[0].first == "a");
  CHECK(m.find("b")->as_int() == 3);
  CHECK(m.find("c") == nullptr);
  CHECK(m.find("a")->boxed()); // read out of a map[string]interface{}
  CHECK_FALSE(m.find("a")->unbox().boxed());
}

TEST_CASE("copies share storage, and a retyped list shares its elements") {
  Value list = Value::strings({"a", "b"});
  Value copy = list;
  Value view = list.retyped("[]other");
  list.mutable_items()[0] = Value("z");
  CHECK(copy.items()[0].as_string() == "z");
  CHECK(view.items()[0].as_string() == "z");
  CHECK(view.type_name() == "[]other");
  CHECK(list.type_name() == "[]string");
}

TEST_SUITE_END();
