#include "herald/render/diff.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <random>
#include <string>

using herald::render::unified_diff;
using herald::test::find_program;
using herald::test::read_file;
using herald::test::run;
using herald::test::TempDir;

namespace {

/// Our diff of `before` -> `after` with GNU diff's header lines cut off, beside GNU diff's.
std::pair<std::string, std::string> both_diffs(const std::string& before,
                                               const std::string& after) {
  TempDir dir;
  std::string a = dir.write("a", before);
  std::string b = dir.write("b", after);
  auto gnu = run({find_program("diff"), "-u", "--label", "old", "--label", "new", a, b});
  return {unified_diff(before, after, "old", "new"), gnu.out};
}

/// Applies our diff with `patch` and returns what it produced.
std::string patched(const std::string& before, const std::string& after) {
  TempDir dir;
  std::string file = dir.write("file", before);
  std::string patch_file = dir.write("p.diff", unified_diff(before, after, "file", "file"));
  auto r = run({find_program("patch"), "--quiet", "--force", file, patch_file});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  return read_file(file);
}

} // namespace

TEST_SUITE_BEGIN("render");

TEST_CASE("equal inputs have an empty diff") {
  CHECK(unified_diff("a\nb\n", "a\nb\n", "x", "y").empty());
  CHECK(unified_diff("", "", "x", "y").empty());
}

TEST_CASE("a one-line change is one hunk with three lines of context") {
  std::string before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
  std::string after = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
  CHECK(unified_diff(before, after, "a/nginx.conf", "b/nginx.conf") ==
        "--- a/nginx.conf\n+++ b/nginx.conf\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST_CASE("the diff matches GNU diff -u for typical config changes") {
  if (find_program("diff").empty()) {
    herald::test::skip("GNU diff (diffutils) is not installed");
  }
  std::string base;
  for (int i = 0; i < 40; ++i) {
    base += "line " + std::to_string(i) + "\n";
  }
  std::string far_apart = base;
  far_apart.replace(far_apart.find("line 3\n"), 7, "LINE 3\n");
  far_apart.replace(far_apart.find("line 30\n"), 8, "");
  std::string close_together = base;
  close_together.replace(close_together.find("line 10\n"), 8, "line 10\nextra\n");
  close_together.replace(close_together.find("line 14\n"), 8, "");
  struct Case {
    const char* name;
    std::string before;
    std::string after;
  };
  for (const auto& c :
       {Case{"far apart: two hunks", base, far_apart},
        Case{"close together: one hunk", base, close_together}, Case{"from empty", "", "a\nb\n"},
        Case{"to empty", "a\nb\n", ""}, Case{"insert at start", base, "new\n" + base},
        Case{"append at end", base, base + "new\n"}, Case{"no newline at end", "a\nb\n", "a\nb"},
        Case{"newline added at end", "a\nb", "a\nb\nc\n"}}) {
    CAPTURE(c.name);
    auto [ours, gnu] = both_diffs(c.before, c.after);
    CHECK(ours == gnu);
  }
}

TEST_CASE("patch turns the old file into the new one for random edits") {
  if (find_program("patch").empty()) {
    herald::test::skip("patch is not installed");
  }
  std::mt19937 random(42);
  for (int round = 0; round < 30; ++round) {
    std::string before;
    std::string after;
    int lines = static_cast<int>(random() % 60);
    for (int i = 0; i < lines; ++i) {
      std::string line = "server 10.0.0." + std::to_string(random() % 8) + ":80;\n";
      before += line;
      switch (random() % 5) {
      case 0:
        break; // dropped
      case 1:
        after += "server 10.1.0." + std::to_string(random() % 8) + ":80;\n";
        break;
      case 2:
        after += line + "# added\n";
        break;
      default:
        after += line;
      }
    }
    if (random() % 4 == 0 && !after.empty()) {
      after.pop_back(); // sometimes no final newline
    }
    CAPTURE(round);
    if (before == after) {
      CHECK(unified_diff(before, after, "f", "f").empty());
      continue;
    }
    CHECK(patched(before, after) == after);
  }
}

TEST_CASE("a huge rewrite still produces a correct patch") {
  std::string before;
  std::string after;
  for (int i = 0; i < 5000; ++i) {
    before += "a" + std::to_string(i) + "\n";
    after += "b" + std::to_string(i) + "\n";
  }
  std::string d = unified_diff(before, after, "f", "f");
  CHECK(d.find("@@ -1,5000 +1,5000 @@\n-a0\n") != std::string::npos);
  CHECK(patched(before, after) == after);
}

TEST_SUITE_END();
