#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"
#include "herald/render/install.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <functional>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using herald::render::install;
using herald::render::InstallOutcome;
using herald::render::split_command;
using herald::render::TemplateResource;
using herald::test::read_file;
using herald::test::TempDir;

namespace {

/// Every entry of `dir` but . and .., to prove no stage file was left behind.
std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  REQUIRE(d != nullptr);
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") {
      out.push_back(name);
    }
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

struct stat stat_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st;
}

/// What `f` threw as a command that ran and failed (Error(failed), exit 1); "" when it threw
/// nothing or something else.
std::string failure_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const herald::Error& e) {
    CHECK(e.kind() == herald::ErrorKind::failed);
    return e.what();
  }
  FAIL("expected Error(failed)");
  return {};
}

/// A resource whose dest lives in its own directory `dir/out`.
TemplateResource make_resource(const TempDir& dir) {
  ::mkdir(dir.file("out").c_str(), 0755);
  TemplateResource r;
  r.name = "conf.d/web.toml";
  r.dest = dir.file("out/web.conf");
  return r;
}

} // namespace

TEST_SUITE_BEGIN("render");

TEST_CASE("install writes a new dest with mode 0644 and leaves no stage file") {
  TempDir dir;
  auto r = make_resource(dir);
  CHECK(install(r, "upstream a {}\n") == InstallOutcome::installed);
  CHECK(read_file(r.dest) == "upstream a {}\n");
  CHECK((stat_of(r.dest).st_mode & 07777) == 0644);
  CHECK(entries(dir.file("out")) == std::vector<std::string>{"web.conf"});
}

TEST_CASE("install applies the requested mode and keeps an existing dest's mode otherwise") {
  TempDir dir;
  auto r = make_resource(dir);
  r.mode = 0600;
  install(r, "one\n");
  CHECK((stat_of(r.dest).st_mode & 07777) == 0600);
  r.mode.reset();
  ::chmod(r.dest.c_str(), 0640);
  install(r, "two\n");
  CHECK((stat_of(r.dest).st_mode & 07777) == 0640);
  CHECK(read_file(r.dest) == "two\n");
}

TEST_CASE("unchanged output is neither rewritten nor reloaded") {
  TempDir dir;
  auto r = make_resource(dir);
  dir.write("out/web.conf", "same\n");
  ::chmod(r.dest.c_str(), 0644);
  struct timespec old_times[2] = {{1000000000, 0}, {1000000000, 0}};
  REQUIRE(::utimensat(AT_FDCWD, r.dest.c_str(), old_times, 0) == 0);
  auto before = stat_of(r.dest);
  std::string marker = dir.file("reloaded");
  r.reload_cmd = split_command("touch " + marker, "reload_cmd");
  CHECK(install(r, "same\n") == InstallOutcome::unchanged);
  auto after = stat_of(r.dest);
  CHECK(after.st_ino == before.st_ino);
  CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
  CHECK(::access(marker.c_str(), F_OK) != 0);
  CHECK(entries(dir.file("out")) == std::vector<std::string>{"web.conf"});
}

TEST_CASE("a changed mode is installed even when the content is the same") {
  TempDir dir;
  auto r = make_resource(dir);
  dir.write("out/web.conf", "same\n");
  ::chmod(r.dest.c_str(), 0644);
  r.mode = 0600;
  CHECK(install(r, "same\n") == InstallOutcome::installed);
  CHECK((stat_of(r.dest).st_mode & 07777) == 0600);
}

TEST_CASE("a new config replaces dest atomically and reloads once") {
  TempDir dir;
  auto r = make_resource(dir);
  dir.write("out/web.conf", "old\n");
  auto before = stat_of(r.dest);
  std::string log = dir.file("reload.log");
  r.reload_cmd = split_command("/bin/sh -c 'cat \"$0\" >> \"$1\"' " + r.dest + " " + log, "x");
  CHECK(install(r, "new\n") == InstallOutcome::installed);
  CHECK(read_file(r.dest) == "new\n");
  CHECK(stat_of(r.dest).st_ino != before.st_ino); // renamed over, not written in place
  CHECK(read_file(log) == "new\n");               // reload saw the new config
  CHECK(entries(dir.file("out")) == std::vector<std::string>{"web.conf"});
}

TEST_CASE("check_cmd runs on the staged file beside dest before it replaces dest") {
  TempDir dir;
  auto r = make_resource(dir);
  std::string seen = dir.file("seen");
  r.check_cmd = split_command(
      "/bin/sh -c 'echo \"$0\" > \"$1\"; grep -q upstream \"$0\"' {{.src}} " + seen, "check_cmd");
  CHECK(install(r, "upstream a {}\n") == InstallOutcome::installed);
  std::string staged = read_file(seen);
  CHECK(staged.find(dir.file("out/.web.conf.herald-")) == 0);
  CHECK(read_file(r.dest) == "upstream a {}\n");
}

