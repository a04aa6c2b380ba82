#include "herald/cli/printer.hpp"
#include "herald/core/error.hpp"

#include <cerrno>
#include <doctest/doctest.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

using namespace herald;
using namespace herald::cli;

namespace {

const std::vector<Column>& columns() {
  static const std::vector<Column> k_columns{
      {"unit", "UNIT"}, {"state", "STATE"}, {"machine", "MACHINE"}, {"hash", "HASH", true}};
  return k_columns;
}

const std::vector<std::vector<std::string>>& units() {
  static const std::vector<std::vector<std::string>> k_units{
      {"web@1.service", "active", "10.0.0.1", "a1b2c3"},
      {"api@12.service", "inactive", "10.0.0.2", "d4e5f6"}};
  return k_units;
}

void add_units(Table& table) {
  for (const auto& row : units()) {
    table.add_row(row);
  }
}

void write_units(JsonWriter& json) {
  json.begin_array();
  for (const auto& row : units()) {
    json.begin_object();
    json.key("unit");
    json.string(row[0]);
    json.key("state");
    json.string(row[1]);
    json.end_object();
  }
  json.end_array();
}

std::string printed(OutputOptions options, const RowFunction& rows = add_units,
                    const JsonFunction& json = write_units) {
  std::ostringstream out;
  Printer printer(out, columns(), std::move(options));
  printer.print(rows, json);
  return out.str();
}

OutputOptions with_format(OutputFormat format) {
  OutputOptions options;
  options.format = format;
  return options;
}

OutputOptions with_fields(std::vector<std::string> fields,
                          OutputFormat format = OutputFormat::table) {
  OutputOptions options = with_format(format);
  options.fields = std::move(fields);
  return options;
}

/// The usage error's message `make` throws; fails the test when it throws nothing.
template <typename Make> std::string usage_error(Make make) {
  try {
    make();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    return e.what();
  }
  FAIL("no usage error");
  return {};
}

/// A stream whose every write fails, as a full disk or a closed pipe does.
class FailingBuffer : public std::streambuf {
protected:
  int_type overflow(int_type) override { return traits_type::eof(); }
  std::streamsize xsputn(const char*, std::streamsize) override {
    errno = ENOSPC;
    return 0;
  }
};

/// Counts the writes a stream receives and the largest one.
class CountingBuffer : public std::stringbuf {
public:
  std::size_t writes = 0;
  std::size_t largest = 0;

protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    ++writes;
    largest = std::max(largest, static_cast<std::size_t>(n));
    return std::stringbuf::xsputn(s, n);
  }
};

} // namespace

TEST_SUITE_BEGIN("cli");

TEST_CASE("printer table aligns columns under a header and leaves the wide ones out") {
  CHECK(printed({}) == "UNIT             STATE      MACHINE\n"
                       "web@1.service    active     10.0.0.1\n"
                       "api@12.service   inactive   10.0.0.2\n");
}

TEST_CASE("printer table without legend prints only rows, and nothing when there are none") {
  OutputOptions options;
  options.legend = false;
  CHECK(printed(options) == "web@1.service    active     10.0.0.1\n"
                            "api@12.service   inactive   10.0.0.2\n");
  CHECK(printed(options, [](Table&) {}).empty());
  CHECK(printed({}, [](Table&) {}) == "UNIT   STATE   MACHINE\n");
}

TEST_CASE("printer wide table adds the wide columns") {
  CHECK(printed(with_format(OutputFormat::wide)) ==
        "UNIT             STATE      MACHINE    HASH\n"
        "web@1.service    active     10.0.0.1   a1b2c3\n"
        "api@12.service   inactive   10.0.0.2   d4e5f6\n");
}

TEST_CASE("printer table never ends a line with spaces when the last cells are empty") {
  auto text = printed({}, [](Table& table) { table.add_row({"a", "b", "", "x"}); });
  CHECK(text == "UNIT   STATE   MACHINE\na      b\n");
}

TEST_CASE("printer simple output is rows of tab-separated cells without header or padding") {
  CHECK(printed(with_format(OutputFormat::simple)) == "web@1.service\tactive\t10.0.0.1\n"
                                                      "api@12.service\tinactive\t10.0.0.2\n");
}

