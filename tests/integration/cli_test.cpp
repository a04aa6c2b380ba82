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