TEST_CASE("a failed check leaves dest byte-identical and removes the stage file") {
  TempDir dir;
  auto r = make_resource(dir);
  dir.write("out/web.conf", "good config\n");
  auto before = stat_of(r.dest);
  r.check_cmd = split_command(
      "/bin/sh -c 'echo \"nginx: [emerg] unexpected end of file in $0\"; exit 1' {{.src}}",
      "check_cmd");
  std::string reloaded = dir.file("reloaded");
  r.reload_cmd = split_command("touch " + reloaded, "reload_cmd");
  {
    std::string message = failure_of([&] { install(r, "broken {\n"); });
    CHECK(message.find("conf.d/web.toml: check_cmd") == 0);
    CHECK(message.find("exit 1: nginx: [emerg] unexpected end of file") != std::string::npos);
    CHECK(message.find("is unchanged") != std::string::npos);
  }
  CHECK(read_file(r.dest) == "good config\n");
  CHECK(stat_of(r.dest).st_ino == before.st_ino);
  CHECK(::access(reloaded.c_str(), F_OK) != 0);
  CHECK(entries(dir.file("out")) == std::vector<std::string>{"web.conf"});
}

TEST_CASE("a check that times out counts as failed and leaves dest alone") {
  TempDir dir;
  auto r = make_resource(dir);
  dir.write("out/web.conf", "good\n");
  r.check_cmd = split_command("sleep 10", "check_cmd");
  herald::render::InstallOptions options;
  options.command_timeout = std::chrono::milliseconds(200);
  CHECK(failure_of([&] { install(r, "new\n", options); }).find("timed out") != std::string::npos);
  CHECK(read_file(r.dest) == "good\n");
  CHECK(entries(dir.file("out")) == std::vector<std::string>{"web.conf"});
}

TEST_CASE("a failed reload puts the previous config back and reloads it again") {
  TempDir dir;
  auto r = make_resource(dir);
  dir.write("out/web.conf", "previous\n");
  ::chmod(r.dest.c_str(), 0640);
  // Records what each reload saw; the first reload fails, the second succeeds.
  std::string script = dir.write("reload.sh", "cat \"$1\" >> \"$2\"\n"
                                              "n=$(cat \"$3\" 2>/dev/null || echo 0)\n"
                                              "echo $((n + 1)) > \"$3\"\n"
                                              "if [ \"$n\" -eq 0 ]; then echo 'reload: "
                                              "worker died'; exit 2; fi\n");
  std::string log = dir.file("reload.log");
  std::string count = dir.file("count");
  r.reload_cmd =
      split_command("/bin/sh " + script + " " + r.dest + " " + log + " " + count, "reload_cmd");
  {
    std::string message = failure_of([&] { install(r, "next\n"); });
    CHECK(message.find("reload_cmd") != std::string::npos);
    CHECK(message.find("exit 2: reload: worker died") != std::string::npos);
    CHECK(message.find("put back and reloaded") != std::string::npos);
  }
  CHECK(read_file(r.dest) == "previous\n");
  CHECK((stat_of(r.dest).st_mode & 07777) == 0640);
  CHECK(read_file(log) == "next\nprevious\n"); // reloaded with the new, then the old config
  CHECK(read_file(count) == "2\n");
  CHECK(entries(dir.file("out")) == std::vector<std::string>{"web.conf"});
}

TEST_CASE("a failed reload of a first install removes the new dest again") {
  TempDir dir;
  auto r = make_resource(dir);
  std::string count = dir.file("count");
  r.reload_cmd = split_command(
      "/bin/sh -c 'echo x >> \"$0\"; [ $(wc -l < \"$0\") -ge 2 ]' " + count, "reload_cmd");
  std::string message = failure_of([&] { install(r, "first\n"); });
  CHECK(message.find(r.dest + " did not exist before, so it was removed again and reloaded") !=
        std::string::npos);
  CHECK(message.find("previous") == std::string::npos); // there was no previous file
  CHECK(::access(r.dest.c_str(), F_OK) != 0);
  CHECK(read_file(count) == "x\nx\n");
  CHECK(entries(dir.file("out")).empty());
}

TEST_CASE("install into a missing directory is a config error naming the resource") {
  TempDir dir;
  TemplateResource r;
  r.name = "conf.d/web.toml";
  r.dest = dir.file("nope/web.conf");
  try {
    install(r, "x\n");
    FAIL("expected an error");
  } catch (const herald::Error& e) {
    CHECK(e.kind() == herald::ErrorKind::config);
    CHECK(std::string(e.what()).find("conf.d/web.toml: the directory of dest") == 0);
  }
}

