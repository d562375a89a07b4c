// Helpers shared by the AVX2 kernel files. Only files built with AVX2 flags (avx2/*.cc,
// model/attention_avx2.cc) include this; everything here has internal linkage so no copy
// built with AVX2 flags can leak into other code.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.h"

namespace wafer::kernels::avx2 {
namespace {

// Most tokens one pass over a weight row dots at once (16 YMM registers).
constexpr size_t kTokensPerPass = 4;

inline float f16_load(const uint8_t* p) {
  uint16_t h;
  __builtin_memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// e^x: degree-7 polynomial after range reduction by ln 2, relative error ~1e-7; x clamped
// to [-87, 88] so 2^k stays a normal float (callers mask what must be 0 or inf).
inline __m256 exp_ps(__m256 x) {
  x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.0f)), _mm256_set1_ps(-87.0f));
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693145751953125f), x);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(1.428606765330187045e-06f), r);
  __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

inline __m256i loadu256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m128i loadu128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// Sum of each 4 consecutive bytes (unsigned a times signed b) as 8 int32: vpmaddubsw then
// vpmaddwd with ones. The caller keeps 2 * a * b within int16.
inline __m256i dot4(__m256i a_u8, __m256i b_s8) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(a_u8, b_s8), _mm256_set1_epi16(1));
}

// Runs Kernel::template row<N>(w, r, act, t0, y) over rows [row_begin, row_end), for the
// tokens in passes of at most kTokensPerPass; the row stays in L1 between passes.
template <typename Kernel>
void for_rows_and_tokens(const Matrix& w, size_t row_begin, size_t row_end,
                         const Activations& act, size_t num_tokens, float* y) {
  for (size_t r = row_begin; r < row_end; ++r) {
    for (size_t t0 = 0; t0 < num_tokens; t0 += kTokensPerPass) {
      const size_t n = num_tokens - t0 < kTokensPerPass ? num_tokens - t0 : kTokensPerPass;
      switch (n) {
        case 1: Kernel::template row<1>(w, r, act, t0, y); break;
        case 2: Kernel::template row<2>(w, r, act, t0, y); break;
        case 3: Kernel::template row<3>(w, r, act, t0, y); break;
        default: Kernel::template row<4>(w, r, act, t0, y); break;
      }
    }
  }
}

}  // namespace
}  // namespace wafer::kernels::avx2
