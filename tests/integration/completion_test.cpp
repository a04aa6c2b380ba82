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

TEST_CASE("generated completion scripts are valid shell syntax") {
  TempDir dir;
  for (const auto& [shell, checker] :
       {std::pair{"bash", "bash"}, std::pair{"zsh", "zsh"}, std::pair{"fish", "fish"}}) {
    CAPTURE(shell);
    std::string program = find_program(checker);
    if (program.empty()) {
      continue; // checked where the shell is installed (scripts/setup installs all three)
    }
    auto r = run({herald_bin(), "completion", shell});
    REQUIRE(r.status == 0);
    std::string path = dir.write(std::string("completion.") + shell, r.out);
    auto check = run({program, "-n", path});
    INFO(check.err);
    CHECK(check.status == 0);
  }
}

TEST_CASE("bash completion offers subcommands and option values") {
  std::string bash = find_program("bash");
  REQUIRE_FALSE(bash.empty());
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