TEST_CASE("a dest that exists and is not a regular file is refused and left in place") {
  // Before the fix a FIFO dest blocked install() forever in open(), and a device node or a
  // symbolic link was replaced by a regular file (--dest /dev/null as root would destroy it).
  TempDir dir;
  auto r = make_resource(dir);
  SUBCASE("a FIFO") {
    REQUIRE(::mkfifo(r.dest.c_str(), 0644) == 0);
  }
  SUBCASE("a symbolic link to a device node") {
    REQUIRE(::symlink("/dev/null", r.dest.c_str()) == 0);
  }
  SUBCASE("a symbolic link into /proc") {
    REQUIRE(::symlink("/proc/self/status", r.dest.c_str()) == 0);
  }
  SUBCASE("a directory") {
    REQUIRE(::mkdir(r.dest.c_str(), 0755) == 0);
  }
  struct stat before {};
  REQUIRE(::lstat(r.dest.c_str(), &before) == 0);
  try {
    install(r, "upstream a {}\n");
    FAIL("expected an error");
  } catch (const herald::Error& e) {
    CHECK(e.kind() == herald::ErrorKind::config);
    CHECK(std::string(e.what()).find("conf.d/web.toml: dest " + r.dest + " is a") == 0);
    CHECK(std::string(e.what()).find("not a regular file") != std::string::npos);
  }
  struct stat after {};
  REQUIRE(::lstat(r.dest.c_str(), &after) == 0);
  CHECK(after.st_ino == before.st_ino);
  CHECK((after.st_mode & S_IFMT) == (before.st_mode & S_IFMT));
  CHECK(entries(dir.file("out")) == std::vector<std::string>{"web.conf"});
}

TEST_CASE("a dest that is a symbolic link: the file it names is replaced and the link stays") {
  TempDir dir;
  auto r = make_resource(dir);
  REQUIRE(::mkdir(dir.file("available").c_str(), 0755) == 0);
  std::string target = dir.write("available/web.conf", "old\n");
  REQUIRE(::symlink("../available/web.conf", r.dest.c_str()) == 0);
  CHECK(install(r, "upstream a {}\n") == InstallOutcome::installed);
  struct stat link {};
  REQUIRE(::lstat(r.dest.c_str(), &link) == 0);
  CHECK(S_ISLNK(link.st_mode));
  CHECK(read_file(target) == "upstream a {}\n");
  CHECK(read_file(r.dest) == "upstream a {}\n");
  CHECK(install(r, "upstream a {}\n") == InstallOutcome::unchanged);
  CHECK(entries(dir.file("available")) == std::vector<std::string>{"web.conf"}); // no stage
  CHECK(entries(dir.file("out")) == std::vector<std::string>{"web.conf"});
}

TEST_CASE("a dest that is a link leading nowhere is refused and left in place") {
  TempDir dir;
  auto r = make_resource(dir);
  REQUIRE(::symlink("missing/web.conf", r.dest.c_str()) == 0);
  try {
    install(r, "upstream a {}\n");
    FAIL("expected an error");
  } catch (const herald::Error& e) {
    CHECK(e.kind() == herald::ErrorKind::config);
    CHECK(std::string(e.what()).find("is a symbolic link to missing/web.conf, which cannot be "
                                     "followed") != std::string::npos);
  }
  struct stat link {};
  REQUIRE(::lstat(r.dest.c_str(), &link) == 0);
  CHECK(S_ISLNK(link.st_mode));
}

TEST_CASE("read_dest refuses a FIFO without blocking on it") {
  TempDir dir;
  std::string fifo = dir.file("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  CHECK_THROWS_WITH_AS(herald::render::read_dest(fifo), doctest::Contains("is a FIFO"),
                       herald::Error);
}

TEST_CASE("an install that fails after staging leaves no stage file, also as a non-root user") {
  // Before the fix, a failure inside the stage file's constructor (fchown to root as a non-root
  // user: --owner root) skipped its destructor and left .web.conf.herald-XXXXXX behind on every
  // attempt. Root may chown to anyone, so the failing call runs in a child that dropped to
  // nobody.
  TempDir dir;
  auto r = make_resource(dir);
  ::chmod(dir.file("out").c_str(), 0777);
  ::chmod(dir.path().c_str(), 0755);
  r.uid = 0;
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
      ::_exit(3);
    }
    int code = 1;
    try {
      install(r, "x\n");
    } catch (const herald::Error& e) {
      code = std::string(e.what()).find("cannot set the owner") != std::string::npos ? 0 : 2;
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(entries(dir.file("out")).empty());
}

TEST_CASE("a stop while check_cmd runs kills it, removes the stage file and leaves dest alone") {
  // Before the fix the check ran to its end, then dest was replaced and reloaded.
  TempDir dir;
  auto r = make_resource(dir);
  dir.write("out/web.conf", "good\n");
  std::string reloaded = dir.file("reloaded");
  r.check_cmd = split_command("/bin/sh -c 'sleep 30; exit 0'", "check_cmd");
  r.reload_cmd = split_command("touch " + reloaded, "reload_cmd");
  herald::StopToken stop;
  herald::render::InstallOptions options;
  options.stop = &stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop.request(SIGTERM);
  });
  auto started = std::chrono::steady_clock::now();
  try {
    install(r, "new\n", options);
    FAIL("expected Error(cancelled)");
  } catch (const herald::Error& e) {
    CHECK(e.kind() == herald::ErrorKind::cancelled);
    CHECK(std::string(e.what()).find("stopped by SIGTERM") != std::string::npos);
  }
  stopper.join();
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
  CHECK(read_file(r.dest) == "good\n");
  CHECK(::access(reloaded.c_str(), F_OK) != 0);
  CHECK(entries(dir.file("out")) == std::vector<std::string>{"web.conf"});
}

TEST_SUITE_END();
