// AVX-512 VNNI matrix-vector product for Q8_0 in kQ8_0Rows16 (kernels/repack.h). A block
// of a 16-row group is 8 ZMMs of unsigned weights; each token's block is 8 vpdpbusd with a
// broadcast word of its int8 activations, started at -128 * (its sum) to take the +128
// back, then one convert, one scale product and one FMA for all 16 rows. The ZMMs of
// weights are loaded once for every token of a pass, and each row's sum ends in its own
// lane, so there is no horizontal reduction. A token's result takes the same operations
// whatever the other tokens of the call, so batched and lone results are bit for bit equal.
#include "kernels/avx512/kernels.h"
#include "kernels/avx512/simd.h"

#include <type_traits>
#include <utility>

namespace wafer::kernels::avx512 {
namespace {

inline int32_t load_word(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

// How far ahead of its loads the kernel asks for weights. With several tokens a block's
// arithmetic is slow enough that the hardware prefetcher alone leaves DRAM idle (8 tokens
// ran at half the speed without it); one token streams best a little ahead.
constexpr size_t prefetch_bytes(int tokens) { return tokens <= 2 ? 2048 : 8192; }

// Tokens one pass takes: T accumulators, the block's 8 weight vectors and its scales fit
// the 32 registers up to 16 (a verify of k = 8 drafts is 9 tokens: one pass).
constexpr size_t kPassTokens = 16;

// A 16-row group's tokens in passes of at most kPass: pass(std::integral_constant<int, n>{},
// t0, out) for each, n its tokens (a template argument of the group kernel), t0 its first
// and out that token's first result.
template <size_t kPass, typename Pass>
inline void for_each_pass(size_t num_tokens, float* y, size_t y_stride, Pass&& pass) {
  for (size_t t0 = 0; t0 < num_tokens; t0 += kPass) {
    const size_t n = num_tokens - t0 < kPass ? num_tokens - t0 : kPass;
    float* out = y + t0 * y_stride;
    [&]<int... I>(std::integer_sequence<int, I...>) {
      (void)((n == I + 1 && (pass(std::integral_constant<int, I + 1>{}, t0, out), true)) || ...);
    }(std::make_integer_sequence<int, static_cast<int>(kPass)>{});
  }
}

template <int T>
void group(const uint8_t* quants, const uint8_t* scales, size_t nb, const Activations& a, size_t t0,
           float* y, size_t y_stride) {
  const size_t cols = a.cols, lanes = cols / 4;
  const int8_t* xq = a.qs + t0 * cols;
  const float* xs = a.lane_scale + t0 * lanes;
  const int32_t* xn = a.block_neg_sum128 + t0 * nb;
  __m512 acc[T];
  #pragma GCC unroll 16
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (size_t b = 0; b < nb; ++b, quants += 512, scales += 32) {
    __m512i w[8];
    #pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {
      _mm_prefetch(reinterpret_cast<const char*>(quants + prefetch_bytes(T) + 64 * j), _MM_HINT_T0);
      w[j] = _mm512_loadu_si512(quants + 64 * j);
    }
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(scales)));
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) {
      const int8_t* x = xq + t * cols + 32 * b;
      __m512i dot = _mm512_set1_epi32(xn[t * nb + b]);
      #pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) dot = _mm512_dpbusd_epi32(dot, w[j], _mm512_set1_epi32(load_word(x + 4 * j)));
      const __m512 s = _mm512_mul_ps(d, _mm512_set1_ps(xs[t * lanes + 8 * b]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), s, acc[t]);
    }
  }
  #pragma GCC unroll 16
  for (int t = 0; t < T; ++t) _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

// Q4_K (kQ4_KRows16): tokens one pass takes. Each keeps two accumulators (the super-block's
// and the total); the sub-block's 8 nibble vectors and the group's scales take the rest.
constexpr size_t kQ4kPassTokens = 8;

// Byte k of every 32-bit lane, as floats.
inline __m512 lane_byte(__m512i v, int k) {
  return _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(v, 8 * k), _mm512_set1_epi32(0xFF)));
}

