// GgufFile lookups: metadata and tensors by name, and typed getters that say which key
// has the wrong type instead of guessing.
#include "gguf/gguf.h"

namespace wafer {
namespace {

Error wrong_type(std::string_view key, const GgufValue& v, std::string_view expected) {
  if (v.type == GgufValueType::kArray)
    return make_error(ErrorCode::kCorrupt, "gguf: key '{}' is an array of {}, expected {}", key,
                      gguf_value_type_name(v.elem_type), expected);
  return make_error(ErrorCode::kCorrupt, "gguf: key '{}' is a {}, expected {}", key,
                    gguf_value_type_name(v.type), expected);
}

Error int_out_of_range(std::string_view key, uint64_t value) {
  return make_error(ErrorCode::kOutOfRange,
                    "gguf: key '{}' holds {}, which does not fit in an int64", key, value);
}

bool is_integer_type(GgufValueType t) {
  GgufValue probe;
  probe.type = t;
  return probe.is_integer();
}

bool is_numeric_type(GgufValueType t) {
  GgufValue probe;
  probe.type = t;
  return probe.is_integer() || probe.is_float();
}

}  // namespace

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<std::optional<std::string>> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return std::optional<std::string>();
  if (v->type != GgufValueType::kString) return wrong_type(key, *v, "a string");
  return std::optional<std::string>(v->str);
}

Result<std::optional<int64_t>> GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return std::optional<int64_t>();
  if (!v->is_integer()) return wrong_type(key, *v, "an integer");
  std::optional<int64_t> value = v->as_int();
  if (!value) return int_out_of_range(key, v->u);
  return value;
}

Result<std::optional<double>> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return std::optional<double>();
  if (!v->is_integer() && !v->is_float()) return wrong_type(key, *v, "a number");
  return v->as_double();
}

Result<std::optional<bool>> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return std::optional<bool>();
  if (v->type != GgufValueType::kBool) return wrong_type(key, *v, "a bool");
  return std::optional<bool>(v->u != 0);
}

Result<std::optional<std::vector<std::string_view>>> GgufFile::get_string_array(
    std::string_view key) const {
  using Out = std::optional<std::vector<std::string_view>>;
  const GgufValue* v = find(key);
  if (v == nullptr) return Out();
  if (v->type != GgufValueType::kArray || v->elem_type != GgufValueType::kString)
    return wrong_type(key, *v, "an array of strings");
  std::vector<std::string_view> out;
  out.reserve(v->array.size());
  for (const GgufValue& e : v->array) out.emplace_back(e.str);
  return Out(std::move(out));
}

Result<std::optional<std::vector<int64_t>>> GgufFile::get_int_array(std::string_view key) const {
  using Out = std::optional<std::vector<int64_t>>;
  const GgufValue* v = find(key);
  if (v == nullptr) return Out();
  if (v->type != GgufValueType::kArray || !is_integer_type(v->elem_type))
    return wrong_type(key, *v, "an array of integers");
  std::vector<int64_t> out;
  out.reserve(v->array.size());
  for (const GgufValue& e : v->array) {
    std::optional<int64_t> x = e.as_int();
    if (!x) return int_out_of_range(key, e.u);
    out.push_back(*x);
  }
  return Out(std::move(out));
}

Result<std::optional<std::vector<float>>> GgufFile::get_float_array(std::string_view key) const {
  using Out = std::optional<std::vector<float>>;
  const GgufValue* v = find(key);
  if (v == nullptr) return Out();
  if (v->type != GgufValueType::kArray || !is_numeric_type(v->elem_type))
    return wrong_type(key, *v, "an array of numbers");
  std::vector<float> out;
  out.reserve(v->array.size());
  for (const GgufValue& e : v->array) out.push_back(static_cast<float>(*e.as_double()));
  return Out(std::move(out));
}

}  // namespace wafer
