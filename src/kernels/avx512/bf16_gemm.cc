// AVX-512 prefill products over panels packed by panel_pack.cc, for CPUs without AMX: bf16
// dot products for quantised and BF16 weights, exact f32 FMAs for F32/F16 weights.
// A packed tile row is 16 weight rows x one pair of k, exactly a vdpbf16ps operand, so each
// pair of k costs two weight loads and one broadcast per token: acc[t][half] (16 rows each)
// += w[half] . x[t][2kk..2kk+1]. A block of kTokens tokens x 32 rows is held in 24 registers.
#include <immintrin.h>

#include <cstring>

#include "kernels/amx_gemm.h"
#include "kernels/avx512/kernels.h"

namespace wafer::kernels::avx512 {
namespace {

constexpr int kTokens = 12;

inline __m512bh pair_at(const uint16_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return (__m512bh)_mm512_set1_epi32(v);
}

inline __m512bh load_bh(const uint16_t* p) { return (__m512bh)_mm512_loadu_si512(p); }

// One pair of k for T tokens: acc[t][h] += w[h] . x[t * stride .. +1], h the two row halves.
template <int T>
inline void dot_tokens(__m512 (*acc)[2], __m512bh w0, __m512bh w1, const uint16_t* x, size_t stride) {
  #pragma GCC unroll 16
  for (int t = 0; t < T; ++t) {
    const __m512bh xt = pair_at(x + t * stride);
    acc[t][0] = _mm512_dpbf16_ps(acc[t][0], w0, xt);
    acc[t][1] = _mm512_dpbf16_ps(acc[t][1], w1, xt);
  }
}

// Writes (or adds) T tokens x num_rows (<= 32) sums to y, rows of a token contiguous.
template <int T>
inline void store_block(__m512 (*acc)[2], size_t num_rows, bool accumulate, float* y, size_t y_stride) {
  const size_t n0 = num_rows < 16 ? num_rows : 16;
  const size_t n1 = num_rows > 16 ? num_rows - 16 : 0;
  const __mmask16 m0 = static_cast<__mmask16>((1u << n0) - 1u);
  const __mmask16 m1 = static_cast<__mmask16>((1u << n1) - 1u);
  #pragma GCC unroll 16
  for (int t = 0; t < T; ++t) {
    float* out = y + t * y_stride;
    __m512 v0 = acc[t][0], v1 = acc[t][1];
    if (accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, out));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, out + 16));
    }
    _mm512_mask_storeu_ps(out, m0, v0);
    _mm512_mask_storeu_ps(out + 16, m1, v1);
  }
}

// acc[t][h] += sum over the panel's k of w[h] * x[t], for T tokens starting at `x`.
template <int T, bool kXLo, bool kWLo>
void token_block(const AmxPanelArgs& a, const uint16_t* xh, const uint16_t* xl, size_t tok0) {
  __m512 acc[T][2];
  #pragma GCC unroll 16
  for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
  const size_t stride = a.x_stride;
  for (size_t s = 0; s < a.k_steps; ++s) {
    const uint16_t* wh = a.w_hi + 1024 * s;
    const uint16_t* wl = kWLo ? a.w_lo + 1024 * s : nullptr;
    const size_t k = kAmxKStep * s;
    for (size_t kk = 0; kk < 16; ++kk) {
      const __m512bh w0 = load_bh(wh + 32 * kk), w1 = load_bh(wh + 512 + 32 * kk);
      const size_t at = k + 2 * kk;
      dot_tokens<T>(acc, w0, w1, xh + at, stride);
      if (kXLo) dot_tokens<T>(acc, w0, w1, xl + at, stride);
      if (kWLo) dot_tokens<T>(acc, load_bh(wl + 32 * kk), load_bh(wl + 512 + 32 * kk), xh + at, stride);
    }
  }
  store_block<T>(acc, a.num_rows, a.accumulate, a.y + tok0 * a.y_stride, a.y_stride);
}

template <int T, bool kXLo, bool kWLo>
void token_tail(const AmxPanelArgs& a, const uint16_t* xh, const uint16_t* xl, size_t tok0, size_t n) {
  if constexpr (T > 1) {
    if (static_cast<size_t>(T) > n) return token_tail<T - 1, kXLo, kWLo>(a, xh, xl, tok0, n);
  }
  token_block<T, kXLo, kWLo>(a, xh, xl, tok0);
}

template <bool kXLo, bool kWLo>
void product(const AmxPanelArgs& a) {
  for (size_t tok0 = 0; tok0 < a.num_tokens; tok0 += kTokens) {
    const uint16_t* xh = a.x_hi + tok0 * a.x_stride;
    const uint16_t* xl = kXLo ? a.x_lo + tok0 * a.x_stride : nullptr;
    const size_t n = a.num_tokens - tok0;
    if (n >= static_cast<size_t>(kTokens)) token_block<kTokens, kXLo, kWLo>(a, xh, xl, tok0);
    else token_tail<kTokens - 1, kXLo, kWLo>(a, xh, xl, tok0, n);
  }
}

void panel_product(const AmxPanelArgs& a) {
  if (a.x_lo != nullptr && a.w_lo != nullptr) product<true, true>(a);
  else if (a.x_lo != nullptr) product<true, false>(a);
  else if (a.w_lo != nullptr) product<false, true>(a);
  else product<false, false>(a);
}

// The f32 twin for F32/F16 weights: each packed k holds 32 rows' weights, one FMA per row
// half per token (exact products, one instruction where bf16 needs three).
template <int T>
void f32_token_block(const F32PanelArgs& a, const float* x, size_t tok0) {
  __m512 acc[T][2];
  #pragma GCC unroll 16
  for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
  for (size_t k = 0; k < a.k_len; ++k) {
    const __m512 w0 = _mm512_loadu_ps(a.w + 32 * k), w1 = _mm512_loadu_ps(a.w + 32 * k + 16);
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) {
      const __m512 xt = _mm512_set1_ps(x[t * a.x_stride + k]);
      acc[t][0] = _mm512_fmadd_ps(w0, xt, acc[t][0]);
      acc[t][1] = _mm512_fmadd_ps(w1, xt, acc[t][1]);
    }
  }
  store_block<T>(acc, a.num_rows, a.accumulate, a.y + tok0 * a.y_stride, a.y_stride);
}

template <int T>
void f32_token_tail(const F32PanelArgs& a, const float* x, size_t tok0, size_t n) {
  if constexpr (T > 1) {
    if (static_cast<size_t>(T) > n) return f32_token_tail<T - 1>(a, x, tok0, n);
  }
  f32_token_block<T>(a, x, tok0);
}

void panel_product_f32(const F32PanelArgs& a) {
  for (size_t tok0 = 0; tok0 < a.num_tokens; tok0 += kTokens) {
    const float* x = a.x + tok0 * a.x_stride;
    const size_t n = a.num_tokens - tok0;
    if (n >= static_cast<size_t>(kTokens)) f32_token_block<kTokens>(a, x, tok0);
    else f32_token_tail<kTokens - 1>(a, x, tok0, n);
  }
}

}  // namespace

const GemmKernels kBf16GemmKernels = {convert_activations_bf16, pack_panel_bf16, panel_product, pack_panel_f32,
                                      panel_product_f32};

}  // namespace wafer::kernels::avx512
