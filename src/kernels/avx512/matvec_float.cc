// AVX-512 matrix-vector products for F32, F16 and BF16 weights: widen 16 weights to f32,
// FMA them with every token's activations. f32 accumulation keeps golden precision.
#include "kernels/avx512/kernels.h"
#include "kernels/avx512/simd.h"

namespace wafer::kernels::avx512 {
namespace {

// Loads n <= 16 weights starting at element i as 16 floats (missing ones zero).
struct LoadF32 {
  static __m512 full(const uint8_t* row, size_t i) {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + i);
  }
  static __m512 part(const uint8_t* row, size_t i, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + i);
  }
};
struct LoadF16 {
  static __m512 full(const uint8_t* row, size_t i) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * i)));
  }
  static __m512 part(const uint8_t* row, size_t i, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, row + 2 * i));
  }
};
struct LoadBF16 {
  static __m512 widen(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static __m512 full(const uint8_t* row, size_t i) {
    return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * i)));
  }
  static __m512 part(const uint8_t* row, size_t i, __mmask16 m) {
    return widen(_mm256_maskz_loadu_epi16(m, row + 2 * i));
  }
};

template <typename Load>
struct FloatRow {
  // Two accumulators per token over 32-element steps hide the FMA latency.
  template <int T>
  static void row(const Matrix& w, size_t r, const Activations& act, size_t t0, float* y) {
    const uint8_t* wr = w.data + r * w.row_bytes;
    const size_t cols = w.cols;
    const float* x = act.x + t0 * cols;
    __m512 acc0[T], acc1[T];
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) acc0[t] = acc1[t] = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= cols; i += 32) {
      const __m512 w0 = Load::full(wr, i), w1 = Load::full(wr, i + 16);
      #pragma GCC unroll 16
      for (int t = 0; t < T; ++t) {
        acc0[t] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + t * cols + i), acc0[t]);
        acc1[t] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + t * cols + i + 16), acc1[t]);
      }
    }
    for (; i < cols; i += 16) {
      const size_t n = cols - i < 16 ? cols - i : 16;
      const __mmask16 m = static_cast<__mmask16>((1u << n) - 1u);
      const __m512 w0 = Load::part(wr, i, m);
      #pragma GCC unroll 16
      for (int t = 0; t < T; ++t)
        acc0[t] = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(m, x + t * cols + i), acc0[t]);
    }
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t)
      y[(t0 + t) * w.rows + r] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[t], acc1[t]));
  }
};

}  // namespace

void matvec_f32(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                size_t num_tokens, float* y) {
  for_rows_and_tokens<FloatRow<LoadF32>>(w, row_begin, row_end, act, num_tokens, y);
}

void matvec_f16(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                size_t num_tokens, float* y) {
  for_rows_and_tokens<FloatRow<LoadF16>>(w, row_begin, row_end, act, num_tokens, y);
}

void matvec_bf16(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                 size_t num_tokens, float* y) {
  for_rows_and_tokens<FloatRow<LoadBF16>>(w, row_begin, row_end, act, num_tokens, y);
}

}  // namespace wafer::kernels::avx512
