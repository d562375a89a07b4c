// AVX-512 range kernel for F16 KV caches: converts a block of 16 positions' keys and values
// to f32 once, scores it for every query head of the group, then one online-softmax rescale
// per block instead of per position. Built with AVX-512 flags; called only where CPUID says so.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "model/attention.h"

namespace wafer {
namespace {
constexpr int64_t kBlock = 16;
constexpr int64_t kMaxHeadDim = 256;
}  // namespace

void attend_range_avx512_f16(const AttentionArgs& a, const float* q, int64_t kv_head, int64_t group,
                             int64_t begin, int64_t end, SoftmaxPartial* part, float* acc) {
  const int64_t d = a.head_dim, vecs = d / 16;
  const size_t row = a.cache->row_bytes();
  const uint8_t* keys = a.cache->keys(a.layer) + kv_head * d * 2;
  const uint8_t* values = a.cache->values(a.layer) + kv_head * d * 2;
  alignas(64) float kbuf[kBlock * kMaxHeadDim];
  alignas(64) float vbuf[kBlock * kMaxHeadDim];
  alignas(64) float scores[kBlock];
  for (int64_t p0 = begin; p0 < end; p0 += kBlock) {
    const int64_t n = std::min(kBlock, end - p0);
    for (int64_t j = 0; j < n; ++j) {
      const auto* kr = reinterpret_cast<const __m256i*>(keys + (p0 + j) * row);
      const auto* vr = reinterpret_cast<const __m256i*>(values + (p0 + j) * row);
      for (int64_t i = 0; i < vecs; ++i) {
        _mm512_store_ps(kbuf + j * d + i * 16, _mm512_cvtph_ps(_mm256_loadu_si256(kr + i)));
        _mm512_store_ps(vbuf + j * d + i * 16, _mm512_cvtph_ps(_mm256_loadu_si256(vr + i)));
      }
    }
    for (int64_t g = 0; g < group; ++g) {
      const float* qg = q + g * d;
      float block_max = -INFINITY;
      for (int64_t j = 0; j < n; ++j) {
        __m512 s = _mm512_setzero_ps();
        for (int64_t i = 0; i < vecs; ++i)
          s = _mm512_fmadd_ps(_mm512_loadu_ps(qg + i * 16), _mm512_load_ps(kbuf + j * d + i * 16), s);
        scores[j] = _mm512_reduce_add_ps(s) * a.scale;
        block_max = std::max(block_max, scores[j]);
      }
      SoftmaxPartial& p = part[g];
      float* o = acc + g * d;
      if (block_max > p.max) {
        const __m512 c = _mm512_set1_ps(std::exp(p.max - block_max));
        p.sum *= std::exp(p.max - block_max);
        for (int64_t i = 0; i < vecs; ++i) _mm512_storeu_ps(o + i * 16, _mm512_mul_ps(_mm512_loadu_ps(o + i * 16), c));
        p.max = block_max;
      }
      __m512 out[kMaxHeadDim / 16];
      for (int64_t i = 0; i < vecs; ++i) out[i] = _mm512_loadu_ps(o + i * 16);
      for (int64_t j = 0; j < n; ++j) {
        const float w = std::exp(scores[j] - p.max);
        p.sum += w;
        const __m512 wv = _mm512_set1_ps(w);
        for (int64_t i = 0; i < vecs; ++i) out[i] = _mm512_fmadd_ps(wv, _mm512_load_ps(vbuf + j * d + i * 16), out[i]);
      }
      for (int64_t i = 0; i < vecs; ++i) _mm512_storeu_ps(o + i * 16, out[i]);
    }
  }
}

}  // namespace wafer
