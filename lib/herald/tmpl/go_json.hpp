#pragma once

// encoding/json's Unmarshal into interface{} values, with Go's error messages. Internal to tmpl/.

#include "herald/core/json_limits.hpp"
#include "herald/tmpl/value.hpp"

#include <string_view>

namespace herald::tmpl::go {

/// json.Unmarshal(data, &map[string]interface{}): objects become maps, arrays []interface {},
/// numbers float64, null nil. Throws std::runtime_error with Go's message ("invalid character
/// 'x' looking for beginning of value", "json: cannot unmarshal array into Go value of type
/// map[string]interface {}", ...). Arrays and objects nested more than k_max_json_depth levels
/// deep are refused ("exceeded max depth: ..."), where Go allows 10000.
Value json_object(std::string_view data);

/// json.Unmarshal(data, &[]interface{}).
Value json_array(std::string_view data);

} // namespace herald::tmpl::go
