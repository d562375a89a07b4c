// AVX2 attention kernel for F16 KV caches, the AVX-512 kernel's scheme at 8 lanes: a block
// is one key tile of 32 positions (model/kv_cache.h: one position a lane), converted from
// F16 once for all of a task's tokens and query heads, as are the block's values. A head's
// 32 scores are 4d FMAs of a broadcast query element with the tile's rows (two heads share
// each load), then vector exps, one online-softmax rescale per block, and 32 FMAs per 8
// output columns from the values. Every head's arithmetic depends only on its own query and
// the block, so a token's result is the same alone or among others. Built with AVX2 flags;
// called only where CPUID says so.
#include <immintrin.h>

#include <algorithm>
#include <limits>

#include "kernels/avx2/simd.h"
#include "model/attention.h"

namespace wafer {
namespace {

using kernels::avx2::exp_ps;
using kernels::avx2::hsum;

constexpr int64_t kBlock = 32;  // positions a block: four vectors of 8
constexpr int64_t kVecs = kBlock / 8;
constexpr int64_t kMaxHeadDim = 256;

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

// out[r] = out[r] * rescale[r] + sum_j w[r][j] * v[j] for R rows and COLS vectors of the head
// from column c0, each broadcast weight feeding COLS FMAs.
template <int R, int COLS>
inline void accumulate_cols(const float* vbuf, int64_t d, int64_t c0, int64_t n, const float (*w)[kBlock],
                            const __m256* rescale, float* o) {
  __m256 acc[R][COLS];
  #pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 4
    for (int c = 0; c < COLS; ++c) acc[r][c] = _mm256_mul_ps(_mm256_loadu_ps(o + r * d + c0 + 8 * c), rescale[r]);
  for (int64_t j = 0; j < n; ++j) {
    __m256 vv[COLS];
    #pragma GCC unroll 4
    for (int c = 0; c < COLS; ++c) vv[c] = _mm256_load_ps(vbuf + j * d + c0 + 8 * c);
    #pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 wv = _mm256_broadcast_ss(&w[r][j]);
      #pragma GCC unroll 4
      for (int c = 0; c < COLS; ++c) acc[r][c] = _mm256_fmadd_ps(wv, vv[c], acc[r][c]);
    }
  }
  #pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 4
    for (int c = 0; c < COLS; ++c) _mm256_storeu_ps(o + r * d + c0 + 8 * c, acc[r][c]);
}

// R <= 2 query heads (rows q + r * d) against one block of n <= 32 positions: scores, the
// online-softmax update, then out[r] = out[r] * rescale + sum_j w[j] * v[j].
template <int R>
inline void rows_block(const float* q, int64_t d, const float* kt, const float* vbuf, int64_t n, float scale,
                       SoftmaxPartial* p, float* o) {
  __m256 s[R][kVecs];
  #pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 4
    for (int64_t v = 0; v < kVecs; ++v) s[r][v] = _mm256_setzero_ps();
  for (int64_t i = 0; i < d; ++i) {
    __m256 kv[kVecs];
    #pragma GCC unroll 4
    for (int64_t v = 0; v < kVecs; ++v) kv[v] = _mm256_load_ps(kt + i * kBlock + 8 * v);
    #pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 qv = _mm256_broadcast_ss(q + r * d + i);
      #pragma GCC unroll 4
      for (int64_t v = 0; v < kVecs; ++v) s[r][v] = _mm256_fmadd_ps(qv, kv[v], s[r][v]);
    }
  }
  const __m256 lane = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256 neg_inf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  __m256 valid[kVecs];
  #pragma GCC unroll 4
  for (int64_t v = 0; v < kVecs; ++v)
    valid[v] = _mm256_cmp_ps(lane, _mm256_set1_ps(static_cast<float>(n - 8 * v)), _CMP_LT_OQ);
  alignas(32) float w[R][kBlock];
  __m256 rescale[R];
  #pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    __m256 m = neg_inf;
    #pragma GCC unroll 4
    for (int64_t v = 0; v < kVecs; ++v) {
      s[r][v] = _mm256_blendv_ps(neg_inf, _mm256_mul_ps(s[r][v], _mm256_set1_ps(scale)), valid[v]);
      m = _mm256_max_ps(m, s[r][v]);
    }
    const float new_max = std::max(p[r].max, hmax(m));
    const __m256 nm = _mm256_set1_ps(new_max);
    rescale[r] = exp_ps(_mm256_sub_ps(_mm256_set1_ps(p[r].max), nm));
    __m256 sum = _mm256_setzero_ps();
    #pragma GCC unroll 4
    for (int64_t v = 0; v < kVecs; ++v) {
      const __m256 e = _mm256_and_ps(exp_ps(_mm256_sub_ps(s[r][v], nm)), valid[v]);
      sum = _mm256_add_ps(sum, e);
      _mm256_store_ps(w[r] + 8 * v, e);
    }
    p[r].sum = p[r].sum * _mm256_cvtss_f32(rescale[r]) + hsum(sum);
    p[r].max = new_max;
  }
  // Four output vectors (32 columns) a pass, then the rest.
  int64_t c0 = 0;
  for (; c0 + 32 <= d; c0 += 32) accumulate_cols<R, 4>(vbuf, d, c0, n, w, rescale, o);
  switch ((d - c0) / 8) {
    case 1: accumulate_cols<R, 1>(vbuf, d, c0, n, w, rescale, o); break;
    case 2: accumulate_cols<R, 2>(vbuf, d, c0, n, w, rescale, o); break;
    case 3: accumulate_cols<R, 3>(vbuf, d, c0, n, w, rescale, o); break;
    default: break;
  }
}

