// AVX2 matrix-vector products for F32, F16 and BF16 weights: widen 8 weights to f32, FMA
// them with every token's activations; f32 accumulation.
#include "kernels/avx2/kernels.h"
#include "kernels/avx2/simd.h"

namespace wafer::kernels::avx2 {
namespace {

struct LoadF32 {
  static __m256 full(const uint8_t* row, size_t i) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + i);
  }
};
struct LoadF16 {
  static __m256 full(const uint8_t* row, size_t i) { return _mm256_cvtph_ps(loadu128(row + 2 * i)); }
};
struct LoadBF16 {
  static __m256 full(const uint8_t* row, size_t i) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(loadu128(row + 2 * i)), 16));
  }
};

// Scalar decoding of one weight for the tail (fewer than 8 left).
float tail_weight(DType type, const uint8_t* row, size_t i) {
  if (type == DType::kF32) {
    float v;
    __builtin_memcpy(&v, row + 4 * i, 4);
    return v;
  }
  uint16_t h;
  __builtin_memcpy(&h, row + 2 * i, 2);
  if (type == DType::kF16) return _cvtsh_ss(h);
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float v;
  __builtin_memcpy(&v, &bits, 4);
  return v;
}

template <typename Load>
struct FloatRow {
  template <int T>
  static void row(const Matrix& w, size_t r, const Activations& act, size_t t0, float* y) {
    const uint8_t* wr = w.data + r * w.row_bytes;
    const size_t cols = w.cols;
    const float* x = act.x + t0 * cols;
    __m256 acc0[T], acc1[T];
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) acc0[t] = acc1[t] = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= cols; i += 16) {
      const __m256 w0 = Load::full(wr, i), w1 = Load::full(wr, i + 8);
      #pragma GCC unroll 16
      for (int t = 0; t < T; ++t) {
        acc0[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + t * cols + i), acc0[t]);
        acc1[t] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + t * cols + i + 8), acc1[t]);
      }
    }
    for (; i + 8 <= cols; i += 8) {
      const __m256 w0 = Load::full(wr, i);
      #pragma GCC unroll 16
      for (int t = 0; t < T; ++t) acc0[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + t * cols + i), acc0[t]);
    }
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) {
      float sum = hsum(_mm256_add_ps(acc0[t], acc1[t]));
      for (size_t j = i; j < cols; ++j) sum += tail_weight(w.type, wr, j) * x[t * cols + j];
      y[(t0 + t) * w.rows + r] = sum;
    }
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

}  // namespace wafer::kernels::avx2
