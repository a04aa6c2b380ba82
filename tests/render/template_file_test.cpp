#include "herald/core/error.hpp"
#include "herald/render/template_file.hpp"
#include "herald/tmpl/kv_store.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using herald::Error;
using herald::ErrorKind;
using herald::render::execute_template;
using herald::render::load_template;
using herald::render::TemplateResource;
using herald::test::TempDir;

namespace {

TemplateResource resource_for(const std::string& src) {
  TemplateResource r;
  r.name = "--template t.tmpl";
  r.src = src;
  return r;
}

std::shared_ptr<const herald::tmpl::KvStore> empty_store() {
  return std::make_shared<herald::tmpl::KvStore>();
}

/// The message of the config error load_template() throws for `src`.
std::string load_error(const std::string& src) {
  try {
    load_template(resource_for(src), empty_store());
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::config);
    return e.what();
  }
  return "";
}

} // namespace

TEST_SUITE_BEGIN("render");

TEST_CASE("a template that is not a regular file is refused without reading it") {
  // Before the fix a FIFO blocked in open() (ignoring SIGTERM) and /dev/zero was read forever.
  TempDir dir;
  std::string fifo = dir.file("fifo.tmpl");
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  CHECK(load_error(fifo) == "--template t.tmpl: template: " + fifo +
                                " is a FIFO, not a regular file: herald reads and writes only "
                                "regular files");
  CHECK(load_error("/dev/zero").find("/dev/zero is a character device") != std::string::npos);
  CHECK(load_error(dir.path()).find("is a directory") != std::string::npos);
  CHECK(load_error(dir.file("missing.tmpl")).find("cannot read template") != std::string::npos);
}

TEST_CASE("a template larger than the limit is refused") {
  TempDir dir;
  std::string big = dir.write("big.tmpl", std::string(herald::render::k_max_template_size, 'x'));
  CHECK_NOTHROW(load_template(resource_for(big), empty_store()));
  std::string bigger =
      dir.write("bigger.tmpl", std::string(herald::render::k_max_template_size + 1, 'x'));
  CHECK(load_error(bigger).find("is larger than 4 MiB") != std::string::npos);
}

TEST_CASE("a render whose output outgrows the cap fails as a data error") {
  TempDir dir;
  auto r = resource_for(dir.write("t.tmpl", "{{range seq 1 1000}}0123456789{{end}}"));
  auto templ = load_template(r, empty_store());
  herald::tmpl::ExecOptions options;
  options.max_output = 10000;
  CHECK(execute_template(r, templ, options).size() == 10000);
  options.max_output = 9999;
  try {
    execute_template(r, templ, options);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::data);
    CHECK(std::string(e.what()).find("--template t.tmpl: template: t.tmpl:1:") == 0);
    CHECK(std::string(e.what()).find("output larger than 9999 bytes") != std::string::npos);
  }
}

TEST_CASE("range over a huge seq fails the render cleanly") {
  // Before the fix seq built 100 million values (3 GB) before the range even started.
  TempDir dir;
  auto r = resource_for(dir.write("t.tmpl", "{{range seq 1 100000000}}x{{end}}"));
  auto templ = load_template(r, empty_store());
  CHECK_THROWS_WITH_AS(execute_template(r, templ),
                       doctest::Contains("error calling seq: seq 1 100000000: more than the "
                                         "1048576 numbers a template may ask for"),
                       Error);
}

TEST_CASE("a render that runs away without output fails once it used up its steps") {
  TempDir dir;
  auto r = resource_for(
      dir.write("t.tmpl", "{{range seq 1 1000000}}{{range seq 1 1000000}}{{end}}{{end}}"));
  auto templ = load_template(r, empty_store());
  herald::tmpl::ExecOptions options;
  options.max_steps = 10'000'000;
  CHECK_THROWS_WITH_AS(execute_template(r, templ, options),
                       doctest::Contains("execution took more than 10000000 steps"), Error);
}

TEST_SUITE_END();
