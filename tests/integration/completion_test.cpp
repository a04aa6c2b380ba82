#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace herald::test;

TEST_SUITE_BEGIN("integration");

TEST_CASE("completion scripts in completions/ match the CLI") {
  for (const auto& [shell, file] : {std::pair{"bash", "herald.bash"}, std::pair{"zsh", "_herald"},
                                    std::pair{"fish", "herald.fish"}}) {
    CAPTURE(shell);
    auto r = run({herald_bin(), "completion", shell});
    REQUIRE(r.status == 0);
    INFO("run ./scripts/update-completions to regenerate completions/");
    CHECK(r.out == read_file(std::string(HERALD_SOURCE_DIR) + "/completions/" + file));
  }
}

namespace {

/// The shell itself, or the test is reported skipped (scripts/setup installs all three).
std::string shell_program(const std::string& shell) {
  std::string program = find_program(shell);
  if (program.empty()) {
    skip(shell + " is not installed (Debian package " + shell + "; run ./scripts/setup)");
  }
  return program;
}

/// `shell -n` accepts what `herald completion shell` prints.
void check_syntax(const std::string& shell) {
  std::string program = shell_program(shell);
  TempDir dir;
  auto r = run({herald_bin(), "completion", shell});
  REQUIRE(r.status == 0);
  std::string path = dir.write("completion." + shell, r.out);
  auto check = run({program, "-n", path});
  INFO(check.err);
  CHECK(check.status == 0);
}

} // namespace

TEST_CASE("the generated bash completion script is valid bash syntax") {
  check_syntax("bash");
}

TEST_CASE("the generated zsh completion script is valid zsh syntax") {
  check_syntax("zsh");
}

TEST_CASE("the generated fish completion script is valid fish syntax") {
  check_syntax("fish");
}

TEST_CASE("bash completion offers subcommands and option values") {
  std::string bash = shell_program("bash");
  TempDir dir;
  auto r = run({herald_bin(), "completion", "bash"});
  REQUIRE(r.status == 0);
  std::string script = dir.write("herald.bash", r.out);
  auto complete = [&](const std::string& words, int cword) {
    auto out = run({bash, "-c",
                    "source '" + script + "'; COMP_WORDS=(" + words + "); COMP_CWORD=" +
                        std::to_string(cword) + "; _herald; echo \"${COMPREPLY[*]}\""});
    return out.out;
  };
  CHECK(complete("herald compl", 1) == "completion\n");
  CHECK(complete("herald --log-format ''", 2) == "text json journal\n");
  CHECK(complete("herald --regis", 1) == "--registry\n");
}

TEST_SUITE_END();
