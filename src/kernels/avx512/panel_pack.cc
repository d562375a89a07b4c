// The bf16 panel format of the prefill product (amx_gemm.h), shared by the AMX tiles and the
// AVX-512 BF16 product: activations to bf16 (hi, and the lo rest), decoded weight rows packed
// into pair-interleaved 16x32 tiles.
#include <immintrin.h>

#include "kernels/amx_gemm.h"
#include "kernels/avx512/kernels.h"
#include "kernels/avx512/simd.h"

namespace wafer::kernels::avx512 {
namespace {

// 16 floats to bf16 (round to nearest even), and the bf16 of what that rounding left.
inline void split_bf16(__m512 v, __m256i* hi, __m256i* lo) {
  const __m256bh h = _mm512_cvtneps_pbh(v);
  *hi = (__m256i)h;
  if (lo != nullptr) {
    const __m512 rest = _mm512_sub_ps(v, _mm512_cvtpbh_ps(h));
    const __m256bh l = _mm512_cvtneps_pbh(rest);
    *lo = (__m256i)l;
  }
}

}  // namespace

void convert_activations_bf16(const float* x, size_t cols, size_t cols_pad, uint16_t* hi, uint16_t* lo) {
  for (size_t i = 0; i < cols_pad; i += 16) {
    const size_t n = i >= cols ? 0 : (cols - i < 16 ? cols - i : 16);
    const __mmask16 m = static_cast<__mmask16>((1u << n) - 1u);
    __m256i h, l;
    split_bf16(_mm512_maskz_loadu_ps(m, x + i), &h, lo != nullptr ? &l : nullptr);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi + i), h);
    if (lo != nullptr) _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo + i), l);
  }
}

namespace {

// One B tile: rows[n][0..31] of 16 rows -> tile[kk][n] = pair (2kk, 2kk+1) of row n.
void pack_tile(const float* rows, size_t row_stride, size_t num_rows, uint16_t* hi, uint16_t* lo) {
  __m512i h[16], l[16];
  for (size_t n = 0; n < 16; ++n) {
    const bool valid = n < num_rows;
    const float* p = rows + n * row_stride;
    const __m512 v0 = valid ? _mm512_loadu_ps(p) : _mm512_setzero_ps();
    const __m512 v1 = valid ? _mm512_loadu_ps(p + 16) : _mm512_setzero_ps();
    __m256i h0, h1, l0, l1;
    split_bf16(v0, &h0, lo != nullptr ? &l0 : nullptr);
    split_bf16(v1, &h1, lo != nullptr ? &l1 : nullptr);
    h[n] = _mm512_inserti64x4(_mm512_castsi256_si512(h0), h1, 1);
    if (lo != nullptr) l[n] = _mm512_inserti64x4(_mm512_castsi256_si512(l0), l1, 1);
  }
  transpose16(h);
  for (int kk = 0; kk < 16; ++kk) _mm512_storeu_si512(hi + 32 * kk, h[kk]);
  if (lo == nullptr) return;
  transpose16(l);
  for (int kk = 0; kk < 16; ++kk) _mm512_storeu_si512(lo + 32 * kk, l[kk]);
}

}  // namespace

void pack_panel_f32(const float* rows, size_t row_stride, size_t num_rows, size_t k_len, float* out) {
  for (size_t k0 = 0; k0 < k_len; k0 += 16) {
    for (size_t half = 0; half < 2; ++half) {
      __m512i r[16];
      for (size_t n = 0; n < 16; ++n) {
        const size_t row = 16 * half + n;
        r[n] = row < num_rows ? _mm512_loadu_si512(rows + row * row_stride + k0) : _mm512_setzero_si512();
      }
      transpose16(r);
      for (size_t kk = 0; kk < 16; ++kk) _mm512_storeu_si512(out + (k0 + kk) * 32 + 16 * half, r[kk]);
    }
  }
}

void pack_panel_bf16(const float* rows, size_t row_stride, size_t num_rows, size_t k_len, uint16_t* hi,
                uint16_t* lo) {
  for (size_t s = 0; s < k_len / kAmxKStep; ++s) {
    for (size_t half = 0; half < 2; ++half) {
      const size_t tile = 2 * s + half;
      const size_t first = 16 * half;
      const size_t n = num_rows > first ? num_rows - first : 0;
      pack_tile(rows + first * row_stride + kAmxKStep * s, row_stride, n < 16 ? n : 16,
                hi + 512 * tile, lo != nullptr ? lo + 512 * tile : nullptr);
    }
  }
}

}  // namespace wafer::kernels::avx512
