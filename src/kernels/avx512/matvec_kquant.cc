// AVX-512 VNNI matrix-vector products for the k-quants (Q4_K, Q5_K, Q6_K) against
// kQ8Block256 activations. Per super-block of 256: unsigned weight bytes x int8 activations
// via vpmaddubsw, sub-block scales applied in int32 via vpdpwssd, the mins (Q4_K/Q5_K) or the
// -32 offset (Q6_K) taken back from the activations' sums of 16; then one float FMA.
#include "kernels/avx512/kernels.h"
#include "kernels/avx512/simd.h"

namespace wafer::kernels::avx512 {
namespace {

// A super-block unpacked for the dot: four 64-element chunks of unsigned weights in
// element order, the int16 scale of each weight pair, and the terms the sums of 16 take.
struct SuperBlock {
  __m512i q[4];
  __m512i scale[4];
  __m256i group_factor;  // int16 per group of 16 activations
  int offset_shift;      // Q6_K: subtract (group_factor . sums) << 5; Q4_K/Q5_K: 0 (mins)
  float d;
  float dmin;
};

// Permutation indices: int16 lane i takes element kBase + i / kLanesPer.
template <int kBase, int kLanesPer>
struct ExpandIndex {
  alignas(64) int16_t v[32];
  constexpr ExpandIndex() : v() {
    for (int i = 0; i < 32; ++i) v[i] = static_cast<int16_t>(kBase + i / kLanesPer);
  }
};

template <int kBase, int kLanesPer>
inline __m512i expand_scales(__m512i v) {
  static constexpr ExpandIndex<kBase, kLanesPer> kIdx;
  return _mm512_permutexvar_epi16(_mm512_load_si512(kIdx.v), v);
}

// Q4_K/Q5_K: the 6-bit scales (low 8 bytes) and mins (high 8 bytes) of the 12 packed bytes.
inline void unpack_k_scales(const uint8_t* s, uint64_t* scales, uint64_t* mins) {
  uint32_t w0, w1, w2;
  __builtin_memcpy(&w0, s, 4);
  __builtin_memcpy(&w1, s + 4, 4);
  __builtin_memcpy(&w2, s + 8, 4);
  const uint32_t sc_hi = (w2 & 0x0F0F0F0Fu) | ((w0 >> 6) & 0x03030303u) << 4;
  const uint32_t m_hi = ((w2 >> 4) & 0x0F0F0F0Fu) | ((w1 >> 6) & 0x03030303u) << 4;
  *scales = (w0 & 0x3F3F3F3Fu) | static_cast<uint64_t>(sc_hi) << 32;
  *mins = (w1 & 0x3F3F3F3Fu) | static_cast<uint64_t>(m_hi) << 32;
}

// Q4_K/Q5_K share everything but the fifth bit.
template <bool kFiveBit>
inline void load_affine_k(const uint8_t* p, SuperBlock* sb) {
  sb->d = f16_load(p);
  sb->dmin = f16_load(p + 2);
  uint64_t sc, mn;
  unpack_k_scales(p + 4, &sc, &mn);
  const __m512i sc16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(sc))));
  sb->scale[0] = expand_scales<0, 16>(sc16);
  sb->scale[1] = expand_scales<2, 16>(sc16);
  sb->scale[2] = expand_scales<4, 16>(sc16);
  sb->scale[3] = expand_scales<6, 16>(sc16);
  const __m512i m16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(mn))));
  sb->group_factor = _mm512_castsi512_si256(expand_scales<0, 2>(m16));
  sb->offset_shift = 0;
  const uint8_t* qs = p + (kFiveBit ? 48 : 16);
  const __m512i qh = kFiveBit ? _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16)))
                              : _mm512_setzero_si512();
  #pragma GCC unroll 16
  for (int h = 0; h < 2; ++h) {
    const __m512i v = _mm512_loadu_si512(qs + 64 * h);
    const __m512i lo = _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), _mm512_set1_epi8(0x0F));
    // chunk 2h low/high nibbles are sub-blocks 4h, 4h+1; chunk 2h+1 gives 4h+2, 4h+3.
    __m512i a = _mm512_shuffle_i64x2(lo, hi, _MM_SHUFFLE(1, 0, 1, 0));
    __m512i b = _mm512_shuffle_i64x2(lo, hi, _MM_SHUFFLE(3, 2, 3, 2));
    if (kFiveBit) {
      const auto bits = [](int lo_bit, int hi_bit) {
        return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi8(static_cast<char>(1 << lo_bit))),
                                  _mm256_set1_epi8(static_cast<char>(1 << hi_bit)), 1);
      };
      const __m512i sixteen = _mm512_set1_epi8(16);
      a = _mm512_mask_add_epi8(a, _mm512_test_epi8_mask(qh, bits(4 * h, 4 * h + 1)), a, sixteen);
      b = _mm512_mask_add_epi8(b, _mm512_test_epi8_mask(qh, bits(4 * h + 2, 4 * h + 3)), b, sixteen);
    }
    sb->q[2 * h] = a;
    sb->q[2 * h + 1] = b;
  }
}

