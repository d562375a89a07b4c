// AVX2 prefill: exact f32 panel products for every weight type (decision 0017). The driver
// decodes 32 weight rows of a k range to f32 once and packs them k-major; each half panel
// (16 rows, two YMMs per k) then meets 6 tokens at a time with 12 f32 sums in registers: two
// weight loads and six broadcasts per twelve FMAs. This level has no bf16 or int8 dot product
// that beats one FMA per 8 products over a reused panel.
#include <immintrin.h>

#include "kernels/amx_gemm.h"
#include "kernels/avx2/kernels.h"

namespace wafer::kernels::avx2 {
namespace {

constexpr int kTokens = 6;
constexpr size_t kHalfRows = 16;

// rows r[0..7] (8 floats each) -> r[k] holds element k of every row.
inline void transpose8(__m256 r[8]) {
  __m256 t[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  __m256 u[8];
  for (int i = 0; i < 2; ++i) {
    u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

// Adds (or stores) one token's sums for rows [first, first + 16) of the panel.
inline void store_rows(__m256 lo, __m256 hi, size_t first, size_t num_rows, bool accumulate, float* y) {
  for (size_t j = 0; j < 2; ++j) {
    const __m256 v = j == 0 ? lo : hi;
    const size_t r0 = first + 8 * j;
    if (r0 >= num_rows) return;
    if (r0 + 8 <= num_rows) {
      _mm256_storeu_ps(y + r0, accumulate ? _mm256_add_ps(v, _mm256_loadu_ps(y + r0)) : v);
      continue;
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, v);
    for (size_t i = 0; r0 + i < num_rows; ++i) y[r0 + i] = accumulate ? y[r0 + i] + lanes[i] : lanes[i];
  }
}

template <int T>
void token_block(const F32PanelArgs& a, size_t first, const float* x, size_t tok0) {
  // Locals, so the sums stay in registers: GCC reloads fields of `a` and spills the sums
  // every k otherwise.
  const float* w = a.w + first;
  const size_t k_len = a.k_len, x_stride = a.x_stride;
  __m256 acc[T][2];
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  for (size_t k = 0; k < k_len; ++k) {
    const __m256 w0 = _mm256_loadu_ps(w + 32 * k), w1 = _mm256_loadu_ps(w + 32 * k + 8);
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m256 xt = _mm256_broadcast_ss(x + t * x_stride + k);
      acc[t][0] = _mm256_fmadd_ps(w0, xt, acc[t][0]);
      acc[t][1] = _mm256_fmadd_ps(w1, xt, acc[t][1]);
    }
  }
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t)
    store_rows(acc[t][0], acc[t][1], first, a.num_rows, a.accumulate, a.y + (tok0 + t) * a.y_stride);
}

template <int T>
void token_tail(const F32PanelArgs& a, size_t first, const float* x, size_t tok0, size_t n) {
  if constexpr (T > 1) {
    if (static_cast<size_t>(T) > n) return token_tail<T - 1>(a, first, x, tok0, n);
  }
  token_block<T>(a, first, x, tok0);
}

void panel_product_f32(const F32PanelArgs& a) {
  // One half panel (16 KiB at the driver's 256-deep k ranges) stays in L1 for all tokens.
  for (size_t first = 0; first < a.num_rows; first += kHalfRows) {
    for (size_t tok0 = 0; tok0 < a.num_tokens; tok0 += kTokens) {
      const float* x = a.x + tok0 * a.x_stride;
      const size_t n = a.num_tokens - tok0;
      if (n >= static_cast<size_t>(kTokens)) token_block<kTokens>(a, first, x, tok0);
      else token_tail<kTokens - 1>(a, first, x, tok0, n);
    }
  }
}

void pack_panel_f32(const float* rows, size_t row_stride, size_t num_rows, size_t k_len, float* out) {
  for (size_t k0 = 0; k0 < k_len; k0 += 8) {
    for (size_t g = 0; g < kAmxPanelRows / 8; ++g) {
      __m256 r[8];
      for (size_t i = 0; i < 8; ++i) {
        const size_t row = 8 * g + i;
        r[i] = row < num_rows ? _mm256_loadu_ps(rows + row * row_stride + k0) : _mm256_setzero_ps();
      }
      transpose8(r);
      for (size_t kk = 0; kk < 8; ++kk) _mm256_storeu_ps(out + (k0 + kk) * kAmxPanelRows + 8 * g, r[kk]);
    }
  }
}

}  // namespace

const GemmKernels kF32GemmKernels = {nullptr, nullptr, nullptr, pack_panel_f32, panel_product_f32};

}  // namespace wafer::kernels::avx2
