// A systemd unit file (`unit cat`, `unit submit`, generated units) and unit names.
// Properties: a unit that parses comes back from its own text with the same sections and options
// (emit, then parse); what travels to fleet comes back from fleet's serialisation as the same
// options, grouped by section as fleet groups them; a unit name that parses prints as itself; an
// instance escape decodes to its text.
#include "herald/units/unit_file.hpp"

#include "fuzz.hpp"
#include "herald/units/fleet_options.hpp"
#include "herald/units/unit_name.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace herald::units;

HERALD_FUZZ_TARGET(unit_file) {
  std::string_view text = herald::fuzz::text_of(data, size);
  herald::fuzz::expect_data_errors([&] {
    auto file = UnitFile::parse(text, "fuzz.service");
    auto again = UnitFile::parse(file.emit(), "emitted.service");
    HERALD_FUZZ_CHECK(again == file);
    // fleet keeps the options in file order and gives them back grouped by section, in the
    // order sections first appear (go-systemd's Serialize): a second trip changes nothing.
    auto options = to_fleet_options(file);
    auto grouped = options;
    std::vector<std::string> order;
    for (const auto& option : options)
      if (std::find(order.begin(), order.end(), option.section) == order.end())
        order.push_back(option.section);
    std::stable_sort(grouped.begin(), grouped.end(), [&](const auto& a, const auto& b) {
      return std::find(order.begin(), order.end(), a.section) <
             std::find(order.begin(), order.end(), b.section);
    });
    auto stored = from_fleet_options(options);
    HERALD_FUZZ_CHECK(to_fleet_options(stored) == grouped);
    HERALD_FUZZ_CHECK(to_fleet_options(from_fleet_options(grouped)) == grouped);
  });
  herald::fuzz::expect_data_errors([&] {
    auto name = parse_unit_name(text);
    HERALD_FUZZ_CHECK(parse_unit_name(name.str()) == name);
    HERALD_FUZZ_CHECK(is_valid_unit_name(text));
  });
  herald::fuzz::expect_data_errors([&] {
    auto escaped = escape_instance(text);
    HERALD_FUZZ_CHECK(unescape_instance(escaped) == text);
  });
  return 0;
}
