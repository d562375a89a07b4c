// GgufWriter: emits GGUF v3 (little-endian) to memory or streamed to a file, so writing a
// large model does not hold a second copy of its tensors.
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/check.h"
#include "gguf/gguf.h"
#include "gguf/gguf_format.h"

namespace wafer {

static_assert(std::endian::native == std::endian::little, "GGUF is little-endian");

// Where emit() sends bytes: a vector, or a file through stdio's buffer. A file error is
// remembered (the first one) rather than stopping the emitter.
class GgufWriter::Sink {
 public:
  explicit Sink(std::vector<uint8_t>* out) : out_(out) {}
  explicit Sink(std::FILE* f) : file_(f) {}
  int error() const { return error_; }
  uint64_t offset() const { return offset_; }

  void append(const void* data, size_t n) {
    if (n == 0) return;
    offset_ += n;
    if (out_ != nullptr) {
      const auto* p = static_cast<const uint8_t*>(data);
      out_->insert(out_->end(), p, p + n);
    } else if (error_ == 0 && std::fwrite(data, 1, n, file_) != n) {
      error_ = errno ? errno : EIO;
    }
  }
  template <typename T>
  void put(T v) {
    append(&v, sizeof(T));
  }
  void put_string(std::string_view s) {
    put<uint64_t>(s.size());
    append(s.data(), s.size());
  }
  void pad_to(uint64_t alignment) {
    static constexpr uint8_t kZeros[256] = {};
    uint64_t pad = (alignment - offset_ % alignment) % alignment;
    while (pad > 0) {
      const uint64_t n = pad < sizeof(kZeros) ? pad : sizeof(kZeros);
      append(kZeros, n);
      pad -= n;
    }
  }
  void put_value(const GgufValue& v);

