#include "herald/core/error.hpp"
#include "herald/render/resource.hpp"
#include "support/log_capture.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using herald::Error;
using herald::ErrorKind;
using herald::render::parse_resource_toml;
using herald::render::TemplateResource;
using Words = std::vector<std::string>;

namespace {

std::string error_of(const std::string& toml) {
  try {
    parse_resource_toml(toml, "conf.d/nginx.toml", "/etc/confd/templates");
  } catch (const Error& e) {
    return std::string(to_string(e.kind())) + ": " + e.what();
  }
  return "";
}

} // namespace

TEST_SUITE_BEGIN("render");

TEST_CASE("a confd TOML resource is read with every confd key") {
  auto r = parse_resource_toml(R"([template]
src = "nginx.tmpl"
dest = "/etc/nginx/conf.d/apps.conf"
keys = ["/web", "/clusters"]
prefix = "/services"
check_cmd = "/usr/sbin/nginx -t -c {{.src}}"
reload_cmd = "/usr/sbin/nginx -s reload"
mode = "0640"
uid = 0
gid = 0
)",
                               "conf.d/nginx.toml", "/etc/confd/templates");
  CHECK(r.name == "conf.d/nginx.toml");
  CHECK(r.src == "/etc/confd/templates/nginx.tmpl");
  CHECK(r.dest == "/etc/nginx/conf.d/apps.conf");
  CHECK(r.keys == Words{"/web", "/clusters"});
  CHECK(r.prefix == "/services");
  REQUIRE(r.check_cmd);
  CHECK(r.check_cmd->argv == Words{"/usr/sbin/nginx", "-t", "-c", "{{.src}}"});
  REQUIRE(r.reload_cmd);
  CHECK(r.reload_cmd->argv == Words{"/usr/sbin/nginx", "-s", "reload"});
  CHECK(r.mode == 0640);
  CHECK(r.uid == 0u);
  CHECK(r.gid == 0u);
  CHECK(r.registry_keys() == Words{"/services/clusters", "/services/web"});
}

TEST_CASE("a minimal confd resource leaves mode, owner and commands unset") {
  auto r = parse_resource_toml("[template]\nsrc = \"a.tmpl\"\ndest = \"/tmp/a\"\nkeys = "
                               "[\"/services/web\"]\n",
                               "a.toml", "tpl");
  CHECK(r.src == "tpl/a.tmpl");
  CHECK(r.prefix == "/");
  CHECK_FALSE(r.mode);
  CHECK_FALSE(r.uid);
  CHECK_FALSE(r.gid);
  CHECK_FALSE(r.check_cmd);
  CHECK_FALSE(r.reload_cmd);
  CHECK(r.registry_keys() == Words{"/services/web"});
}

TEST_CASE("owner names a user and optionally a group, and uid = -1 means unset as in confd") {
  auto r = parse_resource_toml("[template]\nsrc = \"a\"\ndest = \"/tmp/a\"\nowner = "
                               "\"root:root\"\nuid = -1\n",
                               "a.toml", "t");
  CHECK(r.uid == 0u);
  CHECK(r.gid == 0u);
  CHECK(error_of("[template]\nsrc = \"a\"\ndest = \"/tmp/a\"\nowner = \"no-such-user-x\"\n")
            .find("no user named 'no-such-user-x'") != std::string::npos);
}

TEST_CASE("TOML that does not parse is a data error naming file:line:col") {
  std::string e = error_of("[template]\nsrc = \"a.tmpl\"\ndest = /etc/x\n");
  CHECK(e.find("data: conf.d/nginx.toml:3:8:") == 0);
  e = error_of("[template]\nsrc = \"a.tmpl\n");
  CHECK(e.find("data: conf.d/nginx.toml:2:") == 0);
}