TEST_CASE("printer --fields picks and orders columns, wide ones included, in any case") {
  CHECK(printed(with_fields({"hash", "UNIT"})) == "HASH     UNIT\n"
                                                  "a1b2c3   web@1.service\n"
                                                  "d4e5f6   api@12.service\n");
  CHECK(printed(with_fields({"machine"}, OutputFormat::simple)) == "10.0.0.1\n10.0.0.2\n");
}

TEST_CASE("printer tells a command which columns are shown and whether the table is wide") {
  std::ostringstream out;
  Printer printer(out, columns(), with_fields({"state", "hash"}));
  printer.print(
      [](Table& table) {
        CHECK_FALSE(table.shown(0));
        CHECK(table.shown(1));
        CHECK_FALSE(table.shown(2));
        CHECK(table.shown(3));
        CHECK_FALSE(table.shown(4));
        CHECK_FALSE(table.wide());
      },
      write_units);
  Printer wide(out, columns(), with_format(OutputFormat::wide));
  wide.print([](Table& table) { CHECK(table.wide()); }, write_units);
}

TEST_CASE("printer --fields with an unknown name suggests the nearest and lists the valid ones") {
  auto message = usage_error([] {
    std::ostringstream out;
    Printer printer(out, columns(), with_fields({"unit", "stat"}));
  });
  CHECK(message.find("unknown field 'stat'") != std::string::npos);
  CHECK(message.find("did you mean 'state'?") != std::string::npos);
  CHECK(message.find("unit, state, machine, hash") != std::string::npos);

  CHECK_NOTHROW(resolve_output({"table", false, "unit,,state"})); // the printer judges names
  auto blank = usage_error([] {
    std::ostringstream out;
    Printer printer(out, columns(), resolve_output({"table", false, "unit,,state"}));
  });
  CHECK(blank.find("empty field in --fields") != std::string::npos);
}

TEST_CASE("printer options come from the list flags as typed") {
  OutputOptions options = resolve_output({"simple", true, "unit, machine"});
  CHECK(options.format == OutputFormat::simple);
  CHECK_FALSE(options.legend);
  CHECK(options.fields == std::vector<std::string>{"unit", "machine"});
  CHECK(resolve_output({}).format == OutputFormat::table);
  CHECK(resolve_output({}).legend);
  CHECK(resolve_output({}).fields.empty());

  CHECK(usage_error([] { resolve_output({"xml", false, ""}); }).find("'xml'") != std::string::npos);
  auto json_fields = usage_error([] { resolve_output({"json", false, "unit"}); });
  CHECK(json_fields.find("--fields") != std::string::npos);
  CHECK(json_fields.find("-o json") != std::string::npos);
  CHECK_NOTHROW(resolve_output({"yaml", true, ""}));
}

TEST_CASE("printer shows control bytes, C1 controls, bidi overrides and bad UTF-8 as '?'") {
  CHECK(terminal_safe("plain text") == "plain text");
  CHECK(terminal_safe("a\033[2Jb\r\n\t\x7f") == "a?[2Jb????");
  CHECK(terminal_safe("x\xC2\x9B"
                      "31my") == "x?31my"); // U+009B, a one-character CSI
  CHECK(terminal_safe("\xE2\x80\xAE"
                      "evil") == "?evil"); // U+202E right-to-left override
  CHECK(terminal_safe("bad\xFF\xFE end\xC3") == "bad?? end?");
  CHECK(terminal_safe("\xC0\xAF") == "??"); // overlong '/'
  CHECK(terminal_safe("caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80") ==
        "caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80");

  std::string text = printed({}, [](Table& table) {
    table.add_row({"evil\033]0;title\007", "\xC3\xA9t\xC3\xA9", "bad\xFF", "-"});
    table.add_row({"ok", "x", "y", "-"});
  });
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    CHECK((u >= 0x20 || c == '\n'));
    CHECK(u != 0x7F);
  }
  CHECK(text == "UNIT             STATE   MACHINE\n"
                "evil?]0;title?   \xC3\xA9t\xC3\xA9     bad?\n"
                "ok               x       y\n");
}

