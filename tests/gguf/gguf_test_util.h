// Test helpers: hand-built GGUF bytes (for hostile inputs the writer would refuse to make)
// and parsing from memory.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf.h"

namespace wafer::testing {

class GgufBytes {
 public:
  template <typename T>
  GgufBytes& put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
    return *this;
  }
  GgufBytes& u8(uint8_t v) { return put(v); }
  GgufBytes& u32(uint32_t v) { return put(v); }
  GgufBytes& u64(uint64_t v) { return put(v); }
  GgufBytes& raw(std::string_view s) {
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  GgufBytes& str(std::string_view s) { return u64(s.size()).raw(s); }
  GgufBytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return raw("GGUF").u32(version).u64(n_tensors).u64(n_kv);
  }
  // A key with a u32 value.
  GgufBytes& kv_u32(std::string_view key, uint32_t v) {
    return str(key).u32(static_cast<uint32_t>(GgufValueType::kUint32)).u32(v);
  }
  GgufBytes& kv_string(std::string_view key, std::string_view v) {
    return str(key).u32(static_cast<uint32_t>(GgufValueType::kString)).str(v);
  }
  // A tensor info: name, dims, type id, offset.
  GgufBytes& tensor(std::string_view name, const std::vector<uint64_t>& shape, uint32_t type,
                    uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(shape.size()));
    for (uint64_t ne : shape) u64(ne);
    return u32(type).u64(offset);
  }
  GgufBytes& pad_to(size_t alignment) {
    while (bytes_.size() % alignment != 0) bytes_.push_back(0);
    return *this;
  }
  GgufBytes& zeros(size_t n) {
    bytes_.resize(bytes_.size() + n, 0);
    return *this;
  }
  size_t size() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

inline Result<std::unique_ptr<GgufFile>> parse_bytes(const std::vector<uint8_t>& bytes) {
  return GgufFile::parse(MappedFile::borrow(bytes));
}

// The error message of parsing `bytes`; fails the test when parsing succeeds.
inline std::string parse_error(const std::vector<uint8_t>& bytes,
                               ErrorCode expected_code = ErrorCode::kCorrupt) {
  auto r = parse_bytes(bytes);
  if (r.ok()) {
    ADD_FAILURE() << "parse succeeded, expected an error";
    return "";
  }
  EXPECT_EQ(static_cast<int>(r.error().code), static_cast<int>(expected_code)) << r.error().message;
  return r.error().message;
}

inline std::string shared_path(std::string_view rel) {
  return std::string(WAFER_SHARED_DIR) + "/" + std::string(rel);
}

}  // namespace wafer::testing