// One 16-row group of a Q4_K matrix: per super-block, the 16 lanes' 6-bit scales and mins
// decoded at once from their packed words; per sub-block, 8 vpdpbusd a token (nibbles
// against broadcast activation words), then its scale (d x scale per lane) and its min
// (dmin x min per lane, times the sub-block's activation sum) in one FMA each.
template <int T>
void group_q4k(const uint8_t* p, size_t ns, const Activations& a, size_t t0, float* y, size_t y_stride) {
  const size_t cols = a.cols, ngroups = cols / 16;
  const int8_t* xq = a.qs + t0 * cols;
  const float* xscale = a.scale + t0 * ns;
  const int16_t* gsum = a.group_sum + t0 * ngroups;
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  __m512 acc[T];
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (size_t b = 0; b < ns; ++b, p += 2304) {
    // The group is one stream of 2304 bytes a super-block (36 lines): the header's 4 lines
    // are asked for here and each sub-block's 4 with its loads, all the same distance ahead,
    // so every line of the stream is prefetched once.
    #pragma GCC unroll 4
    for (int c = 0; c < 4; ++c)
      _mm_prefetch(reinterpret_cast<const char*>(p + prefetch_bytes(T) + 64 * c), _MM_HINT_T0);
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)));
    const __m512i w0 = _mm512_loadu_si512(p + 64), w1 = _mm512_loadu_si512(p + 128), w2 = _mm512_loadu_si512(p + 192);
    const __m512i m6 = _mm512_set1_epi32(0x3F3F3F3F), m4 = _mm512_set1_epi32(0x0F0F0F0F), m2 = _mm512_set1_epi32(0x03030303);
    const __m512i sc_lo = _mm512_and_si512(w0, m6);
    const __m512i sc_hi = _mm512_or_si512(_mm512_and_si512(w2, m4),
                                          _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(w0, 6), m2), 4));
    const __m512i mn_lo = _mm512_and_si512(w1, m6);
    const __m512i mn_hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(w2, 4), m4),
                                          _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(w1, 6), m2), 4));
    // The scaled dots and the mins in separate sums, so neither FMA waits for the other.
    __m512 sb[T], sm[T];
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) sb[t] = sm[t] = _mm512_setzero_ps();
    const uint8_t* quants = p + 256;
    #pragma GCC unroll 8
    for (int j = 0; j < 8; ++j, quants += 256) {
      __m512i lo[4], hi[4];
      #pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) {
        _mm_prefetch(reinterpret_cast<const char*>(quants + prefetch_bytes(T) + 64 * c), _MM_HINT_T0);
        const __m512i v = _mm512_loadu_si512(quants + 64 * c);
        lo[c] = _mm512_and_si512(v, low4);
        hi[c] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
      }
      const __m512 scale = _mm512_mul_ps(d, lane_byte(j < 4 ? sc_lo : sc_hi, j & 3));
      const __m512 min = _mm512_mul_ps(dmin, lane_byte(j < 4 ? mn_lo : mn_hi, j & 3));
      #pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const int8_t* x = xq + t * cols + 256 * b + 32 * j;
        __m512i dot = _mm512_setzero_si512();
        #pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) {
          dot = _mm512_dpbusd_epi32(dot, lo[c], _mm512_set1_epi32(load_word(x + 8 * c)));
          dot = _mm512_dpbusd_epi32(dot, hi[c], _mm512_set1_epi32(load_word(x + 8 * c + 4)));
        }
        const int16_t* g = gsum + t * ngroups + 16 * b + 2 * j;
        const float sum = static_cast<float>(static_cast<int32_t>(g[0]) + g[1]);
        sb[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, sb[t]);
        sm[t] = _mm512_fmadd_ps(min, _mm512_set1_ps(sum), sm[t]);
      }
    }
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[t] = _mm512_fmadd_ps(_mm512_sub_ps(sb[t], sm[t]), _mm512_set1_ps(xscale[t * ns + b]), acc[t]);
  }
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

// Q5_0 reads three streams (nibbles, masks, scales) at 256, 64 and 32 bytes a block; each is
// asked for the same number of blocks ahead. With 1-2 tokens that is twice Q8_0's distance,
// as a block is fewer bytes: 1 token at [8960, 1536] went from ~34 to ~42-50 GB/s on 2
// threads (kernels_bench; 8 tokens unchanged).
constexpr size_t q5_prefetch_bytes(int tokens) { return tokens <= 2 ? 4096 : 8192; }

