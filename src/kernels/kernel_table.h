// The kernels one instruction-set level provides, as plain functions over raw pointers and
// plain structs. The files built with AVX2/AVX-512 flags include only this header (and
// intrinsics), so no shared inline or template code is ever compiled with instructions
// the running CPU may lack.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/dtype.h"

namespace wafer::kernels {

enum class Isa { kReference = 0, kAvx2 = 1, kAvx512 = 2, kAmx = 3 };

// A weight matrix as the kernels read it: `rows` rows of `cols` elements of `type`,
// row r at data + r * row_bytes.
struct Matrix {
  DType type = DType::kF32;
  size_t rows = 0;
  size_t cols = 0;
  size_t row_bytes = 0;
  const uint8_t* data = nullptr;
  WeightLayout layout = WeightLayout::kRows;
};

// How a weight type wants its activations: as floats, or quantised to int8 in blocks of
// 32 (q8_0, q4_0, q5_0) or 256 (k-quants). Chosen by weight type, the same on every level.
enum class ActFormat { kFloat, kQ8Block32, kQ8Block256 };
ActFormat act_format(DType weight_type);

// Activations of num_tokens tokens, prepared once per matmul call. Token t's data starts at
// t * (per-token length) in each array. Quantised values q = round_even(x / scale),
// scale = max|x| of the block / 127, so |q| <= 127.
//   kFloat:      x           [T][cols]
//   kQ8Block32:  qs          [T][cols]      int8
//                lane_scale  [T][cols / 4]  the block's scale, once for every 4 qs
//                lane_neg_sum[T][cols / 4]  -(sum of each 4 consecutive qs)
//   kQ8Block256: qs          [T][cols]
//                scale       [T][cols / 256]
//                group_sum   [T][cols / 16] sum of each 16 consecutive qs
// and for weights in WeightLayout::kQ8_0Rows16 or kQ5_0Rows16, besides kQ8Block32's arrays:
//                block_neg_sum128 [T][cols / 32]  -128 * (sum of the block's 32 qs)
struct Activations {
  size_t cols = 0;
  const float* x = nullptr;
  const int8_t* qs = nullptr;
  const float* lane_scale = nullptr;
  const int32_t* lane_neg_sum = nullptr;
  const float* scale = nullptr;
  const int16_t* group_sum = nullptr;
  const int32_t* block_neg_sum128 = nullptr;
};

// y[t * w.rows + r] = dot(row r of w, activations of token t), r in [row_begin, row_end),
// t < num_tokens. Called concurrently on disjoint row ranges.
using MatvecFn = void (*)(const Matrix& w, size_t row_begin, size_t row_end,
                          const Activations& act, size_t num_tokens, float* y);

// One token's activations quantised for kQ8Block32 / kQ8Block256 (cols a multiple of the
// block); outputs as in Activations.
using QuantizeQ8Block32Fn = void (*)(const float* x, size_t cols, int8_t* qs, float* lane_scale,
                                     int32_t* lane_neg_sum);
using QuantizeQ8Block256Fn = void (*)(const float* x, size_t cols, int8_t* qs, float* scale,
                                      int16_t* group_sum);

// Decodes elements [col_begin, col_begin + n) of row `row` to floats; col_begin and n are
// multiples of the type's block size.
using DequantizeFn = void (*)(const Matrix& w, size_t row, size_t col_begin, size_t n, float* out);

// Element-wise ops, as in ops.h.
using RmsNormFn = void (*)(const float* x, const float* weight, float eps, size_t n, float* out);
using SiluMulFn = void (*)(const float* gate, const float* up, size_t n, float* out);

// Matrix-matrix products on packed panels (see amx_gemm.h): AMX tiles or AVX-512 BF16, or
// exact f32 panels on AVX2; null on the reference level.
struct GemmKernels;

// Index of a runnable weight type in MatvecFn tables.
enum WeightSlot { kSlotF32, kSlotF16, kSlotBF16, kSlotQ8_0, kSlotQ4_0, kSlotQ5_0, kSlotQ4_K,
                  kSlotQ5_K, kSlotQ6_K, kNumWeightSlots };
// -1 for types wafer cannot run.
int weight_slot(DType type);

struct KernelTable {
  Isa isa = Isa::kReference;
  const char* name = "reference";
  QuantizeQ8Block32Fn quantize_q8_block32 = nullptr;
  QuantizeQ8Block256Fn quantize_q8_block256 = nullptr;
  MatvecFn matvec[kNumWeightSlots] = {};
  DequantizeFn dequantize = nullptr;
  RmsNormFn rms_norm = nullptr;
  SiluMulFn silu_mul = nullptr;
  const GemmKernels* gemm = nullptr;
  // Q8_0 weights in WeightLayout::kQ8_0Rows16; row_begin and row_end multiples of 16.
  // Null where the level keeps Q8_0 in the file's layout.
  MatvecFn matvec_q8_0_rows16 = nullptr;
  // Q4_K weights in WeightLayout::kQ4_KRows16 (kQ8Block256 activations); likewise.
  MatvecFn matvec_q4_k_rows16 = nullptr;
  // Q5_0 weights in WeightLayout::kQ5_0Rows16 (kQ8Block32 activations with block sums).
  MatvecFn matvec_q5_0_rows16 = nullptr;
  // Q6_K weights in WeightLayout::kQ6_KRows16 (kQ8Block256 activations).
  MatvecFn matvec_q6_k_rows16 = nullptr;
};

}  // namespace wafer::kernels