TEST_CASE("printer cuts long text by characters, never inside a UTF-8 sequence") {
  CHECK(ellipsize("short", 10) == "short");
  CHECK(ellipsize("abcdefghijkl", 10) == "abcdefg...");
  CHECK(ellipsize("abcdefghijkl", 0) == "abcdefghijkl");
  CHECK(ellipsize("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 4) == "\xC3\xA9...");
}

TEST_CASE("printer json is the command's document, indented, or compact on one line") {
  CHECK(printed(with_format(OutputFormat::json)) ==
        "[\n  {\n    \"unit\": \"web@1.service\",\n    \"state\": \"active\"\n  },\n"
        "  {\n    \"unit\": \"api@12.service\",\n    \"state\": \"inactive\"\n  }\n]\n");
  OutputOptions compact = with_format(OutputFormat::json);
  compact.compact = true;
  CHECK(printed(compact) == "[{\"unit\":\"web@1.service\",\"state\":\"active\"},"
                            "{\"unit\":\"api@12.service\",\"state\":\"inactive\"}]\n");
}

TEST_CASE("printer yaml is the json document with every string double-quoted") {
  std::string text = printed(with_format(OutputFormat::yaml), add_units, [](JsonWriter& json) {
    json.begin_object();
    json.key("count");
    json.number(2);
    json.key("name");
    json.string("1:20");
    json.key("tags");
    json.begin_array();
    json.end_array();
    json.key("meta");
    json.begin_object();
    json.end_object();
    json.key("gone");
    json.null();
    json.key("ok");
    json.boolean(true);
    json.end_object();
  });
  CHECK(text == "count: 2\nname: \"1:20\"\ntags: []\nmeta: {}\ngone: ~\nok: true\n");
  YAML::Node doc = YAML::Load(text);
  CHECK(doc["name"].as<std::string>() == "1:20");
  CHECK(doc["gone"].IsNull());
}

TEST_CASE("printer asks only for what the format needs and says when a format is not offered") {
  int rows = 0;
  int json = 0;
  auto count_rows = [&](Table&) { ++rows; };
  auto count_json = [&](JsonWriter& w) {
    ++json;
    w.null();
  };
  printed({}, count_rows, count_json);
  printed(with_format(OutputFormat::simple), count_rows, count_json);
  CHECK(rows == 2);
  CHECK(json == 0);
  printed(with_format(OutputFormat::json), count_rows, count_json);
  printed(with_format(OutputFormat::yaml), count_rows, count_json);
  CHECK(rows == 2);
  CHECK(json == 2);

  CHECK(usage_error([] {
          printed(with_format(OutputFormat::json), add_units, nullptr);
        }).find("no -o json") != std::string::npos);
  CHECK(usage_error([] { printed({}, nullptr, write_units); }).find("no table output") !=
        std::string::npos);
}

TEST_CASE("printer rejects a row whose cells do not match the columns") {
  std::ostringstream out;
  Printer printer(out, columns(), {});
  try {
    printer.print([](Table& table) { table.add_row({"one", "two"}); }, write_units);
    FAIL("a short row was accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::internal);
  }
}

TEST_CASE("printer updates are separated by --- lines, and json updates are one per line") {
  std::ostringstream out;
  Printer printer(out, columns(), with_fields({"unit"}));
  printer.print_update(add_units, write_units, "title");
  printer.print_update(add_units, write_units, "title");
  CHECK(out.str() == "UNIT\nweb@1.service\napi@12.service\n"
                     "---\nUNIT\nweb@1.service\napi@12.service\n");

  std::ostringstream json_out;
  Printer json(json_out, columns(), with_format(OutputFormat::json));
  json.print_update(add_units, write_units, "title");
  json.print_update(add_units, write_units, "title");
  std::string line = "[{\"unit\":\"web@1.service\",\"state\":\"active\"},"
                     "{\"unit\":\"api@12.service\",\"state\":\"inactive\"}]\n";
  CHECK(json_out.str() == line + line);

  std::ostringstream yaml_out;
  Printer yaml(yaml_out, columns(), with_format(OutputFormat::yaml));
  yaml.print_update(
      add_units, [](JsonWriter& w) { w.number(1); }, "title");
  yaml.print_update(
      add_units, [](JsonWriter& w) { w.number(2); }, "title");
  CHECK(yaml_out.str() == "1\n---\n2\n");
}

TEST_CASE("printer updates on a terminal redraw the screen under a title made safe") {
  std::ostringstream out;
  OutputOptions options = with_fields({"unit"});
  options.terminal = true;
  Printer printer(out, columns(), options);
  printer.print_update(add_units, write_units, "herald unit ls on \033[31mfleet");
  printer.print_update(add_units, write_units, "herald unit ls on \033[31mfleet");
  std::string text = out.str();
  std::string clear = "\033[H\033[2J";
  REQUIRE(text.rfind(clear + "herald unit ls on ?[31mfleet at ", 0) == 0);
  auto second = text.find(clear, clear.size());
  REQUIRE(second != std::string::npos);
  CHECK(text.find("---") == std::string::npos);
  std::string first = text.substr(0, second);
  CHECK(first.find(" (Ctrl-C to stop)\n\nUNIT\nweb@1.service\napi@12.service\n") !=
        std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\033') == 4); // the two clears, nothing else

  std::ostringstream json_out;
  OutputOptions json = with_format(OutputFormat::json);
  json.terminal = true;
  Printer json_printer(json_out, columns(), json);
  json_printer.print_update(
      add_units, [](JsonWriter& w) { w.number(1); }, "title");
  CHECK(json_out.str() == "1\n"); // scripts read JSON: no escape sequences, even on a terminal
}

TEST_CASE("printer reports a failed write as an error naming the cause") {
  FailingBuffer buffer;
  std::ostream out(&buffer);
  for (auto format : {OutputFormat::table, OutputFormat::json, OutputFormat::yaml}) {
    CAPTURE(static_cast<int>(format));
    Printer printer(out, columns(), with_format(format));
    try {
      printer.print(add_units, write_units);
      FAIL("the failed write went unnoticed");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::internal); // exit 1
      CHECK(std::string(e.what()).find("cannot write the output") == 0);
    }
    out.clear();
  }
}

TEST_CASE("printer reports a full device, as for herald ... > /dev/full") {
  std::ofstream full("/dev/full");
  if (!full) {
    MESSAGE("no /dev/full here");
    return;
  }
  Printer printer(full, columns(), {});
  try {
    printer.print(add_units, write_units);
    FAIL("writing to /dev/full succeeded");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::internal);
    CHECK(std::string(e.what()) == "cannot write the output: No space left on device");
  }
}

TEST_CASE("printer writes a command's own text as it is, and reports when it cannot") {
  std::ostringstream out;
  Printer printer(out, {}, {});
  printer.print_text("server {\n\tlisten 80;\n}\n");
  CHECK(out.str() == "server {\n\tlisten 80;\n}\n");

  FailingBuffer buffer;
  std::ostream failing(&buffer);
  Printer broken(failing, {}, {});
  CHECK_THROWS_AS(broken.print_text("x"), Error);
}

TEST_CASE("printer streams a large json document in chunks, not in one piece") {
  CountingBuffer buffer;
  std::ostream out(&buffer);
  Printer printer(out, columns(), with_format(OutputFormat::json));
  nlohmann::ordered_json expected = nlohmann::ordered_json::array();
  printer.print(add_units, [&](JsonWriter& json) {
    json.begin_array();
    for (int i = 0; i < 20000; ++i) {
      json.begin_object();
      json.key("unit");
      json.string("web@" + std::to_string(i) + ".service");
      json.key("n");
      json.number(i);
      json.end_object();
      expected.push_back({{"unit", "web@" + std::to_string(i) + ".service"}, {"n", i}});
    }
    json.end_array();
  });
  CHECK(buffer.str() == expected.dump(2) + "\n");
  CHECK(buffer.str().size() > 1000000);
  CHECK(buffer.writes > 10);
  CHECK(buffer.largest < 100000);
}

TEST_SUITE_END();
