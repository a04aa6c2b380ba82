#include "herald/core/error.hpp"
#include "herald/units/unit_file.hpp"
#include "support/process.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

using namespace herald;
using herald::units::ParseError;
using herald::units::UnitFile;

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

/// The ParseError parse() throws for `text`.
ParseError parse_error(const std::string& text) {
  try {
    UnitFile::parse(text, "bad.service");
  } catch (const ParseError& e) {
    return e;
  }
  FAIL("parsed without an error: " << text);
  return ParseError("", 0, 0, "");
}

std::string emit_error(const UnitFile& file) {
  try {
    file.emit();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::data);
    return e.what();
  }
  FAIL("emitted without an error");
  return {};
}

} // namespace

TEST_SUITE_BEGIN("units");

TEST_CASE("a unit file parses into sections in order with repeated options kept") {
  UnitFile file = UnitFile::parse("[Unit]\n"
                                  "Description=web %i\n"
                                  "After=docker.service\n"
                                  "\n"
                                  "[Service]\n"
                                  "ExecStartPre=-/usr/bin/docker kill web.%i\n"
                                  "ExecStartPre=-/usr/bin/docker rm web.%i\n"
                                  "Environment=A=1\n"
                                  "Environment=\"B=2 3\"\n"
                                  "ExecStart=/usr/bin/docker run web\n"
                                  "\n"
                                  "[X-Fleet]\n"
                                  "Conflicts=web@*.service\n");
  REQUIRE(file.sections.size() == 3);
  CHECK(file.sections[0].name == "Unit");
  CHECK(file.sections[1].name == "Service");
  CHECK(file.sections[2].name == "X-Fleet");
  CHECK(file.values("Service", "ExecStartPre") ==
        std::vector<std::string>{"-/usr/bin/docker kill web.%i", "-/usr/bin/docker rm web.%i"});
  CHECK(file.values("Service", "Environment") == std::vector<std::string>{"A=1", "\"B=2 3\""});
  CHECK(file.value("Unit", "Description") == "web %i");
  CHECK(file.value("X-Fleet", "Conflicts") == "web@*.service");
  CHECK_FALSE(file.value("Unit", "Requires"));
  CHECK(file.sections[1].options[0].line == 6);
  CHECK(file.sections[1].line == 5);
}

TEST_CASE("continuation lines are joined as systemd joins them") {
  SUBCASE("the backslash becomes a space and the next line is appended as it is") {
    UnitFile file = UnitFile::parse("[Service]\n"
                                    "ExecStart=/usr/bin/herald announce web@%i \\\n"
                                    "    --port 3000 \\\n"
                                    "  --ttl 60s\n");
    CHECK(file.value("Service", "ExecStart") ==
          "/usr/bin/herald announce web@%i      --port 3000    --ttl 60s");
  }
  SUBCASE("comment lines inside a continuation are skipped") {
    UnitFile file = UnitFile::parse("[Unit]\nDescription=a \\\n  # note\n; other\nb\nAfter=x\n");
    CHECK(file.value("Unit", "Description") == "a  b");
    CHECK(file.value("Unit", "After") == "x");
  }
  SUBCASE("a blank line ends a continuation") {
    UnitFile file = UnitFile::parse("[Unit]\nDescription=a \\\n\nAfter=x\n");
    CHECK(file.value("Unit", "Description") == "a");
    CHECK(file.value("Unit", "After") == "x");
  }
  SUBCASE("an even run of backslashes does not continue, an odd one does") {
    UnitFile file = UnitFile::parse("[Unit]\nA=x\\\\\nB=y\\\\\\\nz\n");
    CHECK(file.value("Unit", "A") == "x\\\\");
    CHECK(file.value("Unit", "B") == "y\\\\ z");
  }
  SUBCASE("a comment ending in a backslash does not continue") {
    UnitFile file = UnitFile::parse("[Unit]\n# note \\\nAfter=x\n");
    CHECK(file.value("Unit", "After") == "x");
  }
  SUBCASE("a backslash on the last line joins nothing") {
    UnitFile file = UnitFile::parse("[Unit]\nAfter=x \\");
    CHECK(file.value("Unit", "After") == "x");
  }
}

TEST_CASE("names and values are trimmed, CRLF lines read like LF lines") {
  UnitFile file = UnitFile::parse("[Unit]  \r\n  Description =  two words \t\r\nAfter=\r\n");
  CHECK(file.sections[0].name == "Unit");
  CHECK(file.value("Unit", "Description") == "two words");
  CHECK(file.value("Unit", "After") == "");
}

TEST_CASE("a parsed file is emitted byte for byte as written") {
  const std::string texts[] = {
      "",
      "\n\n",
      "# only a comment\n",
      "[Unit]\nDescription=x\n",
      "[Unit]\nDescription=x",
      "\xEF\xBB\xBF[Unit]\nDescription=bom\n",
      "# header comment\n"
      "; another\n"
      "\n"
      "[Unit]\r\n"
      "Description = spaced  \r\n"
      "\n"
      "# about ExecStart\n"
      "[Service]\n"
      "ExecStart=/bin/sh -c 'a' \\\n"
      "   # inside\n"
      "   --flag\n"
      "Environment=\"A=1\" \"B=2\"\n"
      "[Service]\n"
      "Restart=always\n"
      "# trailing comment\n"
      "\n",
  };
  for (const std::string& text : texts) {
    CAPTURE(text);
    UnitFile file = UnitFile::parse(text);
    CHECK(file.emit() == text);
    CHECK(UnitFile::parse(file.emit()) == file);
  }
}