// Q5_0 (kQ5_0Rows16): per block, 4 chunks of nibbles get their fifth bits from the block's
// 8 masks (one 64-bit mask a chunk's low nibbles, one its high ones: a masked add of 16 each),
// then, per token, 8 vpdpbusd started at -16 x the block's activation sum (the weights are
// q + 16), one convert and one FMA with d x the block scale.
template <int T>
void group_q5_0(const uint8_t* quants, const uint8_t* high, const uint8_t* scales, size_t nb, const Activations& a,
                size_t t0, float* y, size_t y_stride) {
  const size_t cols = a.cols, lanes = cols / 4;
  const int8_t* xq = a.qs + t0 * cols;
  const float* xs = a.lane_scale + t0 * lanes;
  const int32_t* xn = a.block_neg_sum128 + t0 * nb;
  const __m512i low4 = _mm512_set1_epi8(0x0F), sixteen = _mm512_set1_epi8(16);
  __m512 acc[T];
  #pragma GCC unroll 16
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (size_t b = 0; b < nb; ++b, quants += 256, high += 64, scales += 32) {
    __m512i w[8];
    #pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      _mm_prefetch(reinterpret_cast<const char*>(quants + q5_prefetch_bytes(T) + 64 * c), _MM_HINT_T0);
      const __m512i v = _mm512_loadu_si512(quants + 64 * c);
      uint64_t bits_lo, bits_hi;
      __builtin_memcpy(&bits_lo, high + 16 * c, 8);
      __builtin_memcpy(&bits_hi, high + 16 * c + 8, 8);
      const __m512i lo = _mm512_and_si512(v, low4);
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
      w[2 * c] = _mm512_mask_add_epi8(lo, _cvtu64_mask64(bits_lo), lo, sixteen);
      w[2 * c + 1] = _mm512_mask_add_epi8(hi, _cvtu64_mask64(bits_hi), hi, sixteen);
    }
    _mm_prefetch(reinterpret_cast<const char*>(high + q5_prefetch_bytes(T) / 4), _MM_HINT_T0);
    if (b % 2 == 0) _mm_prefetch(reinterpret_cast<const char*>(scales + q5_prefetch_bytes(T) / 8), _MM_HINT_T0);
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(scales)));
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) {
      const int8_t* x = xq + t * cols + 32 * b;
      __m512i dot = _mm512_set1_epi32(xn[t * nb + b] / 8);
      #pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) {
        dot = _mm512_dpbusd_epi32(dot, w[2 * c], _mm512_set1_epi32(load_word(x + 8 * c)));
        dot = _mm512_dpbusd_epi32(dot, w[2 * c + 1], _mm512_set1_epi32(load_word(x + 8 * c + 4)));
      }
      const __m512 sc = _mm512_mul_ps(d, _mm512_set1_ps(xs[t * lanes + 8 * b]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), sc, acc[t]);
    }
  }
  #pragma GCC unroll 16
  for (int t = 0; t < T; ++t) _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

// Q6_K (kQ6_KRows16): tokens one pass takes. Each keeps two sums (the super-block's and the
// total); the sub-block's 4 weight vectors, 4 scale chunks and the masks take the rest.
constexpr size_t kQ6kPassTokens = 8;

