// Tensor element types as GGUF numbers them (ggml's type ids), with their block layout.
// The file format defines these; quant/ implements the codecs for the ones wafer runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wafer {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kBF16 = 30,
};

// How a weight matrix's bytes are laid out. kRows is the file's: row after row, each row
// its blocks in order. kQ8_0Rows16 is what the AVX-512 matrix-vector kernel reads fastest
// (kernels/repack.h): Q8_0 rows in groups of 16, each block's 16 rows interleaved;
// kQ4_KRows16, kQ5_0Rows16 and kQ6_KRows16 the same for Q4_K super-blocks, Q5_0 blocks and
// Q6_K super-blocks.
enum class WeightLayout : uint8_t { kRows, kQ8_0Rows16, kQ4_KRows16, kQ5_0Rows16, kQ6_KRows16 };

struct DTypeTraits {
  std::string_view name;  // "f32", "q4_K", ...: as llama.cpp prints them
  uint32_t block_elems;   // elements per block (1 for plain types)
  uint32_t block_bytes;   // bytes per block
};

// Traits of a GGUF type id; nullptr for ids wafer does not know (the file is then rejected).
const DTypeTraits* dtype_traits(uint32_t id);
inline const DTypeTraits& traits(DType t) { return *dtype_traits(static_cast<uint32_t>(t)); }
std::string_view dtype_name(DType t);

// Bytes a row of n elements takes; n must be a multiple of the block size.
inline size_t row_bytes(DType t, size_t n) {
  const DTypeTraits& tr = traits(t);
  return n / tr.block_elems * tr.block_bytes;
}

}  // namespace wafer