inline __m256 load_f16(const void* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(static_cast<const __m128i*>(p)));
}

}  // namespace

void attend_avx2_f16(const AttentionArgs& a, const AttendTask& task) {
  const int64_t d = a.head_dim;
  static_assert(kBlock == KvCache::kKeyTile && kAttentionChunk % kBlock == 0, "blocks are key tiles");
  const size_t row = a.cache->row_bytes(), tile_bytes = a.cache->key_tile_bytes();
  // The head's first row of each tile: key element i of the tile's position j is at
  // [i * kBlock + j].
  const uint8_t* keys = a.cache->keys(a.layer) + task.kv_head * d * kBlock * 2;
  const uint8_t* values = a.cache->values(a.layer) + task.kv_head * d * 2;
  alignas(32) float ktf[kMaxHeadDim * kBlock];
  alignas(32) float vbuf[kBlock * kMaxHeadDim];
  int64_t last = task.begin;
  for (size_t t = 0; t < task.num_tokens; ++t) last = std::max(last, task.end[t]);
  for (int64_t p0 = task.begin; p0 < last; p0 += kBlock) {
    const int64_t n = std::min(kBlock, last - p0);
    // Blocks start on tile boundaries (chunks are multiples of kBlock).
    const uint8_t* kt = keys + static_cast<size_t>(p0 / kBlock) * tile_bytes;
    for (int64_t i = 0; i < d; ++i)
      for (int64_t v = 0; v < kVecs; ++v)
        _mm256_store_ps(ktf + i * kBlock + 8 * v, load_f16(kt + 2 * (i * kBlock + 8 * v)));
    for (int64_t j = 0; j < n; ++j)
      for (int64_t c = 0; c < d; c += 8) _mm256_store_ps(vbuf + j * d + c, load_f16(values + (p0 + j) * row + 2 * c));
    for (size_t t = 0; t < task.num_tokens; ++t) {
      const int64_t nt = std::min(n, task.end[t] - p0);
      if (nt <= 0) continue;
      float* st = task.state + t * task.state_stride;
      auto* part = reinterpret_cast<SoftmaxPartial*>(st);
      float* out = st + 2 * task.group;
      const float* q = task.q + t * task.q_stride;
      int64_t g = 0;
      for (; g + 2 <= task.group; g += 2) rows_block<2>(q + g * d, d, ktf, vbuf, nt, a.scale, part + g, out + g * d);
      if (g < task.group) rows_block<1>(q + g * d, d, ktf, vbuf, nt, a.scale, part + g, out + g * d);
    }
  }
}

}  // namespace wafer
