// AVX2 matrix-vector products for the k-quants (Q4_K, Q5_K, Q6_K) against kQ8Block256
// activations: per 32 weights, vpmaddubsw (unsigned weights x int8 activations) then
// vpmaddwd with the sub-block's scale; the mins (Q4_K/Q5_K) or the -32 offset (Q6_K) come
// back through the activations' sums of 16. One float FMA per super-block and token.
#include "kernels/avx2/kernels.h"
#include "kernels/avx2/simd.h"

namespace wafer::kernels::avx2 {
namespace {

// Q4_K/Q5_K: the eight 6-bit scales and mins out of their 12 packed bytes.
inline void unpack_k_scales(const uint8_t* s, uint8_t sc[8], uint8_t mn[8]) {
  uint32_t w0, w1, w2;
  __builtin_memcpy(&w0, s, 4);
  __builtin_memcpy(&w1, s + 4, 4);
  __builtin_memcpy(&w2, s + 8, 4);
  const uint32_t out[4] = {w0 & 0x3F3F3F3Fu, (w2 & 0x0F0F0F0Fu) | ((w0 >> 6) & 0x03030303u) << 4,
                           w1 & 0x3F3F3F3Fu, ((w2 >> 4) & 0x0F0F0F0Fu) | ((w1 >> 6) & 0x03030303u) << 4};
  __builtin_memcpy(sc, out, 8);
  __builtin_memcpy(mn, out + 2, 8);
}

// Q4_K/Q5_K super-block: returns the int32 lanes of sum(q * x * scale) for token t's x.
template <int T, bool kFiveBit>
void affine_k_dots(const uint8_t* p, const int8_t* const* x, const uint8_t* sc, __m256i* iacc) {
  const uint8_t* qs = p + (kFiveBit ? 48 : 16);
  const __m256i hb = kFiveBit ? loadu256(p + 16) : _mm256_setzero_si256();
  const __m256i low4 = _mm256_set1_epi8(0x0F), sixteen = _mm256_set1_epi8(0x10);
  #pragma GCC unroll 16
  for (int c = 0; c < 4; ++c) {
    const __m256i v = loadu256(qs + 32 * c);
    __m256i lo = _mm256_and_si256(v, low4);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
    if (kFiveBit) {
      const __m256i b0 = _mm256_set1_epi8(static_cast<char>(1 << (2 * c)));
      const __m256i b1 = _mm256_set1_epi8(static_cast<char>(1 << (2 * c + 1)));
      lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hb, b0), b0), sixteen));
      hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hb, b1), b1), sixteen));
    }
    const __m256i s0 = _mm256_set1_epi16(sc[2 * c]), s1 = _mm256_set1_epi16(sc[2 * c + 1]);
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) {
      const __m256i p0 = _mm256_maddubs_epi16(lo, loadu256(x[t] + 64 * c));
      const __m256i p1 = _mm256_maddubs_epi16(hi, loadu256(x[t] + 64 * c + 32));
      iacc[t] = _mm256_add_epi32(iacc[t], _mm256_add_epi32(_mm256_madd_epi16(p0, s0), _mm256_madd_epi16(p1, s1)));
    }
  }
}

// Q6_K super-block: int32 lanes of sum(q * x * scale), q in 0..63 (offset not yet removed).
template <int T>
void q6_k_dots(const uint8_t* p, const int8_t* const* x, __m256i* iacc) {
  const int8_t* sc = reinterpret_cast<const int8_t*>(p + 192);
  const __m256i low4 = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(0x03);
  #pragma GCC unroll 16
  for (int h = 0; h < 2; ++h) {
    const __m256i ql0 = loadu256(p + 64 * h), ql1 = loadu256(p + 64 * h + 32);
    const __m256i qh = loadu256(p + 128 + 32 * h);
    __m256i q[4];
    q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, two), 4));
    q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), two), 4));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), two), 4));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), two), 4));
    #pragma GCC unroll 16
    for (int j = 0; j < 4; ++j) {
      const int g = 8 * h + 2 * j;
      const __m256i s = _mm256_set_m128i(_mm_set1_epi16(sc[g + 1]), _mm_set1_epi16(sc[g]));
      #pragma GCC unroll 16
      for (int t = 0; t < T; ++t) {
        const __m256i prod = _mm256_maddubs_epi16(q[j], loadu256(x[t] + 128 * h + 32 * j));
        iacc[t] = _mm256_add_epi32(iacc[t], _mm256_madd_epi16(prod, s));
      }
    }
  }
}

template <int kKind>  // 4: Q4_K, 5: Q5_K, 6: Q6_K
struct KRow {
  static constexpr size_t kBlockBytes = kKind == 4 ? 144 : kKind == 5 ? 176 : 210;

  template <int T>
  static void row(const Matrix& w, size_t r, const Activations& act, size_t t0, float* y) {
    const uint8_t* p = w.data + r * w.row_bytes;
    const size_t cols = w.cols, nsb = cols / 256, ngroups = cols / 16;
    __m256 acc[T];
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    for (size_t s = 0; s < nsb; ++s, p += kBlockBytes) {
      const int8_t* x[T];
      __m256i iacc[T];
      #pragma GCC unroll 16
      for (int t = 0; t < T; ++t) {
        x[t] = act.qs + (t0 + t) * cols + 256 * s;
        iacc[t] = _mm256_setzero_si256();
      }
      if constexpr (kKind == 6) {
        q6_k_dots<T>(p, x, iacc);
        const __m256i sc16 = _mm256_cvtepi8_epi16(loadu128(p + 192));
        const float d = f16_load(p + 208);
        #pragma GCC unroll 16
        for (int t = 0; t < T; ++t) {
          const size_t tok = t0 + t;
          const __m256i g = _mm256_madd_epi16(loadu256(act.group_sum + tok * ngroups + 16 * s), sc16);
          const __m256i dot = _mm256_sub_epi32(iacc[t], _mm256_slli_epi32(g, 5));
          acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(d * act.scale[tok * nsb + s]), acc[t]);
        }
      } else {
        uint8_t sc[8], mn[8];
        unpack_k_scales(p + 4, sc, mn);
        affine_k_dots<T, kKind == 5>(p, x, sc, iacc);
        const __m128i m8 = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(mn)));
        const __m256i m16 = _mm256_set_m128i(_mm_unpackhi_epi16(m8, m8), _mm_unpacklo_epi16(m8, m8));
        const float d = f16_load(p), dmin = f16_load(p + 2);
        #pragma GCC unroll 16
        for (int t = 0; t < T; ++t) {
          const size_t tok = t0 + t;
          const float xs = act.scale[tok * nsb + s];
          const __m256i g = _mm256_madd_epi16(loadu256(act.group_sum + tok * ngroups + 16 * s), m16);
          acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(iacc[t]), _mm256_set1_ps(d * xs), acc[t]);
          acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(g), _mm256_set1_ps(dmin * xs), acc[t]);
        }
      }
    }
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) y[(t0 + t) * w.rows + r] = hsum(acc[t]);
  }
};

}  // namespace

void matvec_q4_k(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                 size_t num_tokens, float* y) {
  for_rows_and_tokens<KRow<4>>(w, row_begin, row_end, act, num_tokens, y);
}

void matvec_q5_k(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                 size_t num_tokens, float* y) {
  for_rows_and_tokens<KRow<5>>(w, row_begin, row_end, act, num_tokens, y);
}

void matvec_q6_k(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                 size_t num_tokens, float* y) {
  for_rows_and_tokens<KRow<6>>(w, row_begin, row_end, act, num_tokens, y);
}

}  // namespace wafer::kernels::avx2
