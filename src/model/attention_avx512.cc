// AVX-512 range kernel for F16 KV caches: converts a block of 16 positions' keys and values
// to f32 once, scores it for every query head of the group (16 dot products reduced together,
// one vector exp), then one online-softmax rescale per block instead of per position. Built with AVX-512 flags; called only where CPUID says so.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/avx512/simd.h"
#include "model/attention.h"

namespace wafer {
namespace {
constexpr int64_t kBlock = 16;
constexpr int64_t kMaxHeadDim = 256;

// Lane j = the sum of all lanes of s[j]: a 16-way transposing reduction (45 shuffles and
// adds instead of 16 horizontal sums).
inline __m512 sum16(const __m512* s) {
  __m512 t[8], u[4], v[2];
  for (int k = 0; k < 8; ++k)
    t[k] = _mm512_add_ps(_mm512_unpacklo_ps(s[2 * k], s[2 * k + 1]), _mm512_unpackhi_ps(s[2 * k], s[2 * k + 1]));
  for (int k = 0; k < 4; ++k)
    u[k] = _mm512_add_ps(_mm512_shuffle_ps(t[2 * k], t[2 * k + 1], 0x44), _mm512_shuffle_ps(t[2 * k], t[2 * k + 1], 0xEE));
  for (int k = 0; k < 2; ++k)
    v[k] = _mm512_add_ps(_mm512_shuffle_f32x4(u[2 * k], u[2 * k + 1], 0x88), _mm512_shuffle_f32x4(u[2 * k], u[2 * k + 1], 0xDD));
  return _mm512_add_ps(_mm512_shuffle_f32x4(v[0], v[1], 0x88), _mm512_shuffle_f32x4(v[0], v[1], 0xDD));
}


// VECS = head_dim / 16 at compile time, so each head's output accumulators stay in registers.
template <int VECS>
void attend_range_f16(const AttentionArgs& a, const float* q, int64_t kv_head, int64_t group, int64_t begin,
                      int64_t end, SoftmaxPartial* part, float* acc) {
  constexpr int64_t vecs = VECS;
  const int64_t d = a.head_dim;
  const size_t row = a.cache->row_bytes();
  const uint8_t* keys = a.cache->keys(a.layer) + kv_head * d * 2;
  const uint8_t* values = a.cache->values(a.layer) + kv_head * d * 2;
  alignas(64) float kbuf[kBlock * kMaxHeadDim];
  alignas(64) float vbuf[kBlock * kMaxHeadDim];
  alignas(64) float weights[kBlock];
  const __m512 scale = _mm512_set1_ps(a.scale);
  for (int64_t p0 = begin; p0 < end; p0 += kBlock) {
    const int64_t n = std::min(kBlock, end - p0);
    const __mmask16 valid = static_cast<__mmask16>((1u << n) - 1);
    for (int64_t j = 0; j < n; ++j) {
      const auto* kr = reinterpret_cast<const __m256i*>(keys + (p0 + j) * row);
      const auto* vr = reinterpret_cast<const __m256i*>(values + (p0 + j) * row);
      #pragma GCC unroll 16
      for (int64_t i = 0; i < vecs; ++i) {
        _mm512_store_ps(kbuf + j * d + i * 16, _mm512_cvtph_ps(_mm256_loadu_si256(kr + i)));
        _mm512_store_ps(vbuf + j * d + i * 16, _mm512_cvtph_ps(_mm256_loadu_si256(vr + i)));
      }
    }
    for (int64_t g = 0; g < group; ++g) {
      const float* qg = q + g * d;
      __m512 dots[kBlock];
      for (int64_t j = 0; j < kBlock; ++j) {
        __m512 s = _mm512_setzero_ps();
        if (j < n) {
          #pragma GCC unroll 16
      for (int64_t i = 0; i < vecs; ++i)
            s = _mm512_fmadd_ps(_mm512_loadu_ps(qg + i * 16), _mm512_load_ps(kbuf + j * d + i * 16), s);
        }
        dots[j] = s;
      }
      const __m512 scores = _mm512_mul_ps(sum16(dots), scale);
      const float block_max = _mm512_mask_reduce_max_ps(valid, scores);
      SoftmaxPartial& p = part[g];
      float* o = acc + g * d;
      if (block_max > p.max) {
        const float c = std::exp(p.max - block_max);
        p.sum *= c;
        const __m512 cv = _mm512_set1_ps(c);
        #pragma GCC unroll 16
      for (int64_t i = 0; i < vecs; ++i) _mm512_storeu_ps(o + i * 16, _mm512_mul_ps(_mm512_loadu_ps(o + i * 16), cv));
        p.max = block_max;
      }
      const __m512 w =
          _mm512_maskz_mov_ps(valid, kernels::avx512::exp_ps(_mm512_sub_ps(scores, _mm512_set1_ps(p.max))));
      p.sum += _mm512_reduce_add_ps(w);
      _mm512_store_ps(weights, w);
      __m512 out[VECS];
      #pragma GCC unroll 16
      for (int64_t i = 0; i < vecs; ++i) out[i] = _mm512_loadu_ps(o + i * 16);
      for (int64_t j = 0; j < n; ++j) {
        const __m512 wv = _mm512_set1_ps(weights[j]);
        #pragma GCC unroll 16
      for (int64_t i = 0; i < vecs; ++i) out[i] = _mm512_fmadd_ps(wv, _mm512_load_ps(vbuf + j * d + i * 16), out[i]);
      }
      #pragma GCC unroll 16
      for (int64_t i = 0; i < vecs; ++i) _mm512_storeu_ps(o + i * 16, out[i]);
    }
  }
}

}  // namespace

void attend_range_avx512_f16(const AttentionArgs& a, const float* q, int64_t kv_head, int64_t group,
                             int64_t begin, int64_t end, SoftmaxPartial* part, float* acc) {
  switch (a.head_dim / 16) {
#define WAFER_ATTEND_CASE(n) \
  case n: return attend_range_f16<n>(a, q, kv_head, group, begin, end, part, acc);
    WAFER_ATTEND_CASE(1) WAFER_ATTEND_CASE(2) WAFER_ATTEND_CASE(3) WAFER_ATTEND_CASE(4)
    WAFER_ATTEND_CASE(5) WAFER_ATTEND_CASE(6) WAFER_ATTEND_CASE(7) WAFER_ATTEND_CASE(8)
    WAFER_ATTEND_CASE(9) WAFER_ATTEND_CASE(10) WAFER_ATTEND_CASE(11) WAFER_ATTEND_CASE(12)
    WAFER_ATTEND_CASE(13) WAFER_ATTEND_CASE(14) WAFER_ATTEND_CASE(15) WAFER_ATTEND_CASE(16)
#undef WAFER_ATTEND_CASE
    default: return;  // attention() sends only head_dim % 16 == 0, <= 256 here
  }
}

}  // namespace wafer
