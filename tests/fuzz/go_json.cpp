// The `json` and `jsonArray` template functions' decoder (Go's encoding/json into interface{}).
// Properties: a decoded object is a map and a decoded array a list; what the decoder accepts is
// JSON (nlohmann's parser accepts it too, for text where the two may differ by design left out:
// bytes outside printable ASCII, which Go replaces when invalid, and \u escapes, where Go takes a
// lone surrogate); decoding the same text twice gives the same outcome.
#include "herald/tmpl/go_json.hpp"

#include "fuzz.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

namespace {

bool comparable_with_nlohmann(std::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x7f || (c < 0x20 && c != '\n' && c != '\r' && c != '\t')) {
      return false;
    }
  }
  return text.find("\\u") == std::string_view::npos;
}

} // namespace

HERALD_FUZZ_TARGET(go_json) {
  using herald::tmpl::Kind;
  std::string_view text = herald::fuzz::text_of(data, size);
  // Its errors are std::runtime_error with Go's words, which the engine reports as
  // "error calling json: ...".
  for (auto [decode, kind] : {std::pair{&herald::tmpl::go::json_object, Kind::map},
                              std::pair{&herald::tmpl::go::json_array, Kind::list}}) {
    std::optional<std::string> first_error;
    bool decoded = false;
    try {
      auto value = decode(text);
      decoded = true;
      HERALD_FUZZ_CHECK(value.kind() == kind); // "null" decodes to an empty one, as in Go
      if (comparable_with_nlohmann(text)) {
        HERALD_FUZZ_CHECK(nlohmann::json::accept(text));
      }
    } catch (const std::runtime_error& e) {
      first_error = e.what();
      HERALD_FUZZ_CHECK(!first_error->empty());
    }
    try {
      decode(text);
      HERALD_FUZZ_CHECK(decoded);
    } catch (const std::runtime_error& e) {
      HERALD_FUZZ_CHECK(first_error && *first_error == e.what());
    }
  }
  return 0;
}
