// GGUF files (v2, v3): metadata key/values and a tensor table over a mapped file.
// GgufFile::parse validates everything it returns, so later code may trust shapes,
// offsets and sizes; a hostile file yields an Error naming the key or tensor at fault.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/dtype.h"
#include "base/result.h"
#include "gguf/mapped_file.h"

namespace wafer {

enum class GgufValueType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5, kFloat32 = 6,
  kBool = 7, kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};
std::string_view gguf_value_type_name(GgufValueType type);

// One metadata value. Scalars live in the matching field; arrays hold their element type
// and elements (which may themselves be arrays).
struct GgufValue {
  GgufValueType type = GgufValueType::kUint8;
  uint64_t u = 0;   // unsigned integer types and bool
  int64_t i = 0;    // signed integer types
  double f = 0.0;   // float32, float64
  std::string str;  // string
  GgufValueType elem_type = GgufValueType::kUint8;  // array element type
  std::vector<GgufValue> array;                     // array elements

  bool is_integer() const;
  bool is_float() const;
  // Numeric value of any integer, float or bool type (nullopt for strings/arrays).
  std::optional<int64_t> as_int() const;
  std::optional<double> as_double() const;
};

struct GgufTensorInfo {
  std::string name;
  DType type = DType::kF32;
  std::vector<uint64_t> shape;  // ne[0] is the contiguous (row) dimension, as in ggml
  uint64_t offset = 0;          // relative to the data section
  uint64_t num_elements = 0;
  uint64_t num_bytes = 0;
  const uint8_t* data = nullptr;  // points into the mapping
};

class GgufFile {
 public:
  // Maps and parses a file. Errors name the key or tensor at fault.
  static Result<std::unique_ptr<GgufFile>> open(const std::string& path);
  // Parses bytes kept alive by `file` (which the GgufFile takes over).
  static Result<std::unique_ptr<GgufFile>> parse(MappedFile file);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }

  const GgufValue* find(std::string_view key) const;
  const GgufTensorInfo* find_tensor(std::string_view name) const;

  // Typed lookups: nullopt when the key is absent; an Error when present with a wrong type.
  Result<std::optional<std::string>> get_string(std::string_view key) const;
  Result<std::optional<int64_t>> get_int(std::string_view key) const;
  Result<std::optional<double>> get_float(std::string_view key) const;
  Result<std::optional<bool>> get_bool(std::string_view key) const;
  // An array of strings (e.g. tokenizer.ggml.tokens); Error if any element is not a string.
  Result<std::optional<std::vector<std::string_view>>> get_string_array(std::string_view key) const;
  Result<std::optional<std::vector<int64_t>>> get_int_array(std::string_view key) const;
  Result<std::optional<std::vector<float>>> get_float_array(std::string_view key) const;

 private:
  GgufFile() = default;
  MappedFile file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// Builds a GGUF v3 file: metadata in insertion order, tensors aligned to `alignment`.
// A u32 `general.alignment` key, when set, overrides `alignment`; a non-default alignment
// without the key gets the key written, so readers find the data. Misuse (bad names, data
// size not matching the shape, duplicate tensors) is a bug: WAFER_CHECK.
class GgufWriter {
 public:
  explicit GgufWriter(uint64_t alignment = 32) : alignment_(alignment) {}

  void set(std::string key, GgufValue value);  // replaces an existing key
  void set_string(std::string key, std::string value);
  void set_u32(std::string key, uint32_t value);
  void set_i32(std::string key, int32_t value);
  void set_f32(std::string key, float value);
  void set_bool(std::string key, bool value);
  void set_string_array(std::string key, const std::vector<std::string>& values);
  void set_i32_array(std::string key, const std::vector<int32_t>& values);
  void set_f32_array(std::string key, const std::vector<float>& values);
  // Copies every metadata key of `src` whose name starts with `prefix`.
  void copy_metadata(const GgufFile& src, std::string_view prefix);

  // shape as in GgufTensorInfo (ne[0] first); data must be row_bytes-consistent with type.
  void add_tensor(std::string name, DType type, std::vector<uint64_t> shape,
                  std::vector<uint8_t> data);

  Status write(const std::string& path) const;
  std::vector<uint8_t> serialize() const;

 private:
  class Sink;  // where emit() sends bytes: memory or a file (gguf_writer.cc)
  void emit(Sink& sink) const;
  uint64_t effective_alignment() const;

  struct Tensor {
    std::string name;
    DType type;
    std::vector<uint64_t> shape;
    std::vector<uint8_t> data;
  };
  uint64_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace wafer