 private:
  std::vector<uint8_t>* out_ = nullptr;
  std::FILE* file_ = nullptr;
  int error_ = 0;
  uint64_t offset_ = 0;
};

void GgufWriter::Sink::put_value(const GgufValue& v) {
  switch (v.type) {
    case GgufValueType::kUint8:
      put(static_cast<uint8_t>(v.u));
      return;
    case GgufValueType::kInt8:
      put(static_cast<int8_t>(v.i));
      return;
    case GgufValueType::kUint16:
      put(static_cast<uint16_t>(v.u));
      return;
    case GgufValueType::kInt16:
      put(static_cast<int16_t>(v.i));
      return;
    case GgufValueType::kUint32:
      put(static_cast<uint32_t>(v.u));
      return;
    case GgufValueType::kInt32:
      put(static_cast<int32_t>(v.i));
      return;
    case GgufValueType::kUint64:
      put(v.u);
      return;
    case GgufValueType::kInt64:
      put(v.i);
      return;
    case GgufValueType::kFloat32:
      put(static_cast<float>(v.f));
      return;
    case GgufValueType::kFloat64:
      put(v.f);
      return;
    case GgufValueType::kBool:
      put(static_cast<uint8_t>(v.u != 0));
      return;
    case GgufValueType::kString:
      put_string(v.str);
      return;
    case GgufValueType::kArray:
      put(static_cast<uint32_t>(v.elem_type));
      put<uint64_t>(v.array.size());
      for (const GgufValue& e : v.array) {
        WAFER_CHECK(e.type == v.elem_type, "array element is a {}, the array holds {}",
                    gguf_value_type_name(e.type), gguf_value_type_name(v.elem_type));
        put_value(e);
      }
      return;
  }
  WAFER_CHECK(false, "unknown GgufValueType {}", static_cast<uint32_t>(v.type));
}

namespace {

GgufValue scalar(GgufValueType type) {
  GgufValue v;
  v.type = type;
  return v;
}

GgufValue array_of(GgufValueType elem_type, size_t count) {
  GgufValue v = scalar(GgufValueType::kArray);
  v.elem_type = elem_type;
  v.array.resize(count);
  for (GgufValue& e : v.array) e.type = elem_type;
  return v;
}

}  // namespace

void GgufWriter::set(std::string key, GgufValue value) {
  WAFER_CHECK(is_valid_name(key), "invalid GGUF key '{}'", escape_name(key));
  for (auto& [k, v] : kv_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  kv_.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::set_string(std::string key, std::string value) {
  GgufValue v = scalar(GgufValueType::kString);
  v.str = std::move(value);
  set(std::move(key), std::move(v));
}

void GgufWriter::set_u32(std::string key, uint32_t value) {
  GgufValue v = scalar(GgufValueType::kUint32);
  v.u = value;
  set(std::move(key), std::move(v));
}

void GgufWriter::set_i32(std::string key, int32_t value) {
  GgufValue v = scalar(GgufValueType::kInt32);
  v.i = value;
  set(std::move(key), std::move(v));
}

void GgufWriter::set_f32(std::string key, float value) {
  GgufValue v = scalar(GgufValueType::kFloat32);
  v.f = value;
  set(std::move(key), std::move(v));
}

void GgufWriter::set_bool(std::string key, bool value) {
  GgufValue v = scalar(GgufValueType::kBool);
  v.u = value ? 1 : 0;
  set(std::move(key), std::move(v));
}

void GgufWriter::set_string_array(std::string key, const std::vector<std::string>& values) {
  GgufValue v = array_of(GgufValueType::kString, values.size());
  for (size_t i = 0; i < values.size(); ++i) v.array[i].str = values[i];
  set(std::move(key), std::move(v));
}

void GgufWriter::set_i32_array(std::string key, const std::vector<int32_t>& values) {
  GgufValue v = array_of(GgufValueType::kInt32, values.size());
  for (size_t i = 0; i < values.size(); ++i) v.array[i].i = values[i];
  set(std::move(key), std::move(v));
}

void GgufWriter::set_f32_array(std::string key, const std::vector<float>& values) {
  GgufValue v = array_of(GgufValueType::kFloat32, values.size());
  for (size_t i = 0; i < values.size(); ++i) v.array[i].f = values[i];
  set(std::move(key), std::move(v));
}

void GgufWriter::copy_metadata(const GgufFile& src, std::string_view prefix) {
  for (const auto& [key, value] : src.metadata())
    if (key.starts_with(prefix)) set(key, value);
}

void GgufWriter::add_tensor(std::string name, DType type, std::vector<uint64_t> shape,
                            std::vector<uint8_t> data) {
  WAFER_CHECK(is_valid_name(name), "invalid GGUF tensor name '{}'", escape_name(name));
  for (const Tensor& t : tensors_) WAFER_CHECK(t.name != name, "tensor '{}' added twice", name);
  const DTypeTraits* tr = dtype_traits(static_cast<uint32_t>(type));
  WAFER_CHECK(tr != nullptr, "tensor '{}': unknown type {}", name, static_cast<uint32_t>(type));
  WAFER_CHECK(!shape.empty() && shape.size() <= kMaxDims, "tensor '{}': {} dimensions", name,
              shape.size());
  uint64_t elements = 1;
  for (uint64_t ne : shape) {
    WAFER_CHECK(ne > 0 && !__builtin_mul_overflow(elements, ne, &elements),
                "tensor '{}': bad dimension {}", name, ne);
  }
  WAFER_CHECK(shape[0] % tr->block_elems == 0, "tensor '{}': ne[0] {} is not a multiple of {}",
              name, shape[0], tr->block_elems);
  const uint64_t bytes = elements / tr->block_elems * tr->block_bytes;
  WAFER_CHECK(data.size() == bytes, "tensor '{}': {} bytes of data, its shape needs {}", name,
              data.size(), bytes);
  tensors_.push_back(Tensor{std::move(name), type, std::move(shape), std::move(data)});
}

// general.alignment wins when set (it is what readers honour); otherwise the constructor's.
uint64_t GgufWriter::effective_alignment() const {
  uint64_t alignment = alignment_;
  for (const auto& [key, value] : kv_) {
    if (key != kAlignmentKey) continue;
    WAFER_CHECK(value.type == GgufValueType::kUint32, "'{}' must be a uint32", kAlignmentKey);
    alignment = value.u;
  }
  WAFER_CHECK(alignment > 0 && alignment <= UINT32_MAX && (alignment & (alignment - 1)) == 0,
              "GGUF alignment {} is not a power of two", alignment);
  return alignment;
}

void GgufWriter::emit(Sink& sink) const {
  const uint64_t alignment = effective_alignment();
  bool has_alignment_key = false;
  for (const auto& kv : kv_) has_alignment_key |= kv.first == kAlignmentKey;
  // A non-default alignment must be recorded, or readers would look for data at 32.
  const bool add_alignment_key = !has_alignment_key && alignment != kDefaultAlignment;

  sink.append("GGUF", 4);
  sink.put<uint32_t>(kGgufVersion);
  sink.put<uint64_t>(tensors_.size());
  sink.put<uint64_t>(kv_.size() + (add_alignment_key ? 1 : 0));
  for (const auto& [key, value] : kv_) {
    sink.put_string(key);
    sink.put(static_cast<uint32_t>(value.type));
    sink.put_value(value);
  }
  if (add_alignment_key) {
    sink.put_string(kAlignmentKey);
    sink.put(static_cast<uint32_t>(GgufValueType::kUint32));
    sink.put(static_cast<uint32_t>(alignment));
  }

  uint64_t offset = 0;  // relative to the data section
  for (const Tensor& t : tensors_) {
    offset = (offset + alignment - 1) / alignment * alignment;
    sink.put_string(t.name);
    sink.put(static_cast<uint32_t>(t.shape.size()));
    for (uint64_t ne : t.shape) sink.put(ne);
    sink.put(static_cast<uint32_t>(t.type));
    sink.put(offset);
    offset += t.data.size();
  }

  // The data section starts aligned (the first tensor's padding puts it there); there is no
  // padding after the last tensor, so the file ends where its data does.
  for (const Tensor& t : tensors_) {
    sink.pad_to(alignment);
    sink.append(t.data.data(), t.data.size());
  }
}

std::vector<uint8_t> GgufWriter::serialize() const {
  std::vector<uint8_t> out;
  Sink sink(&out);
  emit(sink);
  return out;
}

Status GgufWriter::write(const std::string& path) const {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr)
    return make_error(ErrorCode::kIo, "cannot create '{}': {}", path, std::strerror(errno));
  Sink sink(f);
  emit(sink);
  int err = sink.error();
  if (std::fclose(f) != 0 && err == 0) err = errno ? errno : EIO;
  if (err != 0) {
    std::remove(path.c_str());
    return make_error(ErrorCode::kIo, "cannot write '{}': {}", path, std::strerror(err));
  }
  return {};
}

}  // namespace wafer
