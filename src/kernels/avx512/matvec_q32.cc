// AVX-512 VNNI matrix-vector products for the 32-element block types (Q8_0, Q4_0, Q5_0)
// against kQ8Block32 activations. Two blocks fill a ZMM: weights become unsigned bytes
// (q + offset), vpdpbusd dots them with the int8 activations, and the offset is taken back
// by starting each lane at -offset * (sum of its 4 activations).
#include "kernels/avx512/kernels.h"
#include "kernels/avx512/simd.h"

namespace wafer::kernels::avx512 {
namespace {

// Two weight blocks as 64 unsigned bytes (element order) and their 16 lane scales
// (each block's f16 scale repeated 8 times). `two` is false for a lone last block, whose
// upper half is then zero.
struct BlockPair {
  __m512i q;
  __m512 d;
};

// Word indices [a x8, b x8] pick the two blocks' f16 scales out of a 64-byte load.
inline __m512 pair_scales(const uint8_t* p, int word_b, bool two, __mmask32 words) {
  const __m512i idx = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, word_b * 0x10001, word_b * 0x10001,
                                       word_b * 0x10001, word_b * 0x10001, 0, 0, 0, 0);
  const __m512i raw = _mm512_maskz_loadu_epi16(words, p);
  const __m512i d = _mm512_permutexvar_epi16(idx, raw);
  const __m512 f = _mm512_cvtph_ps(_mm512_castsi512_si256(d));
  return two ? f : _mm512_maskz_mov_ps(0x00FF, f);
}

struct Q8_0 {
  static constexpr size_t kBlockBytes = 34;
  static constexpr int kOffsetShift = 7;  // q + 128
  static BlockPair load(const uint8_t* p, bool two) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2));
    __m512i q = _mm512_zextsi256_si512(_mm256_xor_si256(lo, _mm256_set1_epi8(-128)));
    if (two) {
      const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 36));
      q = _mm512_inserti64x4(q, _mm256_xor_si256(hi, _mm256_set1_epi8(-128)), 1);
    }
    return {q, pair_scales(p, 17, two, two ? 0xFFFFFFFFu : 0x1u)};
  }
};

// Nibbles of two blocks: [lo(qs0), hi(qs0), lo(qs1), hi(qs1)] by 128-bit lane.
inline __m512i nibbles_pair(const uint8_t* qs0, const uint8_t* qs1, bool two) {
  const __m256i a = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs0)));
  const __m256i b = two ? _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs1)))
                        : _mm256_setzero_si256();
  const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
  const __m512i shift = _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0);
  return _mm512_and_si512(_mm512_srlv_epi64(v, shift), _mm512_set1_epi8(0x0F));
}

struct Q4_0 {
  static constexpr size_t kBlockBytes = 18;
  static constexpr int kOffsetShift = 3;  // q in 0..15 stands for q - 8
  static BlockPair load(const uint8_t* p, bool two) {
    return {nibbles_pair(p + 2, p + 20, two), pair_scales(p, 9, two, two ? 0x3FFFFu : 0x1u)};
  }
};

struct Q5_0 {
  static constexpr size_t kBlockBytes = 22;
  static constexpr int kOffsetShift = 4;  // q in 0..31 stands for q - 16
  static BlockPair load(const uint8_t* p, bool two) {
    uint32_t h0, h1 = 0;
    __builtin_memcpy(&h0, p + 2, 4);
    if (two) __builtin_memcpy(&h1, p + 24, 4);
    const __mmask64 high = _cvtu64_mask64(h0 | static_cast<uint64_t>(h1) << 32);
    __m512i q = nibbles_pair(p + 6, p + 28, two);
    q = _mm512_mask_add_epi8(q, high, q, _mm512_set1_epi8(16));
    return {q, pair_scales(p, 11, two, two ? 0x3FFFFFu : 0x1u)};
  }
};

template <typename Type>
struct Q32Row {
  // One step over a block pair (or the lone last block) for T tokens.
  template <int T, bool kTwo>
  static void step(const uint8_t* p, size_t b, const int8_t* xq, const float* xs,
                   const int32_t* xn, size_t cols, size_t lanes, __m512* acc) {
    const __mmask64 kb = kTwo ? ~0ull : 0xFFFFFFFFull;
    const __mmask16 kl = kTwo ? 0xFFFF : 0x00FF;
    const BlockPair wp = Type::load(p, kTwo);
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) {
      const __m512i x = _mm512_maskz_loadu_epi8(kb, xq + t * cols + 32 * b);
      const __m512i init =
          _mm512_slli_epi32(_mm512_maskz_loadu_epi32(kl, xn + t * lanes + 8 * b), Type::kOffsetShift);
      const __m512i dot = _mm512_dpbusd_epi32(init, wp.q, x);
      const __m512 s = _mm512_mul_ps(wp.d, _mm512_maskz_loadu_ps(kl, xs + t * lanes + 8 * b));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), s, acc[t]);
    }
  }

  template <int T>
  static void row(const Matrix& w, size_t r, const Activations& act, size_t t0, float* y) {
    const uint8_t* p = w.data + r * w.row_bytes;
    const size_t cols = w.cols, nb = cols / 32, lanes = cols / 4;
    const int8_t* xq = act.qs + t0 * cols;
    const float* xs = act.lane_scale + t0 * lanes;
    const int32_t* xn = act.lane_neg_sum + t0 * lanes;
    __m512 acc[T];
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    size_t b = 0;
    for (; b + 2 <= nb; b += 2, p += 2 * Type::kBlockBytes)
      step<T, true>(p, b, xq, xs, xn, cols, lanes, acc);
    if (b < nb) step<T, false>(p, b, xq, xs, xn, cols, lanes, acc);
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) y[(t0 + t) * w.rows + r] = _mm512_reduce_add_ps(acc[t]);
  }
};

}  // namespace

void matvec_q8_0(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                 size_t num_tokens, float* y) {
  for_rows_and_tokens<Q32Row<Q8_0>>(w, row_begin, row_end, act, num_tokens, y);
}

void matvec_q4_0(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                 size_t num_tokens, float* y) {
  for_rows_and_tokens<Q32Row<Q4_0>>(w, row_begin, row_end, act, num_tokens, y);
}

void matvec_q5_0(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                 size_t num_tokens, float* y) {
  for_rows_and_tokens<Q32Row<Q5_0>>(w, row_begin, row_end, act, num_tokens, y);
}

}  // namespace wafer::kernels::avx512