// One 16-row group of a Q6_K matrix: per sub-block (16 weights a row), 4 vectors of 6-bit
// weights (a nibble and its two top bits), then per token 4 vpdpbusd started at -32 x the
// 16 activations' sum, so the lane holds sum((q - 32) x) exactly; one convert and one FMA
// with the lane's scale (an exact product: the two integers' is under 2^24); per
// super-block one FMA with d x the activations' scale. An FMA rather than vpmulld: with 8
// tokens in L2 it ran at 480 GFLOP/s against 400 (kernels_bench decode_in_l2/q6_K_rows16).
template <int T>
void group_q6k(const uint8_t* p, const uint8_t* dp, size_t ns, const Activations& a, size_t t0, float* y,
               size_t y_stride) {
  const size_t cols = a.cols, ngroups = cols / 16;
  const int8_t* xq = a.qs + t0 * cols;
  const float* xscale = a.scale + t0 * ns;
  const int16_t* gsum = a.group_sum + t0 * ngroups;
  const __m512i low4 = _mm512_set1_epi8(0x0F), top2 = _mm512_set1_epi8(0x30);
  __m512 acc[T];
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (size_t b = 0; b < ns; ++b, p += 3328, dp += 32) {
    // One stream of 3328 bytes a super-block (52 lines), each line asked for once, the
    // scales' 4 here and each sub-block's 3 with its loads; d (a line holds two blocks')
    // two lines ahead, every other block.
    #pragma GCC unroll 4
    for (int c = 0; c < 4; ++c)
      _mm_prefetch(reinterpret_cast<const char*>(p + prefetch_bytes(T) + 64 * c), _MM_HINT_T0);
    if (b % 2 == 0) _mm_prefetch(reinterpret_cast<const char*>(dp + 128), _MM_HINT_T0);
    __m512i sc[4];
    #pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) sc[k] = _mm512_loadu_si512(p + 64 * k);
    __m512 fsum[T];
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) fsum[t] = _mm512_setzero_ps();
    const uint8_t* sub = p + 256;
    #pragma GCC unroll 16
    for (int j = 0; j < 16; ++j, sub += 192) {
      #pragma GCC unroll 3
      for (int c = 0; c < 3; ++c)
        _mm_prefetch(reinterpret_cast<const char*>(sub + prefetch_bytes(T) + 64 * c), _MM_HINT_T0);
      const __m512i v0 = _mm512_loadu_si512(sub), v1 = _mm512_loadu_si512(sub + 64);
      const __m512i h = _mm512_loadu_si512(sub + 128);
      // 0xF8: a | (b & c).
      __m512i w[4];
      w[0] = _mm512_ternarylogic_epi32(_mm512_and_si512(v0, low4), _mm512_slli_epi16(h, 4), top2, 0xF8);
      w[1] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(v0, 4), low4), _mm512_slli_epi16(h, 2),
                                       top2, 0xF8);
      w[2] = _mm512_ternarylogic_epi32(_mm512_and_si512(v1, low4), h, top2, 0xF8);
      w[3] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(v1, 4), low4), _mm512_srli_epi16(h, 2),
                                       top2, 0xF8);
      // The lane's scale j, sign-extended from byte j % 4 of chunk j / 4.
      const __m512 scale = _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(sc[j / 4], 24 - 8 * (j % 4)), 24));
      #pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const int8_t* x = xq + t * cols + 256 * b + 16 * j;
        __m512i dot = _mm512_set1_epi32(-32 * static_cast<int32_t>(gsum[t * ngroups + 16 * b + j]));
        #pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) dot = _mm512_dpbusd_epi32(dot, w[c], _mm512_set1_epi32(load_word(x + 4 * c)));
        fsum[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, fsum[t]);
      }
    }
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dp)));
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t)
      acc[t] = _mm512_fmadd_ps(fsum[t], _mm512_mul_ps(d, _mm512_set1_ps(xscale[t * ns + b])), acc[t]);
  }
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t) _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

}  // namespace

void matvec_q6_k_rows16(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                        size_t num_tokens, float* y) {
  const size_t ns = w.cols / 256, groups = w.rows / 16;
  for (size_t r = row_begin; r < row_end; r += 16) {
    const size_t g = r / 16;
    const uint8_t* p = w.data + g * ns * 3328;
    const uint8_t* dp = w.data + groups * ns * 3328 + g * ns * 32;
    for_each_pass<kQ6kPassTokens>(num_tokens, y + r, w.rows, [&](auto n, size_t t0, float* out) {
      group_q6k<decltype(n)::value>(p, dp, ns, act, t0, out, w.rows);
    });
  }
}

void matvec_q5_0_rows16(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                        size_t num_tokens, float* y) {
  const size_t nb = w.cols / 32, groups = w.rows / 16;
  for (size_t r = row_begin; r < row_end; r += 16) {
    const size_t g = r / 16;
    const uint8_t* q = w.data + g * nb * 256;
    const uint8_t* h = w.data + groups * nb * 256 + g * nb * 64;
    const uint8_t* s = w.data + groups * nb * 320 + g * nb * 32;
    for_each_pass<kPassTokens>(num_tokens, y + r, w.rows, [&](auto n, size_t t0, float* out) {
      group_q5_0<decltype(n)::value>(q, h, s, nb, act, t0, out, w.rows);
    });
  }
}

void matvec_q4_k_rows16(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                        size_t num_tokens, float* y) {
  const size_t ns = w.cols / 256;
  for (size_t r = row_begin; r < row_end; r += 16) {
    const uint8_t* p = w.data + r / 16 * ns * 2304;
    for_each_pass<kQ4kPassTokens>(num_tokens, y + r, w.rows, [&](auto n, size_t t0, float* out) {
      group_q4k<decltype(n)::value>(p, ns, act, t0, out, w.rows);
    });
  }
}

void matvec_q8_0_rows16(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                        size_t num_tokens, float* y) {
  const size_t nb = w.cols / 32;
  const uint8_t* scale_base = w.data + w.rows / 16 * nb * 512;
  for (size_t r = row_begin; r < row_end; r += 16) {
    const size_t g = r / 16;
    const uint8_t* q = w.data + g * nb * 512;
    const uint8_t* s = scale_base + g * nb * 32;
    for_each_pass<kPassTokens>(num_tokens, y + r, w.rows, [&](auto n, size_t t0, float* out) {
      group<decltype(n)::value>(q, s, nb, act, t0, out, w.rows);
    });
  }
}

}  // namespace wafer::kernels::avx512
