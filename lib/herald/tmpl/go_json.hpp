#pragma once

// encoding/json's Unmarshal into interface{} values, with Go's error messages. Internal to tmpl/.

#include "herald/tmpl/value.hpp"

#include <string_view>

namespace herald::tmpl::go {

/// json.Unmarshal(data, &map[string]interface{}): objects become maps, arrays []interface {},
/// numbers float64, null nil. Throws std::runtime_error with Go's message ("invalid character
/// 'x' looking for beginning of value", "json: cannot unmarshal array into Go value of type
/// map[string]interface {}", ...).
Value json_object(std::string_view data);

/// json.Unmarshal(data, &[]interface{}).
Value json_array(std::string_view data);

} // namespace herald::tmpl::go
