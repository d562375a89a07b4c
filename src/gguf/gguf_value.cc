// GgufValue helpers: type names and numeric views of metadata values.
#include <cmath>

#include "gguf/gguf.h"

namespace wafer {

std::string_view gguf_value_type_name(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
      return "uint8";
    case GgufValueType::kInt8:
      return "int8";
    case GgufValueType::kUint16:
      return "uint16";
    case GgufValueType::kInt16:
      return "int16";
    case GgufValueType::kUint32:
      return "uint32";
    case GgufValueType::kInt32:
      return "int32";
    case GgufValueType::kFloat32:
      return "float32";
    case GgufValueType::kBool:
      return "bool";
    case GgufValueType::kString:
      return "string";
    case GgufValueType::kArray:
      return "array";
    case GgufValueType::kUint64:
      return "uint64";
    case GgufValueType::kInt64:
      return "int64";
    case GgufValueType::kFloat64:
      return "float64";
  }
  return "unknown";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
      return true;
    default:
      return false;
  }
}

bool GgufValue::is_float() const {
  return type == GgufValueType::kFloat32 || type == GgufValueType::kFloat64;
}

namespace {

bool is_unsigned(GgufValueType type) {
  return type == GgufValueType::kUint8 || type == GgufValueType::kUint16 ||
         type == GgufValueType::kUint32 || type == GgufValueType::kUint64 ||
         type == GgufValueType::kBool;
}

}  // namespace

// Floats convert only when they hold an exact integer in int64 range: a config field
// written as 32768.0 still reads as 32768, but 0.5 is not silently truncated.
std::optional<int64_t> GgufValue::as_int() const {
  if (is_unsigned(type)) {
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (is_integer()) return i;
  if (is_float()) {
    constexpr double kTwo63 = 9223372036854775808.0;
    if (!std::isfinite(f) || f != std::trunc(f) || f < -kTwo63 || f >= kTwo63) return std::nullopt;
    return static_cast<int64_t>(f);
  }
  return std::nullopt;
}

std::optional<double> GgufValue::as_double() const {
  if (is_unsigned(type)) return static_cast<double>(u);
  if (is_integer()) return static_cast<double>(i);
  if (is_float()) return f;
  return std::nullopt;
}

}  // namespace wafer
