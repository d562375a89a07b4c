// AVX-512 attention kernel for F16 KV caches. Per block of 16 positions it converts the keys
// once, transposed (lane = position), and the values once, for every token and query head of
// its task. A head's 16 scores are then d FMAs of a broadcast query element with a row of
// the transposed keys (no horizontal sums), one vector exp, and d/16 x 16 FMAs into its
// output, with one online-softmax rescale per block. Each head's operations depend only on
// its own query and the block, never on the other rows of the task. Built with AVX-512 flags;
// called only where CPUID says so.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/avx512/simd.h"
#include "model/attention.h"

namespace wafer {
namespace {
constexpr int64_t kBlock = 16;
constexpr int64_t kMaxHeadDim = 256;

// In-register transpose of 16 rows of 16 floats.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  // r[4q + j]: rows 4q..4q+3, column j of each 128-bit lane (lane l = columns 4l..4l+3).
  for (int j = 0; j < 4; ++j) {
    const __m512 a = _mm512_shuffle_f32x4(r[j], r[4 + j], _MM_SHUFFLE(2, 0, 2, 0));
    const __m512 b = _mm512_shuffle_f32x4(r[j], r[4 + j], _MM_SHUFFLE(3, 1, 3, 1));
    const __m512 c = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], _MM_SHUFFLE(2, 0, 2, 0));
    const __m512 d = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], _MM_SHUFFLE(3, 1, 3, 1));
    t[j] = _mm512_shuffle_f32x4(a, c, _MM_SHUFFLE(2, 0, 2, 0));
    t[j + 4] = _mm512_shuffle_f32x4(b, d, _MM_SHUFFLE(2, 0, 2, 0));
    t[j + 8] = _mm512_shuffle_f32x4(a, c, _MM_SHUFFLE(3, 1, 3, 1));
    t[j + 12] = _mm512_shuffle_f32x4(b, d, _MM_SHUFFLE(3, 1, 3, 1));
  }
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

// R query heads (rows q + r * d) against one block: scores, online-softmax update, output
// accumulation. The rows are interleaved only for instruction-level parallelism; each row's
// arithmetic is its own.
template <int VECS, int R>
inline void rows_block(const float* q, const float* kt, const float* vbuf, int64_t n, __m512 scale,
                       SoftmaxPartial* p, float* o) {
  constexpr int64_t d = VECS * 16;
  __m512 s0[R], s1[R];
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r) s0[r] = s1[r] = _mm512_setzero_ps();
  for (int64_t i = 0; i < d; i += 2) {
    const __m512 k0 = _mm512_load_ps(kt + i * 16), k1 = _mm512_load_ps(kt + (i + 1) * 16);
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      s0[r] = _mm512_fmadd_ps(_mm512_set1_ps(q[r * d + i]), k0, s0[r]);
      s1[r] = _mm512_fmadd_ps(_mm512_set1_ps(q[r * d + i + 1]), k1, s1[r]);
    }
  }
  const __mmask16 valid = static_cast<__mmask16>((1u << n) - 1);
  // The new maxima and the rescale factors exp(old max - new max) of all rows in one vector
  // (1 exactly where the maximum stays, 0 on the first block), so there is no branch.
  alignas(64) float old_max[16] = {}, new_max[16] = {}, rescale[16];
  __m512 scores[R];
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    scores[r] = _mm512_mul_ps(_mm512_add_ps(s0[r], s1[r]), scale);
    old_max[r] = p[r].max;
    new_max[r] = std::max(p[r].max, _mm512_mask_reduce_max_ps(valid, scores[r]));
  }
  _mm512_store_ps(rescale, kernels::avx512::exp_ps(_mm512_sub_ps(_mm512_load_ps(old_max), _mm512_load_ps(new_max))));
  alignas(64) float weights[R][kBlock];
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const __m512 w = _mm512_maskz_mov_ps(valid, kernels::avx512::exp_ps(_mm512_sub_ps(scores[r], _mm512_set1_ps(new_max[r]))));
    p[r].sum = p[r].sum * rescale[r] + _mm512_reduce_add_ps(w);
    p[r].max = new_max[r];
    _mm512_store_ps(weights[r], w);
  }
  // Invalid positions have weight 0 (and finite or zeroed values), so all 16 are summed.
  for (int64_t i = 0; i < VECS; ++i) {
    __m512 acc[R];
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r] = _mm512_mul_ps(_mm512_loadu_ps(o + r * d + i * 16), _mm512_set1_ps(rescale[r]));
    #pragma GCC unroll 16
    for (int64_t j = 0; j < kBlock; ++j) {
      const __m512 v = _mm512_load_ps(vbuf + j * d + i * 16);
      #pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(weights[r][j]), v, acc[r]);
    }
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) _mm512_storeu_ps(o + r * d + i * 16, acc[r]);
  }
}

