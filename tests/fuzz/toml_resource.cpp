// A confd template resource (conf.d/*.toml), as --confdir reads it.
#include "fuzz.hpp"
#include "herald/render/resource.hpp"

#include <spdlog/spdlog.h>

HERALD_FUZZ_TARGET(toml_resource) {
  // Unknown keys are logged as warnings: quiet while parsing, as it was after.
  struct Quiet {
    spdlog::level::level_enum before = spdlog::get_level();
    Quiet() { spdlog::set_level(spdlog::level::off); }
    ~Quiet() { spdlog::set_level(before); }
  } quiet;
  std::string_view text = herald::fuzz::text_of(data, size);
  herald::fuzz::expect_data_errors([&] {
    auto resource =
        herald::render::parse_resource_toml(text, "conf.d/fuzz.toml", "/etc/confd/templates");
    // A mode that got through is a plain permission mode: no setuid, setgid or sticky bit.
    HERALD_FUZZ_CHECK(!resource.mode || (*resource.mode & ~mode_t{0777}) == 0);
  });
  return 0;
}
