// Scalar activation quantisers: the spec the AVX2/AVX-512 ones match bit for bit
// (layouts in kernel_table.h's Activations; rounding is round-half-to-even, as the vector
// conversion instructions do under the default MXCSR).
#pragma once

#include <cstddef>
#include <cstdint>

namespace wafer::reference {

void quantize_q8_block32(const float* x, size_t cols, int8_t* qs, float* lane_scale,
                         int32_t* lane_neg_sum);
void quantize_q8_block256(const float* x, size_t cols, int8_t* qs, float* scale,
                          int16_t* group_sum);

// The float values quantised activations stand for: out[i] = qs[i] * (block scale).
void dequantize_q8_block32(const int8_t* qs, const float* lane_scale, size_t cols, float* out);
void dequantize_q8_block256(const int8_t* qs, const float* scale, size_t cols, float* out);

}  // namespace wafer::reference
