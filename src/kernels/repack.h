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
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.h"

namespace wafer::kernels {

constexpr size_t kRows16Group = 16;

// Whether a Q8_0 matrix of this shape can take kQ8_0Rows16.
inline bool rows16_shape_ok(DType type, size_t rows, size_t cols) {
  return type == DType::kQ8_0 && rows > 0 && cols > 0 && rows % kRows16Group == 0 && cols % 32 == 0;
}

// Writes rows [row_begin, row_end) (multiples of 16) of a kRows Q8_0 matrix into `out`,
// a buffer of rows * row_bytes bytes laid out for the whole matrix as above.
void pack_q8_0_rows16(const Matrix& w, size_t row_begin, size_t row_end, uint8_t* out);

// The file-layout bytes of blocks [block_begin, block_begin + num_blocks) of row `row` of a
// kQ8_0Rows16 matrix (34 bytes a block) into out.
void unpack_q8_0_rows16(const Matrix& w, size_t row, size_t block_begin, size_t num_blocks, uint8_t* out);

}  // namespace wafer::kernels