TEST_CASE("a resource with wrong types or missing settings is a config error with position") {
  CHECK(error_of("[template]\nsrc = \"a\"\ndest = \"/x\"\nkeys = \"/services/web\"\n") ==
        "config: conf.d/nginx.toml:4:8: [template] keys must be an array of strings, not a "
        "string");
  CHECK(error_of("[template]\nsrc = \"a\"\ndest = \"/x\"\nkeys = [\"/a\", 3]\n")
            .find("config: conf.d/nginx.toml:4:15: [template] keys must be an array of strings, "
                  "not an integer") == 0);
  CHECK(error_of("[template]\ndest = \"/x\"\n")
            .find("config: conf.d/nginx.toml: [template] has "
                  "no src") == 0);
  CHECK(error_of("[template]\nsrc = \"a\"\n").find("has no dest") != std::string::npos);
  CHECK(error_of("src = \"a\"\n").find("no [template] table") != std::string::npos);
  CHECK(error_of("[template]\nsrc = \"a\"\ndest = \"/x\"\nmode = \"rw-r--r--\"\n")
            .find("config: conf.d/nginx.toml:4:8: [template] mode: 'rw-r--r--' is not a file "
                  "mode") == 0);
  CHECK(error_of("[template]\nsrc = \"a\"\ndest = \"/x\"\ncheck_cmd = \"nginx -t && true\"\n")
            .find("check_cmd of conf.d/nginx.toml") != std::string::npos);
}

TEST_CASE("file modes are octal with or without a leading 0, as chmod reads them") {
  // Before the fix "644" was read as decimal 644 = 01204 (sticky, world-writable 755 = 01363).
  using herald::render::parse_mode;
  CHECK(parse_mode("644", "m") == 0644);
  CHECK(parse_mode("0644", "m") == 0644);
  CHECK(parse_mode("755", "m") == 0755);
  CHECK(parse_mode("0o600", "m") == 0600);
  CHECK(parse_mode(" 0640 ", "m") == 0640);
  CHECK(parse_mode("0", "m") == 0);
  CHECK(parse_mode("0000644", "m") == 0644);
  for (const char* bad :
       {"0999", "8", "-1", "+644", "010000", "77777", "", "0x1a4", "rw-r--r--", "0o", "6 44"}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(parse_mode(bad, "m"), doctest::Contains("is not a file mode"), Error);
  }
}

TEST_CASE("a mode with the setuid, setgid or sticky bit is refused") {
  using herald::render::parse_mode;
  for (const char* special : {"4755", "2755", "1777", "04644", "0o7644", "6644"}) {
    CAPTURE(special);
    try {
      parse_mode(special, "--mode", ErrorKind::usage);
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      CHECK(std::string(e.what()).find("--mode: '") == 0);
      CHECK(std::string(e.what()).find("setuid, setgid or sticky") != std::string::npos);
    }
  }
}

TEST_CASE("mode in TOML is octal as a string or an integer, and refused naming the file") {
  auto mode_of = [](const std::string& value) {
    return parse_resource_toml("[template]\nsrc = \"a\"\ndest = \"/x\"\nmode = " + value + "\n",
                               "conf.d/nginx.toml", "/t")
        .mode;
  };
  CHECK(mode_of("\"644\"") == 0644);
  CHECK(mode_of("\"0640\"") == 0640);
  CHECK(mode_of("644") == 0644);   // the digits chmod would read
  CHECK(mode_of("0o600") == 0600); // a TOML octal integer is the number itself
  CHECK(error_of("[template]\nsrc = \"a\"\ndest = \"/x\"\nmode = \"2755\"\n")
            .find("config: conf.d/nginx.toml:4:8: [template] mode: '2755' sets the setuid") == 0);
  CHECK(error_of("[template]\nsrc = \"a\"\ndest = \"/x\"\nmode = 0o4755\n")
            .find("config: conf.d/nginx.toml:4:8: [template] mode:") == 0);
  CHECK(
      error_of("[template]\nsrc = \"a\"\ndest = \"/x\"\nmode = 999\n").find("is not a file mode") !=
      std::string::npos);
  CHECK(
      error_of("[template]\nsrc = \"a\"\ndest = \"/x\"\nmode = -1\n").find("is not a file mode") !=
      std::string::npos);
}

TEST_CASE("a bad --mode is a usage error") {
  herald::render::ResourceFlags flags;
  flags.template_file = "nginx.tmpl";
  flags.mode = "4755";
  try {
    herald::render::resource_from_flags(flags);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
  }
  flags.mode = "644";
  CHECK(herald::render::resource_from_flags(flags).mode == 0644);
}

TEST_CASE("keys join with the prefix as Go's path.Join does") {
  using herald::render::join_key;
  CHECK(join_key("/services", "/web") == "/services/web");
  CHECK(join_key("services/", "web/") == "/services/web");
  CHECK(join_key("", "/services/web") == "/services/web");
  CHECK(join_key("/", "") == "/");
  CHECK(join_key("/", "services//web/./a@1/") == "/services/web/a@1");
  CHECK(join_key("./", "/.") == "/");
}

