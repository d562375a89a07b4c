// Python-style JSON serialisation (json.dumps with ensure_ascii=False).
#include "api/python_json.h"

#include <cmath>

#include <fmt/core.h>

namespace wafer::api {

namespace json = boost::json;

namespace {

void append_string(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          *out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void append_double(double d, std::string* out) {
  if (std::isnan(d)) { *out += "NaN"; return; }
  if (std::isinf(d)) { *out += d > 0 ? "Infinity" : "-Infinity"; return; }
  if (d == std::floor(d) && std::fabs(d) < 1e16) {
    *out += fmt::format("{:.1f}", d);  // Python's repr: 3.0
    return;
  }
  *out += fmt::format("{}", d);  // shortest round-trip form, as Python's repr
}

}  // namespace

void append_python_json(const json::value& value, std::string* out) {
  switch (value.kind()) {
    case json::kind::null: *out += "null"; return;
    case json::kind::bool_: *out += value.get_bool() ? "true" : "false"; return;
    case json::kind::int64: *out += fmt::format("{}", value.get_int64()); return;
    case json::kind::uint64: *out += fmt::format("{}", value.get_uint64()); return;
    case json::kind::double_: append_double(value.get_double(), out); return;
    case json::kind::string: append_string(value.get_string(), out); return;
    case json::kind::array: {
      out->push_back('[');
      bool first = true;
      for (const json::value& v : value.get_array()) {
        if (!first) *out += ", ";
        first = false;
        append_python_json(v, out);
      }
      out->push_back(']');
      return;
    }
    case json::kind::object: {
      out->push_back('{');
      bool first = true;
      for (const json::key_value_pair& kv : value.get_object()) {
        if (!first) *out += ", ";
        first = false;
        append_string(kv.key(), out);
        *out += ": ";
        append_python_json(kv.value(), out);
      }
      out->push_back('}');
      return;
    }
  }
}

std::string python_json(const json::value& value) {
  std::string out;
  append_python_json(value, &out);
  return out;
}

}  // namespace wafer::api
