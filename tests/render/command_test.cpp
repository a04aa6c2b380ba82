#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/render/command.hpp"
#include "support/temp_dir.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using herald::Error;
using herald::ErrorKind;
using herald::render::split_command;
using Words = std::vector<std::string>;

namespace {

ErrorKind kind_of(const std::string& text) {
  try {
    split_command(text, "check_cmd");
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorKind::internal;
}

std::string message_of(const std::string& text) {
  try {
    split_command(text, "check_cmd of conf.d/nginx.toml");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_SUITE_BEGIN("render");

TEST_CASE("split_command splits on blanks and honours shell quoting") {
  CHECK(split_command("/usr/sbin/nginx -t -c {{.src}}", "x").argv ==
        Words{"/usr/sbin/nginx", "-t", "-c", "{{.src}}"});
  CHECK(split_command("  a\t b  \n c ", "x").argv == Words{"a", "b", "c"});
  CHECK(split_command("echo 'a b' \"c d\" e\\ f", "x").argv == Words{"echo", "a b", "c d", "e f"});
  CHECK(split_command("echo '' \"\"", "x").argv == Words{"echo", "", ""});
  CHECK(split_command("echo 'it'\"'\"'s'", "x").argv == Words{"echo", "it's"});
  CHECK(split_command("echo \"a \\\"q\\\" \\\\ \\n\"", "x").argv ==
        Words{"echo", "a \"q\" \\ \\n"});
  CHECK(split_command("echo '$(not expanded) | ;'", "x").argv ==
        Words{"echo", "$(not expanded) | ;"});
  CHECK(split_command("sh -c 'nginx -t && kill -HUP $(cat /run/nginx.pid)'", "x").argv ==
        Words{"sh", "-c", "nginx -t && kill -HUP $(cat /run/nginx.pid)"});
  CHECK(split_command("echo a\\\nb", "x").argv == Words{"echo", "ab"});
}

TEST_CASE("split_command rejects shell syntax that would silently become arguments") {
  for (const char* text : {"nginx -t && service nginx reload", "a | b", "a; b", "a > /dev/null",
                           "a 2>&1", "kill -HUP $(cat /run/nginx.pid)", "kill `cat pid`",
                           "echo $HOME", "echo \"$HOME\"", "echo ${X}", "a &", "(a)"}) {
    CAPTURE(text);
    CHECK(kind_of(text) == ErrorKind::config);
  }
  std::string message = message_of("service nginx reload || true");
  CHECK(message.find("check_cmd of conf.d/nginx.toml") != std::string::npos);
  CHECK(message.find("'||'") != std::string::npos);
  CHECK(message.find("sh -c") != std::string::npos);
}

TEST_CASE("split_command reports unterminated quotes, empty commands and assignments") {
  CHECK(message_of("echo 'oops").find("unterminated '") != std::string::npos);
  CHECK(message_of("echo \"oops").find("unterminated \"") != std::string::npos);
  CHECK(message_of("   ").find("is empty") != std::string::npos);
  CHECK(message_of("FOO=1 nginx -s reload").find("env FOO=1") != std::string::npos);
}

TEST_CASE("substitute_src replaces {{.src}} in every word, literally") {
  auto argv = herald::render::substitute_src(
      Words{"nginx", "-t", "-c", "{{.src}}", "--x={{ .src }}", "{{.other}}"}, "/etc/a$1.conf");
  CHECK(argv == Words{"nginx", "-t", "-c", "/etc/a$1.conf", "--x=/etc/a$1.conf", "{{.other}}"});
}

TEST_CASE("run_command captures output and the exit status without a shell") {
  auto ok = herald::render::run_command({"/bin/sh", "-c", "echo out; echo err >&2"}, 5s);
  CHECK(ok.ok());
  CHECK(ok.output == "out\nerr\n");
  auto fail = herald::render::run_command({"/bin/sh", "-c", "echo 'bad config'; exit 3"}, 5s);
  CHECK_FALSE(fail.ok());
  CHECK(fail.status == 3);
  CHECK(herald::render::describe_failure(fail) == "exit 3: bad config");
  // No shell: the metacharacters reach the program as plain arguments.
  auto literal = herald::render::run_command({"echo", "a;b", "$HOME", "*"}, 5s);
  CHECK(literal.output == "a;b $HOME *\n");
}

TEST_CASE("run_command kills a command that outlives its timeout") {
  auto start = std::chrono::steady_clock::now();
  auto r = herald::render::run_command({"/bin/sh", "-c", "echo started; sleep 30"}, 300ms);
  CHECK(r.timed_out);
  CHECK_FALSE(r.ok());
  CHECK(r.output == "started\n");
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(herald::render::describe_failure(r).find("timed out") == 0);
}

TEST_CASE("run_command does not wait for a daemon that keeps its output open") {
  auto start = std::chrono::steady_clock::now();
  auto r = herald::render::run_command({"/bin/sh", "-c", "sleep 5 & echo spawned"}, 10s);
  CHECK(r.ok());
  CHECK(r.output == "spawned\n");
  CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("run_command keeps a bounded amount of output") {
  auto r =
      herald::render::run_command({"/bin/sh", "-c", "head -c 200000 /dev/zero | tr '\\0' x"}, 10s);
  CHECK(r.ok());
  CHECK(r.output.size() == herald::render::k_output_limit);
  CHECK(r.truncated);
}

TEST_CASE("require_executable names a missing or non-executable program") {
  herald::test::TempDir dir;
  std::string script = dir.write("check.sh", "#!/bin/sh\nexit 0\n");
  auto not_exec = split_command(script + " {{.src}}", "check_cmd");
  try {
    herald::render::require_executable(not_exec, "check_cmd of conf.d/a.toml");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::config);
    CHECK(std::string(e.what()).find("check_cmd of conf.d/a.toml") != std::string::npos);
    CHECK(std::string(e.what()).find("is not executable") != std::string::npos);
  }
  ::chmod(script.c_str(), 0755);
  CHECK_NOTHROW(herald::render::require_executable(not_exec, "check_cmd"));
  try {
    herald::render::require_executable(split_command("ngnix -t", "x"), "check_cmd");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("'ngnix' is not on PATH") != std::string::npos);
  }
  CHECK_THROWS_AS(herald::render::require_executable(split_command(dir.path(), "x"), "check_cmd"),
                  Error);
}

TEST_CASE("a stop ends a running command and its whole process group") {
  herald::test::TempDir dir;
  std::string pid_file = dir.file("grandchild.pid");
  herald::StopToken stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);
    stop.request(SIGINT);
  });
  auto started = std::chrono::steady_clock::now();
  // The shell waits on a background child: both are in the command's process group.
  auto r = herald::render::run_command(
      {"/bin/sh", "-c", "sleep 30 & echo $! > \"$0\"; wait", pid_file}, 60s, &stop);
  stopper.join();
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  CHECK(r.stopped);
  CHECK_FALSE(r.ok());
  CHECK_FALSE(r.timed_out);
  std::string pid_text = herald::test::read_file(pid_file);
  REQUIRE_FALSE(pid_text.empty());
  pid_t grandchild = static_cast<pid_t>(std::stol(pid_text));
  // The background sleep got the group's SIGTERM too (it is reaped by init, or a zombie).
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::string stat = herald::test::read_file("/proc/" + std::to_string(grandchild) + "/stat");
    gone = stat.empty() || stat.find(") Z ") != std::string::npos;
    if (!gone) {
      std::this_thread::sleep_for(20ms);
    }
  }
  CHECK(gone);
}

TEST_SUITE_END();
