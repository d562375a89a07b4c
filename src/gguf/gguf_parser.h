// Internal to src/gguf: bounds-checked decoding of the GGUF header, names and metadata
// values. Every read is checked; a count or length is checked against the bytes left
// before anything is allocated for it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "gguf/gguf.h"

namespace wafer::gguf_detail {

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  uint64_t pos() const { return pos_; }
  uint64_t size() const { return bytes_.size(); }
  uint64_t remaining() const { return bytes_.size() - pos_; }
  std::string_view head(uint64_t n) const {
    return {reinterpret_cast<const char*>(bytes_.data()), std::min<uint64_t>(n, bytes_.size())};
  }

  template <typename T>
  bool read(T* out) {
    if (remaining() < sizeof(T)) return false;
    std::memcpy(out, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  // The caller has checked n <= remaining().
  std::string_view take(uint64_t n) {
    std::string_view s(reinterpret_cast<const char*>(bytes_.data()) + pos_, n);
    pos_ += n;
    return s;
  }

 private:
  std::span<const uint8_t> bytes_;
  uint64_t pos_ = 0;
};

// Where a metadata value sits, for error messages; formatted only on failure.
struct ValueSite {
  std::string_view key;
  bool in_array = false;
  uint64_t element = 0;
  std::string str() const {
    return in_array ? fmt::format("key '{}' (array element {})", key, element)
                    : fmt::format("key '{}'", key);
  }
};

// Decodes a GGUF byte stream front to back; errors name the key or tensor at fault.
class GgufParser {
 public:
  explicit GgufParser(std::span<const uint8_t> bytes) : r_(bytes) {}
  const ByteReader& reader() const { return r_; }

  Status parse_header(uint32_t* version, uint64_t* n_tensors, uint64_t* n_kv);
  // Reads a length-prefixed key or tensor name; `what` is "metadata entry" or "tensor info".
  Status read_name(std::string_view what, uint64_t index, uint64_t count, std::string_view* out);
  Status read_type(const ValueSite& site, uint32_t* type);
  Status parse_value(uint32_t type, int depth, const ValueSite& site, GgufValue* out);
  template <typename T>
  Status read_field(std::string_view tensor, std::string_view field, T* out) {
    if (r_.read(out)) return {};
    return truncated(fmt::format("tensor '{}'", tensor), field, sizeof(T));
  }

 private:
  Status parse_array(int depth, const ValueSite& site, GgufValue* out);
  Status read_string(const ValueSite& site, std::string* out);
  // Reads a little-endian Raw and widens it into the value's field.
  template <typename Raw, typename Field>
  Status read_into(const ValueSite& site, uint32_t type, Field* field) {
    Raw raw;
    if (!r_.read(&raw))
      return truncated(site.str(), gguf_value_type_name(static_cast<GgufValueType>(type)),
                       sizeof(Raw));
    *field = raw;
    return {};
  }
  // For arrays whose byte size the caller has already checked against the bytes left.
  template <typename Raw, typename Field>
  void fill_scalars(GgufValueType type, Field GgufValue::*field, GgufValue* out) {
    for (GgufValue& e : out->array) {
      Raw raw{};
      r_.read(&raw);
      e.type = type;
      e.*field = raw;
    }
  }
  Error truncated(std::string_view where, std::string_view what, uint64_t need) const {
    return make_error(ErrorCode::kCorrupt,
                      "gguf: {}: the {} needs {} bytes at offset {} but only {} remain (file "
                      "size {}); the file is truncated or corrupt",
                      where, what, need, r_.pos(), r_.remaining(), r_.size());
  }

  ByteReader r_;
  uint64_t array_elements_ = 0;  // across the whole file, against kMaxArrayElements
};

}  // namespace wafer::gguf_detail