inline void load_q6_k(const uint8_t* p, SuperBlock* sb) {
  sb->d = f16_load(p + 208);
  sb->dmin = 0.0f;
  const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 192)));
  const __m512i sc = _mm512_castsi256_si512(sc16);
  sb->scale[0] = expand_scales<0, 8>(sc);
  sb->scale[1] = expand_scales<4, 8>(sc);
  sb->scale[2] = expand_scales<8, 8>(sc);
  sb->scale[3] = expand_scales<12, 8>(sc);
  sb->group_factor = sc16;
  sb->offset_shift = 5;
  const __m512i up_lo = _mm512_set_epi64(2, 2, 2, 2, 4, 4, 4, 4);
  const __m512i up_hi = _mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0);
  const __m512i bits45 = _mm512_set1_epi8(0x30);
  #pragma GCC unroll 16
  for (int h = 0; h < 2; ++h) {
    const __m512i v = _mm512_loadu_si512(p + 64 * h);
    const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 128 + 32 * h)));
    const __m512i lo = _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), _mm512_set1_epi8(0x0F));
    // Elements l, l+32 take qh bits 0-1, 2-3; elements l+64, l+96 bits 4-5, 6-7.
    sb->q[2 * h] = _mm512_or_si512(lo, _mm512_and_si512(_mm512_sllv_epi64(qh, up_lo), bits45));
    sb->q[2 * h + 1] = _mm512_or_si512(hi, _mm512_and_si512(_mm512_srlv_epi64(qh, up_hi), bits45));
  }
}

// The int32 lanes of sum(weight * act * scale) over the super-block, less the offset terms.
inline __m512i superblock_dot(const SuperBlock& sb, const int8_t* x, const int16_t* sums,
                              __m256i* mins_dot) {
  __m512i acc = _mm512_setzero_si512();
  #pragma GCC unroll 16
  for (int j = 0; j < 4; ++j) {
    const __m512i p16 = _mm512_maddubs_epi16(sb.q[j], _mm512_loadu_si512(x + 64 * j));
    acc = _mm512_dpwssd_epi32(acc, p16, sb.scale[j]);
  }
  const __m256i g = _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sums)),
                                      sb.group_factor);
  *mins_dot = g;
  return acc;
}

template <int kKind>  // 4: Q4_K, 5: Q5_K, 6: Q6_K
struct KRow {
  static constexpr size_t kBlockBytes = kKind == 4 ? 144 : kKind == 5 ? 176 : 210;

  template <int T>
  static void row(const Matrix& w, size_t r, const Activations& act, size_t t0, float* y) {
    const uint8_t* p = w.data + r * w.row_bytes;
    const size_t cols = w.cols, nsb = cols / 256, ngroups = cols / 16;
    __m512 acc[T];
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (size_t s = 0; s < nsb; ++s, p += kBlockBytes) {
      SuperBlock sb;
      if constexpr (kKind == 6) load_q6_k(p, &sb);
      else load_affine_k<kKind == 5>(p, &sb);
      #pragma GCC unroll 16
      for (int t = 0; t < T; ++t) {
        const size_t tok = t0 + t;
        __m256i g;
        __m512i dot = superblock_dot(sb, act.qs + tok * cols + 256 * s, act.group_sum + tok * ngroups + 16 * s, &g);
        const float xs = act.scale[tok * nsb + s];
        if constexpr (kKind == 6) {
          dot = _mm512_sub_epi32(dot, _mm512_zextsi256_si512(_mm256_slli_epi32(g, 5)));
          acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_set1_ps(sb.d * xs), acc[t]);
        } else {
          acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_set1_ps(sb.d * xs), acc[t]);
          acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(_mm512_zextsi256_si512(g)),
                                    _mm512_set1_ps(sb.dmin * xs), acc[t]);
        }
      }
    }
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) y[(t0 + t) * w.rows + r] = _mm512_reduce_add_ps(acc[t]);
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

}  // namespace wafer::kernels::avx512
