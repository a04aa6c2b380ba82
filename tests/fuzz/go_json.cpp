// The `json` and `jsonArray` template functions' decoder (Go's encoding/json into interface{}).
#include "herald/tmpl/go_json.hpp"

#include "fuzz.hpp"

#include <stdexcept>

HERALD_FUZZ_TARGET(go_json) {
  std::string_view text = herald::fuzz::text_of(data, size);
  // Its errors are std::runtime_error with Go's words, which the engine reports as
  // "error calling json: ...".
  for (auto decode : {&herald::tmpl::go::json_object, &herald::tmpl::go::json_array}) {
    try {
      decode(text);
    } catch (const std::runtime_error&) {
    }
  }
  return 0;
}
