// Typed reads of JSON request fields whose errors name the field path ("input[3].role:
// expected a string, got number"). Shared by the Responses, Chat and Completions parsers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "base/result.h"

namespace wafer::api {

// "a" + "b" -> "a.b"; "" + "b" -> "b".
std::string field_path(std::string_view parent, std::string_view key);
// "input" + 3 -> "input[3]".
std::string index_path(std::string_view parent, size_t index);
// "null", "bool", "number", "string", "array", "object".
std::string_view json_type_name(const boost::json::value& value);

template <typename... Args>
Error field_error(std::string_view path, fmt::format_string<Args...> format, Args&&... args) {
  return Error{ErrorCode::kInvalidArgument,
               fmt::format("{}: {}", path, fmt::format(format, std::forward<Args>(args)...))};
}
Error type_error(std::string_view path, std::string_view expected, const boost::json::value& got);

// Parses a request body that must be one JSON object (depth-limited; never throws).
Result<boost::json::object> parse_json_object(std::string_view body);

// nullptr when the key is absent or null.
const boost::json::value* find_field(const boost::json::object& object, std::string_view key);

// Absent or null -> nullopt; wrong type -> error naming parent.key.
Result<std::optional<std::string>> read_string(const boost::json::object& object,
                                               std::string_view key, std::string_view parent);
Result<std::optional<bool>> read_bool(const boost::json::object& object, std::string_view key,
                                      std::string_view parent);
// Integers, and doubles with an integral value that fits in int64.
Result<std::optional<int64_t>> read_int(const boost::json::object& object, std::string_view key,
                                        std::string_view parent);
Result<std::optional<double>> read_number(const boost::json::object& object,
                                          std::string_view key, std::string_view parent);

// Compact JSON text of a value.
std::string to_json_text(const boost::json::value& value);

}  // namespace wafer::api
