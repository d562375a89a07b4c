// Helpers shared by the AVX-512 kernel files (avx512/*.cc and model/attention_avx512.cc, all
// built with AVX-512 flags). Everything here has internal linkage so no copy built with
// AVX-512 flags can leak into other code.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.h"

namespace wafer::kernels::avx512 {
namespace {

// Most tokens one pass over a weight row dots at once (accumulators live in registers).
constexpr size_t kTokensPerPass = 8;

// e^x for 16 lanes: 2^k by vscalefps times a degree-7 polynomial for e^r, r = x - k ln 2
// in two steps (Cody-Waite); x is clamped to [-104, 89].
inline __m512 exp_ps(__m512 x) {
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(89.0f)), _mm512_set1_ps(-104.0f));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.428606765330187045e-06f), r);
  __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, k);
}

// In-register transpose of a 16x16 matrix of 32-bit elements.
__attribute__((always_inline)) inline void transpose16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  // r[4q + j] now holds rows 4q..4q+3, column group j of every 128-bit lane.
  for (int j = 0; j < 4; ++j) {
    const __m512i a = _mm512_shuffle_i32x4(r[j], r[4 + j], _MM_SHUFFLE(2, 0, 2, 0));
    const __m512i b = _mm512_shuffle_i32x4(r[j], r[4 + j], _MM_SHUFFLE(3, 1, 3, 1));
    const __m512i c = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], _MM_SHUFFLE(2, 0, 2, 0));
    const __m512i d = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], _MM_SHUFFLE(3, 1, 3, 1));
    t[j] = _mm512_shuffle_i32x4(a, c, _MM_SHUFFLE(2, 0, 2, 0));
    t[j + 4] = _mm512_shuffle_i32x4(b, d, _MM_SHUFFLE(2, 0, 2, 0));
    t[j + 8] = _mm512_shuffle_i32x4(a, c, _MM_SHUFFLE(3, 1, 3, 1));
    t[j + 12] = _mm512_shuffle_i32x4(b, d, _MM_SHUFFLE(3, 1, 3, 1));
  }
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

// The same for 16 rows of 16 floats (the casts are free).
__attribute__((always_inline)) inline void transpose16(__m512 r[16]) {
  __m512i v[16];
  for (int i = 0; i < 16; ++i) v[i] = _mm512_castps_si512(r[i]);
  transpose16(v);
  for (int i = 0; i < 16; ++i) r[i] = _mm512_castsi512_ps(v[i]);
}

inline float f16_load(const uint8_t* p) {
  uint16_t h;
  __builtin_memcpy(&h, p, 2);
  return _cvtsh_ss(h);
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
        case 4: Kernel::template row<4>(w, r, act, t0, y); break;
        case 5: Kernel::template row<5>(w, r, act, t0, y); break;
        case 6: Kernel::template row<6>(w, r, act, t0, y); break;
        case 7: Kernel::template row<7>(w, r, act, t0, y); break;
        default: Kernel::template row<8>(w, r, act, t0, y); break;
      }
    }
  }
}

}  // namespace
}  // namespace wafer::kernels::avx512
