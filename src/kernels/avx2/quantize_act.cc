// AVX2 activation quantisers: int8 blocks of 32 or 256 with an f32 scale, bit-exact with
// reference/act_quant_ref.cc (round half to even via the default MXCSR mode).
#include "kernels/avx2/kernels.h"
#include "kernels/avx2/simd.h"

namespace wafer::kernels::avx2 {
namespace {

float abs_max(const float* x, size_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 m = _mm256_setzero_ps();
  for (size_t i = 0; i < n; i += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

struct BlockScale {
  float d;
  float id;
};
BlockScale block_scale(float amax) {
  const float d = amax / 127.0f;
  return {d, d > 0.0f ? 1.0f / d : 0.0f};
}

// 32 floats to 32 int8 in element order (|q| <= 127).
__m256i quantize32(const float* x, __m256 id) {
  __m256i q[4];
  for (int i = 0; i < 4; ++i) q[i] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * i), id));
  // packs interleave 128-bit lanes: [0a 1a 0b 1b] then [0a 1a 2a 3a 0b 1b 2b 3b] by 4 bytes.
  const __m256i w01 = _mm256_packs_epi32(q[0], q[1]);
  const __m256i w23 = _mm256_packs_epi32(q[2], q[3]);
  const __m256i b = _mm256_packs_epi16(w01, w23);
  const __m256i ordered = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  return _mm256_max_epi8(ordered, _mm256_set1_epi8(-127));
}

}  // namespace

void quantize_q8_block32(const float* x, size_t cols, int8_t* qs, float* lane_scale,
                         int32_t* lane_neg_sum) {
  for (size_t b = 0; b < cols / 32; ++b, x += 32, qs += 32) {
    const BlockScale s = block_scale(abs_max(x, 32));
    const __m256i q = quantize32(x, _mm256_set1_ps(s.id));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), q);
    const __m256i sums = dot4(_mm256_set1_epi8(1), q);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lane_neg_sum + 8 * b),
                        _mm256_sub_epi32(_mm256_setzero_si256(), sums));
    _mm256_storeu_ps(lane_scale + 8 * b, _mm256_set1_ps(s.d));
  }
}

void quantize_q8_block256(const float* x, size_t cols, int8_t* qs, float* scale,
                          int16_t* group_sum) {
  for (size_t b = 0; b < cols / 256; ++b, x += 256, qs += 256) {
    const BlockScale s = block_scale(abs_max(x, 256));
    scale[b] = s.d;
    const __m256 id = _mm256_set1_ps(s.id);
    for (size_t g = 0; g < 8; ++g) {
      const __m256i q = quantize32(x + 32 * g, id);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs + 32 * g), q);
      // Sums of 16: int32 sums of 4, then pairs within each 128-bit half.
      const __m256i s4 = dot4(_mm256_set1_epi8(1), q);
      group_sum[16 * b + 2 * g] = static_cast<int16_t>(hsum_epi32(_mm256_blend_epi32(s4, _mm256_setzero_si256(), 0xF0)));
      group_sum[16 * b + 2 * g + 1] = static_cast<int16_t>(hsum_epi32(_mm256_blend_epi32(s4, _mm256_setzero_si256(), 0x0F)));
    }
  }
}

}  // namespace wafer::kernels::avx2