// All `group` heads of one token, in runs of up to 8 rows.
template <int VECS>
void heads_block(const float* q, int64_t group, const float* kt, const float* vbuf, int64_t n, __m512 scale,
                 SoftmaxPartial* p, float* o) {
  constexpr int64_t d = VECS * 16;
  for (int64_t g = 0; g < group; g += 8) {
    const float* qg = q + g * d;
    float* og = o + g * d;
    switch (std::min<int64_t>(8, group - g)) {
      case 1: rows_block<VECS, 1>(qg, kt, vbuf, n, scale, p + g, og); break;
      case 2: rows_block<VECS, 2>(qg, kt, vbuf, n, scale, p + g, og); break;
      case 3: rows_block<VECS, 3>(qg, kt, vbuf, n, scale, p + g, og); break;
      case 4: rows_block<VECS, 4>(qg, kt, vbuf, n, scale, p + g, og); break;
      case 5: rows_block<VECS, 5>(qg, kt, vbuf, n, scale, p + g, og); break;
      case 6: rows_block<VECS, 6>(qg, kt, vbuf, n, scale, p + g, og); break;
      case 7: rows_block<VECS, 7>(qg, kt, vbuf, n, scale, p + g, og); break;
      default: rows_block<VECS, 8>(qg, kt, vbuf, n, scale, p + g, og); break;
    }
  }
}

template <int VECS>
void attend_f16(const AttentionArgs& a, const AttendTask& task) {
  constexpr int64_t d = VECS * 16;
  const size_t row = a.cache->row_bytes();
  const uint8_t* keys = a.cache->keys(a.layer) + task.kv_head * d * 2;
  const uint8_t* values = a.cache->values(a.layer) + task.kv_head * d * 2;
  alignas(64) float kt[kMaxHeadDim * kBlock];  // kt[i * 16 + j] = key element i of position j
  alignas(64) float vbuf[kBlock * kMaxHeadDim];
  const __m512 scale = _mm512_set1_ps(a.scale);
  int64_t last = task.begin;
  for (size_t t = 0; t < task.num_tokens; ++t) last = std::max(last, task.end[t]);
  for (int64_t p0 = task.begin; p0 < last; p0 += kBlock) {
    const int64_t n = std::min(kBlock, last - p0);
    for (int64_t i = 0; i < VECS; ++i) {
      __m512 r[16];
      if (n == kBlock) {
        #pragma GCC unroll 16
        for (int64_t j = 0; j < kBlock; ++j) {
          r[j] = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(keys + (p0 + j) * row) + i));
          _mm512_store_ps(vbuf + j * d + i * 16,
                          _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(values + (p0 + j) * row) + i)));
        }
      } else {
        for (int64_t j = 0; j < kBlock; ++j) {
          const bool in = j < n;
          r[j] = in ? _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(keys + (p0 + j) * row) + i))
                    : _mm512_setzero_ps();
          _mm512_store_ps(vbuf + j * d + i * 16,
                          in ? _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(values + (p0 + j) * row) + i))
                             : _mm512_setzero_ps());
        }
      }
      transpose16(r);
      #pragma GCC unroll 16
      for (int64_t c = 0; c < 16; ++c) _mm512_store_ps(kt + (i * 16 + c) * 16, r[c]);
    }
    for (size_t t = 0; t < task.num_tokens; ++t) {
      const int64_t nt = std::min(n, task.end[t] - p0);
      if (nt <= 0) continue;
      float* st = task.state + t * task.state_stride;
      auto* part = reinterpret_cast<SoftmaxPartial*>(st);
      const float* q = task.q + t * task.q_stride;
      heads_block<VECS>(q, task.group, kt, vbuf, nt, scale, part, st + 2 * task.group);
    }
  }
}

}  // namespace

void attend_avx512_f16(const AttentionArgs& a, const AttendTask& task) {
  switch (a.head_dim / 16) {
#define WAFER_ATTEND_CASE(n) \
  case n: return attend_f16<n>(a, task);
    WAFER_ATTEND_CASE(1) WAFER_ATTEND_CASE(2) WAFER_ATTEND_CASE(3) WAFER_ATTEND_CASE(4)
    WAFER_ATTEND_CASE(5) WAFER_ATTEND_CASE(6) WAFER_ATTEND_CASE(7) WAFER_ATTEND_CASE(8)
    WAFER_ATTEND_CASE(9) WAFER_ATTEND_CASE(10) WAFER_ATTEND_CASE(11) WAFER_ATTEND_CASE(12)
    WAFER_ATTEND_CASE(13) WAFER_ATTEND_CASE(14) WAFER_ATTEND_CASE(15) WAFER_ATTEND_CASE(16)
#undef WAFER_ATTEND_CASE
    default: return;  // attention() sends only head_dim % 16 == 0, <= 256 here
  }
}

}  // namespace wafer