TEST_CASE("edited and added options are written as Name=Value, sections apart by a blank line") {
  UnitFile file = UnitFile::parse("[Unit]\n"
                                  "# what it is\n"
                                  "Description = old \\\n"
                                  "  text\n"
                                  "After=a\n");
  file.set("Unit", "Description", "new text");
  file.add("Unit", "Requires", "docker.service");
  file.add("Service", "ExecStart", "/bin/true");
  file.add("X-Fleet", "Global", "true");
  CHECK(file.emit() == "[Unit]\n"
                       "# what it is\n"
                       "Description=new text\n"
                       "After=a\n"
                       "Requires=docker.service\n"
                       "\n"
                       "[Service]\n"
                       "ExecStart=/bin/true\n"
                       "\n"
                       "[X-Fleet]\n"
                       "Global=true\n");
  CHECK(file.remove("Unit", "After") == 1);
  CHECK(file.remove("Unit", "After") == 0);
  file.set("Service", "ExecStart", "/bin/false");
  CHECK(file.values("Service", "ExecStart") == std::vector<std::string>{"/bin/false"});
}

TEST_CASE("set keeps the first assignment and drops the later ones") {
  UnitFile file = UnitFile::parse("[Service]\nEnvironment=A=1\nRestart=no\nEnvironment=B=2\n");
  file.set("Service", "Environment", "C=3");
  CHECK(file.emit() == "[Service]\nEnvironment=C=3\nRestart=no\n");
}

TEST_CASE("what systemd would refuse or drop is a parse error naming file, line and column") {
  const std::pair<std::string, const char*> cases[] = {
      {"[Unit\nA=1\n", "bad.service:1:1: invalid section header \"[Unit\""},
      {"[Unit]\n  [Service] # x\n", "bad.service:2:3: invalid section header"},
      {"[Un\"it]\n", "bad.service:1:2: invalid section header \"[Un\\\"it]\": character"},
      {"[]\n", "section name is empty"},
      {"[Unit]\nDescription x\n", "bad.service:2:1: expected NAME=VALUE or a [SECTION] header"},
      {"[Unit]\n  =x\n", "bad.service:2:3: missing option name before '='"},
      {"[Unit]\nA B=x\n", "bad.service:2:1: character \" \" is not allowed in option name"},
      {"Description=x\n[Unit]\n", "bad.service:1: option Description comes before any section"},
      {"[Unit]\nDescription=caf\xE9\n", "bad.service:2:16: invalid UTF-8"},
      {std::string("[Unit]\nA=x\n\nB=\0y\n", 17), "bad.service:4:3: NUL byte"},
  };
  for (const auto& [text, message] : cases) {
    CAPTURE(text);
    ParseError e = parse_error(text);
    CHECK(e.kind() == ErrorKind::data);
    CHECK(std::string(e.what()).find(message) != std::string::npos);
    CHECK(e.source() == "bad.service");
  }
  ParseError long_line = parse_error("[Unit]\nDescription=" + std::string(1024 * 1024, 'x') + "\n");
  CHECK(long_line.line() == 2);
}

TEST_CASE("emit refuses values systemd would not read back unchanged") {
  const std::pair<const char*, const char*> cases[] = {
      {"two\nlines", "holds a newline"}, {"bell\a", "control character"},
      {" padded", "whitespace"},         {"padded\t", "whitespace"},
      {"ends in \\", "backslash"},       {"bad \xff utf8", "not valid UTF-8"},
  };
  for (const auto& [value, why] : cases) {
    CAPTURE(value);
    UnitFile file;
    file.add("Unit", "Description", value);
    std::string message = emit_error(file);
    CHECK(message.find("Description= of [Unit]") != std::string::npos);
    CHECK(message.find(why) != std::string::npos);
  }
  UnitFile bad_name;
  bad_name.add("Unit", "Desc=ription", "x");
  CHECK(emit_error(bad_name).find("not allowed in option name") != std::string::npos);
  UnitFile bad_section;
  bad_section.add("Un]it", "A", "x");
  CHECK(emit_error(bad_section).find("cannot write section") != std::string::npos);
  UnitFile fine;
  fine.add("Unit", "Description", "tab\tinside, even \\\\ backslashes");
  CHECK(UnitFile::parse(fine.emit()) == fine);
}

TEST_CASE("every unit of Debian's systemd round-trips byte for byte") {
  const std::filesystem::path dir = "/lib/systemd/system";
  if (!std::filesystem::is_directory(dir)) {
    herald::test::skip("/lib/systemd/system is absent: install Debian's systemd (scripts/setup)");
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    static const std::set<std::string> k_types = {".service", ".socket", ".target",
                                                  ".timer",   ".mount",  ".path",
                                                  ".slice",   ".swap",   ".automount"};
    if (k_types.contains(entry.path().extension().string()) && entry.is_regular_file()) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  REQUIRE_MESSAGE(files.size() >= 20, "too few units in " << dir << " to be Debian's systemd");
  std::size_t with_continuations = 0;
  for (const auto& path : files) {
    CAPTURE(path);
    std::string text = read_file(path);
    UnitFile file = UnitFile::parse(text, path.string());
    CHECK(file.emit() == text);
    UnitFile again = UnitFile::parse(file.emit(), path.string());
    CHECK(again == file);
    CHECK(file.section("Unit") != nullptr);
    for (const auto& section : file.sections) {
      for (const auto& option : section.options) {
        with_continuations += option.written.find('\n') != std::string::npos ? 1 : 0;
      }
    }
  }
  MESSAGE(files.size() << " units, " << with_continuations << " options on continued lines");
}

TEST_SUITE_END();
