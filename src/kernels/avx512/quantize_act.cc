// AVX-512 activation quantisers: int8 blocks of 32 or 256 with an f32 scale, bit-exact
// with reference/act_quant_ref.cc (round half to even via the default MXCSR mode).
#include "kernels/avx512/kernels.h"
#include "kernels/avx512/simd.h"

namespace wafer::kernels::avx512 {
namespace {

// Max |x| over n floats (n a multiple of 16).
float abs_max(const float* x, size_t n) {
  __m512 m = _mm512_setzero_ps();
  for (size_t i = 0; i < n; i += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
  return _mm512_reduce_max_ps(m);
}

// The scale of a block and the factor that maps it to int8 (0 for an all-zero block).
struct BlockScale {
  float d;
  float id;
};
BlockScale block_scale(float amax) {
  const float d = amax / 127.0f;
  return {d, d > 0.0f ? 1.0f / d : 0.0f};
}

// 16 floats to 16 int32 on the int8 grid (|q| <= 127 since |x * id| <= 127 + rounding).
__m512i quantize16(const float* x, __m512 id) {
  const __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x), id);
  const __m512i q = _mm512_cvtps_epi32(v);
  return _mm512_max_epi32(_mm512_min_epi32(q, _mm512_set1_epi32(127)), _mm512_set1_epi32(-127));
}

}  // namespace

void quantize_q8_block32(const float* x, size_t cols, int8_t* qs, float* lane_scale,
                         int32_t* lane_neg_sum) {
  const __m256i ones = _mm256_set1_epi8(1);
  for (size_t b = 0; b < cols / 32; ++b, x += 32, qs += 32) {
    const BlockScale s = block_scale(abs_max(x, 32));
    const __m512 id = _mm512_set1_ps(s.id);
    const __m128i q0 = _mm512_cvtepi32_epi8(quantize16(x, id));
    const __m128i q1 = _mm512_cvtepi32_epi8(quantize16(x + 16, id));
    const __m256i q = _mm256_inserti128_si256(_mm256_castsi128_si256(q0), q1, 1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), q);
    const __m256i sums = _mm256_dpbusd_epi32(_mm256_setzero_si256(), ones, q);
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
    const __m512 id = _mm512_set1_ps(s.id);
    for (size_t g = 0; g < 16; ++g) {
      const __m512i q = quantize16(x + 16 * g, id);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 16 * g), _mm512_cvtepi32_epi8(q));
      group_sum[16 * b + g] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
    }
  }
}

}  // namespace wafer::kernels::avx512
