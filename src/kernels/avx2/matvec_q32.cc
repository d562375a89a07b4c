// AVX2 matrix-vector products for the 32-element block types (Q8_0, Q4_0, Q5_0) against
// kQ8Block32 activations, one block (one YMM) at a time. Q8_0 uses the sign trick
// (|w| times sign-adjusted x) since vpmaddubsw needs an unsigned side; Q4_0/Q5_0 weights are
// unsigned already and their offset comes back through the activations' sums of 4.
#include "kernels/avx2/kernels.h"
#include "kernels/avx2/simd.h"

namespace wafer::kernels::avx2 {
namespace {

struct Q8_0 {
  static constexpr size_t kBlockBytes = 34;
  static constexpr int kOffsetShift = -1;  // signed weights: no offset
  static __m256i load(const uint8_t* p) { return loadu256(p + 2); }
};

inline __m256i nibbles(const uint8_t* qs) {
  const __m128i v = loadu128(qs);
  const __m128i m = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
}

struct Q4_0 {
  static constexpr size_t kBlockBytes = 18;
  static constexpr int kOffsetShift = 3;
  static __m256i load(const uint8_t* p) { return nibbles(p + 2); }
};

struct Q5_0 {
  static constexpr size_t kBlockBytes = 22;
  static constexpr int kOffsetShift = 4;
  static __m256i load(const uint8_t* p) {
    uint32_t qh;
    __builtin_memcpy(&qh, p + 2, 4);
    // Byte j of `spread` holds byte j / 8 of qh; keep bit j % 8.
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32(static_cast<int>(qh)),
        _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303));
    const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
    return _mm256_or_si256(nibbles(p + 6), _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
  }
};

template <typename Type>
struct Q32Row {
  template <int T>
  static void row(const Matrix& w, size_t r, const Activations& act, size_t t0, float* y) {
    const uint8_t* p = w.data + r * w.row_bytes;
    const size_t cols = w.cols, nb = cols / 32, lanes = cols / 4;
    const int8_t* xq = act.qs + t0 * cols;
    const float* xs = act.lane_scale + t0 * lanes;
    const int32_t* xn = act.lane_neg_sum + t0 * lanes;
    __m256 acc[T];
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    for (size_t b = 0; b < nb; ++b, p += Type::kBlockBytes) {
      const __m256i q = Type::load(p);
      const __m256 d = _mm256_set1_ps(f16_load(p));
      const __m256i aq = Type::kOffsetShift < 0 ? _mm256_sign_epi8(q, q) : q;
      #pragma GCC unroll 16
      for (int t = 0; t < T; ++t) {
        const __m256i x = loadu256(xq + t * cols + 32 * b);
        __m256i dot;
        if constexpr (Type::kOffsetShift < 0) {
          dot = dot4(aq, _mm256_sign_epi8(x, q));
        } else {
          const __m256i init = _mm256_slli_epi32(loadu256(xn + t * lanes + 8 * b), Type::kOffsetShift);
          dot = _mm256_add_epi32(dot4(aq, x), init);
        }
        const __m256 s = _mm256_mul_ps(d, _mm256_loadu_ps(xs + t * lanes + 8 * b));
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), s, acc[t]);
      }
    }
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) y[(t0 + t) * w.rows + r] = hsum(acc[t]);
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

}  // namespace wafer::kernels::avx2
