// Scalar activation quantisers (the spec for the vector ones): symmetric int8 with one f32
// scale per block, max|x| / 127, so no value reaches -128.
#include "kernels/reference/act_quant_ref.h"

#include <algorithm>
#include <cmath>

namespace wafer::reference {
namespace {

// Quantises one block of n values; returns its scale.
float quantize_block(const float* x, size_t n, int8_t* qs) {
  float amax = 0.0f;
  for (size_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float d = amax / 127.0f;
  const float id = d > 0.0f ? 1.0f / d : 0.0f;
  for (size_t i = 0; i < n; ++i) {
    const float r = std::nearbyint(x[i] * id);
    qs[i] = static_cast<int8_t>(std::clamp(r, -127.0f, 127.0f));
  }
  return d;
}

}  // namespace

void quantize_q8_block32(const float* x, size_t cols, int8_t* qs, float* lane_scale,
                         int32_t* lane_neg_sum) {
  for (size_t b = 0; b < cols / 32; ++b) {
    const float d = quantize_block(x + 32 * b, 32, qs + 32 * b);
    for (size_t l = 0; l < 8; ++l) {
      const int8_t* q = qs + 32 * b + 4 * l;
      lane_scale[8 * b + l] = d;
      lane_neg_sum[8 * b + l] = -(q[0] + q[1] + q[2] + q[3]);
    }
  }
}

void quantize_q8_block256(const float* x, size_t cols, int8_t* qs, float* scale,
                          int16_t* group_sum) {
  for (size_t b = 0; b < cols / 256; ++b) scale[b] = quantize_block(x + 256 * b, 256, qs + 256 * b);
  for (size_t g = 0; g < cols / 16; ++g) {
    int sum = 0;
    for (size_t i = 0; i < 16; ++i) sum += qs[16 * g + i];
    group_sum[g] = static_cast<int16_t>(sum);
  }
}

void dequantize_q8_block32(const int8_t* qs, const float* lane_scale, size_t cols, float* out) {
  for (size_t i = 0; i < cols; ++i) out[i] = static_cast<float>(qs[i]) * lane_scale[i / 4];
}

void dequantize_q8_block256(const int8_t* qs, const float* scale, size_t cols, float* out) {
  for (size_t i = 0; i < cols; ++i) out[i] = static_cast<float>(qs[i]) * scale[i / 256];
}

}  // namespace wafer::reference
