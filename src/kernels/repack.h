// WeightLayout::kQ8_0Rows16: Q8_0 rows in groups of 16 so one 64-byte load holds four
// consecutive weights of 16 rows, which is what vpdpbusd with a broadcast activation word
// multiplies. The matrix-vector kernel then needs no horizontal sums and its per-token work
// per block is 8 dot instructions for 16 rows instead of 8 for 2 (decision 0010).
//
// For a [rows, cols] matrix, rows a multiple of 16, nb = cols / 32 blocks a row, group
// g = r / 16, lane = r % 16, block b:
//   quants at data + (g * nb + b) * 512: 8 chunks of 64 bytes; chunk j holds weights
//     4j..4j+3 of the block for lanes 0..15 (lane l at bytes 4l..4l+3), each as q + 128
//     (an unsigned byte: vpdpbusd's unsigned operand);
//   scales at data + (rows / 16) * nb * 512 + (g * nb + b) * 32: the 16 lanes' f16 scales.
// Same size as the file's layout; every op reads either.
//
// WeightLayout::kQ4_KRows16, the same idea for Q4_K (256-weight super-blocks of 144 bytes;
// ns = cols / 256): super-block s of group g is 2304 bytes at data + (g * ns + s) * 2304:
//   [0, 32) the 16 lanes' f16 d, [32, 64) their f16 dmin,
//   [64, 128), [128, 192), [192, 256): bytes 0-3, 4-7 and 8-11 of each lane's 12 packed
//     6-bit scales and mins, as one 32-bit word a lane (decoded for all 16 lanes at once);
//   [256, 2304): sub-block j (32 weights) in 4 chunks of 64 bytes; chunk c holds, for lane
//     l at bytes 4l..4l+3, weights 8c..8c+3 of the sub-block in the low nibbles and
//     8c+4..8c+7 in the high ones (a mask and a shift give vpdpbusd's two operands).
//
// WeightLayout::kQ5_0Rows16 (22-byte blocks of 32 weights; nb = cols / 32), in three regions:
//   nibbles at data + (g * nb + b) * 256: 4 chunks of 64 bytes, chunk c holding weights
//     8c..8c+3 (low nibbles) and 8c+4..8c+7 (high) of lane l at bytes 4l..4l+3;
//   high bits at data + G * nb * 256 + (g * nb + b) * 64 (G = rows / 16): 8 64-bit masks;
//     bit j of mask 2c (2c + 1) is the fifth bit of byte j's low (high) nibble in chunk c,
//     so mask m holds nibble m of every lane's qh word, lane l at bits 4l..4l+3 (one kmov
//     and one masked add a chunk's half); a group's rows are packed by one thread;
//   scales at data + G * nb * 320 + (g * nb + b) * 32: the 16 lanes' f16 d.
//
// WeightLayout::kQ6_KRows16 (210-byte super-blocks of 256 weights, each a 6-bit q in 0..63
// standing for d x scale[e / 16] x (q - 32); ns = cols / 256), in two regions:
//   super-block s of group g at data + (g * ns + s) * 3328 (52 whole lines):
//     [0, 256): the lanes' 16 int8 scales in 4 chunks; chunk k holds scales 4k..4k+3 of
//       lane l at bytes 4l..4l+3;
//     [256, 3328): sub-block j (weights 16j..16j+15, one scale) in 192 bytes: two nibble
//       chunks, chunk c holding the low 4 bits of weights 8c..8c+3 (low nibbles) and
//       8c+4..8c+7 (high) of lane l at bytes 4l..4l+3; then one chunk of top bits, byte i
//       of lane l holding those of weights i, 4 + i, 8 + i and 12 + i in bits 0-1, 2-3,
//       4-5 and 6-7 (a shift and a mask put each at bits 4-5 of its nibble's byte);
//   d at data + G * ns * 3328 + (g * ns + s) * 32: the 16 lanes' f16 d.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.h"

namespace wafer::kernels {

constexpr size_t kRows16Group = 16;

// The 16-row layout of a weight type, or kRows where it has none.
inline WeightLayout rows16_layout(DType type) {
  return type == DType::kQ8_0   ? WeightLayout::kQ8_0Rows16
         : type == DType::kQ4_K ? WeightLayout::kQ4_KRows16
         : type == DType::kQ5_0 ? WeightLayout::kQ5_0Rows16
         : type == DType::kQ6_K ? WeightLayout::kQ6_KRows16
                                : WeightLayout::kRows;
}

// Whether a matrix of this type and shape can take its 16-row layout.
inline bool rows16_shape_ok(DType type, size_t rows, size_t cols) {
  return rows16_layout(type) != WeightLayout::kRows && rows > 0 && cols > 0 && rows % kRows16Group == 0 &&
         cols % traits(type).block_elems == 0;
}

// Writes rows [row_begin, row_end) (multiples of 16) of a kRows Q8_0 matrix into `out`,
// a buffer of rows * row_bytes bytes laid out for the whole matrix as above.
void pack_q8_0_rows16(const Matrix& w, size_t row_begin, size_t row_end, uint8_t* out);

// The file-layout bytes of blocks [block_begin, block_begin + num_blocks) of row `row` of a
// kQ8_0Rows16 matrix (34 bytes a block) into out.
void unpack_q8_0_rows16(const Matrix& w, size_t row, size_t block_begin, size_t num_blocks, uint8_t* out);

// The same two for Q5_0 and kQ5_0Rows16 (22 bytes a block).
void pack_q5_0_rows16(const Matrix& w, size_t row_begin, size_t row_end, uint8_t* out);
void unpack_q5_0_rows16(const Matrix& w, size_t row, size_t block_begin, size_t num_blocks, uint8_t* out);

// The same two for Q4_K and kQ4_KRows16 (144 bytes a super-block).
void pack_q4_k_rows16(const Matrix& w, size_t row_begin, size_t row_end, uint8_t* out);
void unpack_q4_k_rows16(const Matrix& w, size_t row, size_t block_begin, size_t num_blocks, uint8_t* out);

// The same two for Q6_K and kQ6_KRows16 (210 bytes a super-block).
void pack_q6_k_rows16(const Matrix& w, size_t row_begin, size_t row_end, uint8_t* out);
void unpack_q6_k_rows16(const Matrix& w, size_t row, size_t block_begin, size_t num_blocks, uint8_t* out);

// Whichever of the above the type takes; blocks are the type's (32 or 256 weights).
void pack_rows16(const Matrix& w, size_t row_begin, size_t row_end, uint8_t* out);
void unpack_rows16(const Matrix& w, size_t row, size_t block_begin, size_t num_blocks, uint8_t* out);

}  // namespace wafer::kernels
