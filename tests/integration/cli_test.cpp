#include "support/process.hpp"

#include <doctest/doctest.h>

using namespace herald::test;

TEST_SUITE_BEGIN("integration");

TEST_CASE("herald --help shows examples and exits 0") {
  auto r = run({herald_bin(), "--help"});
  CHECK(r.status == 0);
  CHECK(r.out.find("Examples:") != std::string::npos);
}

TEST_CASE("herald --version prints the version and exits 0") {
  auto r = run({herald_bin(), "--version"});
  CHECK(r.status == 0);
  CHECK(r.out.find("herald ") == 0);
}

TEST_CASE("an unknown command is a usage error with exit code 2") {
  auto r = run({herald_bin(), "annouce", "web@1"});
  CHECK(r.status == 2);
  CHECK(r.err.find("herald:") == 0);
  CHECK(r.err.find("--help") != std::string::npos);
}

TEST_CASE("an unknown command is named, with the nearest one and the list of commands") {
  auto r = run({herald_bin(), "frobnicate"});
  CHECK(r.status == 2);
  CHECK(r.err.find("herald: unknown command 'frobnicate': the commands of herald are announce, ") ==
        0);
  CHECK(r.err.find("route") != std::string::npos);
  CHECK(r.err.find("subcommand is required") == std::string::npos);

  auto typo = run({herald_bin(), "--registry", "etcd://127.0.0.1:1", "annouce", "web@1"});
  CHECK(typo.status == 2);
  CHECK(typo.err.find("unknown command 'annouce' (did you mean 'announce'?)") != std::string::npos);

  auto nested = run({herald_bin(), "route", "lss"});
  CHECK(nested.status == 2);
  CHECK(nested.err.find("unknown command 'lss' (did you mean 'ls'?): the commands of herald "
                        "route are ls") != std::string::npos);

  auto none = run({herald_bin()});
  CHECK(none.status == 2);
  CHECK(none.err.find("a command is required: the commands of herald are ") != std::string::npos);
}

TEST_CASE("a NaN or out-of-range --max-drop is a usage error") {
  for (const char* bad : {"nan", "-1", "101", "inf"}) {
    CAPTURE(bad);
    auto r = run({herald_bin(), "render", "--onetime", "--template", "t.tmpl", "--dest", "out.conf",
                  "--keys", "/services/web", "--max-drop", bad});
    CHECK(r.status == 2);
    CHECK(r.err.find("--max-drop") != std::string::npos);
    CHECK(r.err.find("percentage from 0 to 100") != std::string::npos);
  }
}

TEST_CASE("memory:// is no registry a user can pick") {
  auto r = run({herald_bin(), "--registry", "memory://", "route", "ls"});
  CHECK(r.status == 78);
  CHECK(r.err.find("unknown registry scheme 'memory'") != std::string::npos);
  CHECK(r.out.empty());
}

TEST_CASE("render --onetime with --watch or --interval is a usage error with exit code 2") {
  for (const char* mode : {"--watch", "--interval=5s"}) {
    auto r = run({herald_bin(), "render", "--onetime", mode, "--template", "t.tmpl", "--dest",
                  "out.conf", "--keys", "/services/web"});
    CHECK(r.status == 2);
    CHECK(r.err.find("--onetime") != std::string::npos);
    CHECK(r.out.empty());
  }
}

TEST_CASE("a command whose stdout cannot be written exits 1 saying so") {
  auto r = run({"sh", "-c", "exec \"$0\" completion bash > /dev/full", herald_bin()});
  CHECK(r.status == 1);
  CHECK(r.err == "herald: completion: cannot write the output: No space left on device\n");
}

TEST_SUITE_END();
