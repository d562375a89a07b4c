// Typed JSON field reads with field-path errors.
#include "api/json_read.h"

#include <cmath>

namespace wafer::api {

namespace json = boost::json;

namespace {
constexpr size_t kMaxJsonDepth = 64;  // tool schemas nest deeper than Boost's default 32
}

std::string field_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

std::string index_path(std::string_view parent, size_t index) {
  return fmt::format("{}[{}]", parent, index);
}

std::string_view json_type_name(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "bool";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
  }
  return "unknown";
}

Error type_error(std::string_view path, std::string_view expected, const json::value& got) {
  return field_error(path, "expected {}, got {}", expected, json_type_name(got));
}

Result<json::object> parse_json_object(std::string_view body) {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  json::value value;
  try {
    value = json::parse(body, ec, {}, options);
  } catch (const std::exception& e) {  // allocation failures
    return make_error(ErrorCode::kInvalidArgument, "body: cannot parse JSON: {}", e.what());
  }
  if (ec) {
    return make_error(ErrorCode::kInvalidArgument,
                      "body: invalid JSON ({}); send one JSON object", ec.message());
  }
  if (!value.is_object()) {
    return make_error(ErrorCode::kInvalidArgument, "body: expected a JSON object, got {}",
                      json_type_name(value));
  }
  return std::move(value.as_object());
}

const json::value* find_field(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  if (v == nullptr || v->is_null()) return nullptr;
  return v;
}

Result<std::optional<std::string>> read_string(const json::object& object, std::string_view key,
                                               std::string_view parent) {
  const json::value* v = find_field(object, key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return type_error(field_path(parent, key), "a string", *v);
  return std::optional<std::string>(std::string(v->get_string()));
}

Result<std::optional<bool>> read_bool(const json::object& object, std::string_view key,
                                      std::string_view parent) {
  const json::value* v = find_field(object, key);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_bool()) return type_error(field_path(parent, key), "a boolean", *v);
  return std::optional<bool>(v->get_bool());
}

Result<std::optional<int64_t>> read_int(const json::object& object, std::string_view key,
                                        std::string_view parent) {
  const json::value* v = find_field(object, key);
  if (v == nullptr) return std::optional<int64_t>();
  if (v->is_int64()) return std::optional<int64_t>(v->get_int64());
  if (v->is_uint64()) {
    if (v->get_uint64() > static_cast<uint64_t>(INT64_MAX)) {
      return field_error(field_path(parent, key), "integer too large");
    }
    return std::optional<int64_t>(static_cast<int64_t>(v->get_uint64()));
  }
  if (v->is_double()) {
    double d = v->get_double();
    // 2^63 is exact as a double; anything at or past it does not fit.
    if (std::isfinite(d) && d == std::floor(d) && d > -9.2e18 && d < 9.2e18) {
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
  }
  return type_error(field_path(parent, key), "an integer", *v);
}

Result<std::optional<double>> read_number(const json::object& object, std::string_view key,
                                          std::string_view parent) {
  const json::value* v = find_field(object, key);
  if (v == nullptr) return std::optional<double>();
  if (v->is_number()) return std::optional<double>(v->to_number<double>());
  return type_error(field_path(parent, key), "a number", *v);
}

std::string to_json_text(const json::value& value) { return json::serialize(value); }

}  // namespace wafer::api