TEST_CASE("registry_keys drops duplicates and keys another key covers") {
  TemplateResource r;
  r.prefix = "/services";
  r.keys = {"/web/api", "/web", "/clusters", "/web"};
  CHECK(r.registry_keys() == Words{"/services/clusters", "/services/web"});
}

TEST_CASE("a global prefix is joined before each resource's own prefix") {
  std::vector<TemplateResource> rs(2);
  rs[0].prefix = "/";
  rs[1].prefix = "/web";
  herald::render::apply_global_prefix(rs, "/production");
  CHECK(rs[0].prefix == "/production");
  CHECK(rs[1].prefix == "/production/web");
}

TEST_CASE("--confdir reads conf.d/*.toml in order with templates/ as the src directory") {
  herald::test::TempDir dir;
  ::mkdir(dir.file("conf.d").c_str(), 0755);
  ::mkdir(dir.file("conf.d/more").c_str(), 0755);
  dir.write("conf.d/b.toml", "[template]\nsrc = \"b.tmpl\"\ndest = \"/tmp/b\"\nkeys = [\"/b\"]\n");
  dir.write("conf.d/more/a.toml",
            "[template]\nsrc = \"a.tmpl\"\ndest = \"/tmp/a\"\nkeys = [\"/a\"]\n");
  dir.write("conf.d/notes.txt", "ignored");
  auto rs = herald::render::load_confdir(dir.path());
  REQUIRE(rs.size() == 2);
  CHECK(rs[0].dest == "/tmp/b");
  CHECK(rs[0].src == dir.file("templates/b.tmpl"));
  CHECK(rs[1].dest == "/tmp/a");
  CHECK(rs[1].name == dir.file("conf.d/more/a.toml"));
}

TEST_CASE("--confdir without conf.d or without resources is a config error") {
  herald::test::TempDir dir;
  CHECK_THROWS_WITH_AS(herald::render::load_confdir(dir.path()),
                       doctest::Contains("is not a directory"), Error);
  ::mkdir(dir.file("conf.d").c_str(), 0755);
  CHECK_THROWS_WITH_AS(herald::render::load_confdir(dir.path()),
                       doctest::Contains("no template resources"), Error);
}

TEST_CASE("validate_resource catches a missing dest directory and a non-executable check") {
  herald::test::TempDir dir;
  TemplateResource r;
  r.name = "conf.d/web.toml";
  r.src = dir.write("web.tmpl", "x");
  r.dest = dir.file("missing/web.conf");
  try {
    herald::render::validate_resource(r, true);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::config);
    CHECK(std::string(e.what()) == "conf.d/web.toml: the directory of dest " +
                                       dir.file("missing/web.conf") + " does not exist: create " +
                                       dir.file("missing") + " or fix dest");
  }
  CHECK_NOTHROW(herald::render::validate_resource(r, false)); // --stdout writes no dest
  r.dest = dir.file("web.conf");
  CHECK_NOTHROW(herald::render::validate_resource(r, true));
  r.check_cmd = herald::render::split_command(dir.file("web.tmpl") + " {{.src}}", "check_cmd");
  CHECK_THROWS_WITH_AS(herald::render::validate_resource(r, true),
                       doctest::Contains("is not executable"), Error);
  r.check_cmd.reset();
  r.src = dir.file("nope.tmpl");
  CHECK_THROWS_WITH_AS(herald::render::validate_resource(r, true),
                       doctest::Contains("cannot read template"), Error);
}

TEST_CASE("--confdir refuses a resource that is not a regular file or is too large") {
  // Before the fix a FIFO named *.toml blocked the start-up forever.
  herald::test::TempDir dir;
  ::mkdir(dir.file("conf.d").c_str(), 0755);
  SUBCASE("a FIFO") {
    REQUIRE(::mkfifo(dir.file("conf.d/a.toml").c_str(), 0644) == 0);
    CHECK_THROWS_WITH_AS(herald::render::load_confdir(dir.path()),
                         doctest::Contains("is a FIFO, not a regular file"), Error);
  }
  SUBCASE("a symbolic link to a character device") {
    REQUIRE(::symlink("/dev/zero", dir.file("conf.d/a.toml").c_str()) == 0);
    CHECK_THROWS_WITH_AS(herald::render::load_confdir(dir.path()),
                         doctest::Contains("is a character device"), Error);
  }
  SUBCASE("larger than the limit") {
    dir.write("conf.d/a.toml",
              "[template]\n" + std::string(herald::render::k_max_resource_size, '#') + "\n");
    CHECK_THROWS_WITH_AS(herald::render::load_confdir(dir.path()),
                         doctest::Contains("is larger than 1 MiB"), Error);
  }
}

TEST_CASE("validate_resource refuses a dest that exists and is not a regular file") {
  herald::test::TempDir dir;
  TemplateResource r;
  r.name = "--template web.tmpl";
  r.src = dir.write("web.tmpl", "x");
  r.dest = dir.file("web.conf");
  REQUIRE(::symlink("/dev/null", r.dest.c_str()) == 0);
  try {
    herald::render::validate_resource(r, true);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::config);
    CHECK(std::string(e.what()) ==
          "--template web.tmpl: dest " + r.dest +
              " is a symbolic link to /dev/null (a character device), not a regular file: herald "
              "only ever replaces regular files, so it leaves it alone; name a regular file as "
              "dest");
  }
  CHECK_NOTHROW(herald::render::validate_resource(r, false)); // --stdout writes no dest
}

TEST_CASE("a resource from flags needs a template and reads mode and owner") {
  herald::render::ResourceFlags flags;
  CHECK_THROWS_AS(herald::render::resource_from_flags(flags), Error);
  flags.template_file = "nginx.tmpl";
  flags.dest = "/tmp/nginx.conf";
  flags.keys = {"/services/web"};
  flags.mode = "0600";
  flags.owner = "0";
  flags.reload_cmd = "nginx -s reload";
  auto r = herald::render::resource_from_flags(flags);
  CHECK(r.name == "--template nginx.tmpl");
  CHECK(r.mode == 0600);
  CHECK(r.uid == 0u);
  CHECK_FALSE(r.gid);
  CHECK(r.registry_keys() == Words{"/services/web"});
  REQUIRE(r.reload_cmd);
  CHECK(r.reload_cmd->argv == Words{"nginx", "-s", "reload"});
}

TEST_CASE("haproxy_socket is herald's own resource key, read without a warning and checked") {
  herald::test::LogCapture log(spdlog::level::warn);
  auto r = parse_resource_toml("[template]\nsrc = \"a\"\ndest = \"/tmp/a\"\nhaproxy_socket = "
                               "\"/run/haproxy/admin.sock\"\n",
                               "a.toml", "t");
  CHECK(r.haproxy_socket == "/run/haproxy/admin.sock");
  CHECK(log.lines().empty());
  CHECK(parse_resource_toml("[template]\nsrc = \"a\"\ndest = \"/tmp/a\"\n", "a.toml", "t")
            .haproxy_socket.empty());
  CHECK(error_of("[template]\nsrc = \"a\"\ndest = \"/x\"\nhaproxy_socket = \"admin.sock\"\n")
            .find("config: conf.d/nginx.toml:4:18: [template] haproxy_socket: \"admin.sock\" is "
                  "not an absolute path") == 0);
  CHECK(error_of("[template]\nsrc = \"a\"\ndest = \"/x\"\nhaproxy_socket = \"/" +
                 std::string(200, 'a') + "\"\n")
            .find("longer than the 107 bytes") != std::string::npos);
  CHECK(error_of("[template]\nsrc = \"a\"\ndest = \"/x\"\nhaproxy_socket = 1\n")
            .find("haproxy_socket must be a string") != std::string::npos);
  // A misspelt key is still a warning with the nearest known one.
  parse_resource_toml("[template]\nsrc = \"a\"\ndest = \"/tmp/a\"\nhaproxy_sockets = \"/s\"\n",
                      "a.toml", "t");
  CHECK(log.count("did you mean 'haproxy_socket'?") == 1);

  herald::render::ResourceFlags flags;
  flags.template_file = "haproxy.tmpl";
  flags.haproxy_socket = "/run/haproxy/admin.sock";
  CHECK(herald::render::resource_from_flags(flags).haproxy_socket == "/run/haproxy/admin.sock");
  flags.haproxy_socket = "relative.sock";
  CHECK_THROWS_AS(herald::render::resource_from_flags(flags), Error);
}

TEST_SUITE_END();
