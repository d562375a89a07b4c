// AVX-512 attention kernel for F16 KV caches. The cache keeps keys in tiles of 32
// positions with one position a lane (model/kv_cache.h), so a block's keys are read as
// they are: a head's 32 scores are 2d FMAs of a broadcast query element with the two
// halves of a row of the tile, converted from F16 as they load, or once a block for all of
// a task's tokens when it has several (no transpose, no horizontal sums). Then vector exps, and d/16 x 32 FMAs into its output (each broadcast
// weight feeding up to 4 columns) from the block's values, converted once for every token
// and query head of the task, with one online-softmax rescale per block and no branch.
// Each head's operations depend only on its own query and the block, never on the other
// rows of the task. Built with AVX-512 flags; called only where CPUID says so.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/avx512/simd.h"
#include "model/attention.h"

namespace wafer {
namespace {
constexpr int64_t kBlock = 32;  // positions a block: two vectors of 16
constexpr int64_t kMaxHeadDim = 256;

// The maximum of all lanes of v, in every lane.
inline __m512 max_all(__m512 v) {
  v = _mm512_max_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_max_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
  v = _mm512_max_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));
  return _mm512_max_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));
}

// Scores of R query heads (rows q + r * d) for the block's two halves of 16 positions (kt:
// the head's rows of the key tile; next: the next tile's, fetched ahead), each broadcast
// query element used for both halves; then the online-softmax update. Leaves the
// block's weights in w[r][0..31] and each row's rescale factor exp(old max - new max) in
// rescale[r] (1 exactly where the maximum stays, 0 on the first block: no branch).
template <int VECS, int R, typename Key>
inline void score_rows(const float* q, const Key* kt, const Key* next, int64_t n, __m512 scale,
                       SoftmaxPartial* p, float (*w)[kBlock], __m512* rescale) {
  constexpr int64_t d = VECS * 16;
  __m512 sa[R], sb[R];
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r) sa[r] = sb[r] = _mm512_setzero_ps();
  for (int64_t i = 0; i < d; ++i) {
    __m512 ka, kb;
    if constexpr (std::is_same_v<Key, uint16_t>) {
      _mm_prefetch(reinterpret_cast<const char*>(next + i * kBlock), _MM_HINT_T0);
      ka = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(kt + i * kBlock)));
      kb = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(kt + i * kBlock + 16)));
    } else {
      ka = _mm512_load_ps(kt + i * kBlock);
      kb = _mm512_load_ps(kt + i * kBlock + 16);
    }
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 qv = _mm512_set1_ps(q[r * d + i]);
      sa[r] = _mm512_fmadd_ps(qv, ka, sa[r]);
      sb[r] = _mm512_fmadd_ps(qv, kb, sb[r]);
    }
  }
  const __mmask16 va = static_cast<__mmask16>(n >= 16 ? 0xFFFF : (1u << n) - 1);
  const __mmask16 vb = static_cast<__mmask16>(n <= 16 ? 0 : (1u << (n - 16)) - 1);
  const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  #pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const __m512 a = _mm512_mask_mov_ps(neg_inf, va, _mm512_mul_ps(sa[r], scale));
    const __m512 b = _mm512_mask_mov_ps(neg_inf, vb, _mm512_mul_ps(sb[r], scale));
    const __m512 old_max = _mm512_set1_ps(p[r].max);
    const __m512 new_max = _mm512_max_ps(old_max, max_all(_mm512_max_ps(a, b)));
    rescale[r] = kernels::avx512::exp_ps(_mm512_sub_ps(old_max, new_max));
    const __m512 wa = _mm512_maskz_mov_ps(va, kernels::avx512::exp_ps(_mm512_sub_ps(a, new_max)));
    const __m512 wb = _mm512_maskz_mov_ps(vb, kernels::avx512::exp_ps(_mm512_sub_ps(b, new_max)));
    p[r].sum = p[r].sum * _mm512_cvtss_f32(rescale[r]) + _mm512_reduce_add_ps(_mm512_add_ps(wa, wb));
    p[r].max = _mm512_cvtss_f32(new_max);
    _mm512_store_ps(w[r], wa);
    _mm512_store_ps(w[r] + 16, wb);
  }
}

// out[r] = out[r] * rescale[r] + sum_j w[r][j] * v[j] for R rows (R <= 4) and COLS <= 4
// vectors of the head from column c0: each broadcast weight is used for COLS FMAs.
template <int VECS, int R, int COLS>
inline void accumulate_rows(const float* vbuf, int64_t c0, const float (*w)[kBlock], const __m512* rescale,
                            float* o) {
  constexpr int64_t d = VECS * 16;
  __m512 acc[R][COLS];
  #pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 4
    for (int c = 0; c < COLS; ++c) acc[r][c] = _mm512_mul_ps(_mm512_loadu_ps(o + r * d + c0 + c * 16), rescale[r]);
  #pragma GCC unroll 4
  for (int64_t j = 0; j < kBlock; ++j) {
    __m512 v[COLS];
    #pragma GCC unroll 4
    for (int c = 0; c < COLS; ++c) v[c] = _mm512_load_ps(vbuf + j * d + c0 + c * 16);
    #pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 wv = _mm512_set1_ps(w[r][j]);
      #pragma GCC unroll 4
      for (int c = 0; c < COLS; ++c) acc[r][c] = _mm512_fmadd_ps(wv, v[c], acc[r][c]);
    }
  }
  #pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 4
    for (int c = 0; c < COLS; ++c) _mm512_storeu_ps(o + r * d + c0 + c * 16, acc[r][c]);
}

// All of a head's columns for R <= 4 rows.
template <int VECS, int R>
inline void accumulate_head(const float* vbuf, const float (*w)[kBlock], const __m512* rescale, float* o) {
  for (int64_t g = 0; g < VECS / 4; ++g) accumulate_rows<VECS, R, 4>(vbuf, g * 64, w, rescale, o);
  if constexpr (VECS % 4 != 0) accumulate_rows<VECS, R, VECS % 4>(vbuf, VECS / 4 * 64, w, rescale, o);
}

// R <= 8 query heads against one block of 32 positions.
template <int VECS, int R, typename Key>
inline void rows_block(const float* q, const Key* kt, const Key* next, const float* vbuf, int64_t n,
                       __m512 scale, SoftmaxPartial* p, float* o) {
  constexpr int64_t d = VECS * 16;
  alignas(64) float w[R][kBlock];
  __m512 rescale[R];
  score_rows<VECS, R, Key>(q, kt, next, n, scale, p, w, rescale);
  if constexpr (R > 4) {
    accumulate_head<VECS, 4>(vbuf, w, rescale, o);
    accumulate_head<VECS, R - 4>(vbuf, w + 4, rescale + 4, o + 4 * d);
  } else {
    accumulate_head<VECS, R>(vbuf, w, rescale, o);
  }
}

// All `group` heads of one token, in runs of up to 8 rows.
template <int VECS, typename Key>
void heads_block(const float* q, int64_t group, const Key* kt, const Key* next, const float* vbuf,
                 int64_t n, __m512 scale, SoftmaxPartial* p, float* o) {
  constexpr int64_t d = VECS * 16;
  for (int64_t g = 0; g < group; g += 8) {
    const float* qg = q + g * d;
    float* og = o + g * d;
    switch (std::min<int64_t>(8, group - g)) {
      case 1: rows_block<VECS, 1, Key>(qg, kt, next, vbuf, n, scale, p + g, og); break;
      case 2: rows_block<VECS, 2, Key>(qg, kt, next, vbuf, n, scale, p + g, og); break;
      case 3: rows_block<VECS, 3, Key>(qg, kt, next, vbuf, n, scale, p + g, og); break;
      case 4: rows_block<VECS, 4, Key>(qg, kt, next, vbuf, n, scale, p + g, og); break;
      case 5: rows_block<VECS, 5, Key>(qg, kt, next, vbuf, n, scale, p + g, og); break;
      case 6: rows_block<VECS, 6, Key>(qg, kt, next, vbuf, n, scale, p + g, og); break;
      case 7: rows_block<VECS, 7, Key>(qg, kt, next, vbuf, n, scale, p + g, og); break;
      default: rows_block<VECS, 8, Key>(qg, kt, next, vbuf, n, scale, p + g, og); break;
    }
  }
}

// Values of 16 positions [p0, p0 + n) (zero past n) converted into vbuf[(j0 + j) * d]; the
// next block's are fetched ahead.
template <int VECS>
inline void convert_values(const uint8_t* values, size_t row, int64_t p0, int64_t n, int64_t j0, float* vbuf) {
  constexpr int64_t d = VECS * 16;
  for (int64_t j = 0; j < 16; ++j) {
    const bool in = j < n;
    #pragma GCC unroll 8
    for (int64_t c = 0; c < (d * 2 + 63) / 64; ++c)
      _mm_prefetch(reinterpret_cast<const char*>(values + (p0 + kBlock + j) * row) + 64 * c, _MM_HINT_T0);
    #pragma GCC unroll 16
    for (int64_t i = 0; i < VECS; ++i)
      _mm512_store_ps(vbuf + (j0 + j) * d + i * 16,
                      in ? _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(values + (p0 + j) * row) + i))
                         : _mm512_setzero_ps());
  }
}

template <int VECS>
void attend_f16(const AttentionArgs& a, const AttendTask& task) {
  constexpr int64_t d = VECS * 16;
  static_assert(kBlock == KvCache::kKeyTile && kAttentionChunk % kBlock == 0, "blocks are key tiles");
  const size_t row = a.cache->row_bytes(), tile_bytes = a.cache->key_tile_bytes();
  // The head's first row of each tile: key element i of the tile's position j is at
  // [i * kBlock + j].
  const uint8_t* keys = a.cache->keys(a.layer) + task.kv_head * d * kBlock * 2;
  const uint8_t* values = a.cache->values(a.layer) + task.kv_head * d * 2;
  alignas(64) float vbuf[kBlock * kMaxHeadDim];
  // With several tokens, each converts the same key rows: they are converted once a block
  // instead (the same values, so a token's result does not depend on the others).
  const bool shared = task.num_tokens > 1;
  alignas(64) float ktf[kMaxHeadDim * kBlock];
  const __m512 scale = _mm512_set1_ps(a.scale);
  int64_t last = task.begin;
  for (size_t t = 0; t < task.num_tokens; ++t) last = std::max(last, task.end[t]);
  for (int64_t p0 = task.begin; p0 < last; p0 += kBlock) {
    const int64_t n = std::min(kBlock, last - p0);
    // Blocks start on tile boundaries (chunks are multiples of kBlock).
    const auto* kt = reinterpret_cast<const uint16_t*>(keys + static_cast<size_t>(p0 / kBlock) * tile_bytes);
    const auto* next = reinterpret_cast<const uint16_t*>(reinterpret_cast<const uint8_t*>(kt) + tile_bytes);
    if (shared) {  // several tokens score against this tile: its rows converted once
      for (int64_t i = 0; i < d; ++i) {
        _mm_prefetch(reinterpret_cast<const char*>(next + i * kBlock), _MM_HINT_T0);
        _mm512_store_ps(ktf + i * kBlock, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(kt + i * kBlock))));
        _mm512_store_ps(ktf + i * kBlock + 16,
                        _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(kt + i * kBlock + 16))));
      }
    }
    convert_values<VECS>(values, row, p0, std::min<int64_t>(n, 16), 0, vbuf);
    convert_values<VECS>(values, row, p0 + 16, std::max<int64_t>(n - 16, 0), 16, vbuf);
    for (size_t t = 0; t < task.num_tokens; ++t) {
      const int64_t nt = std::min(n, task.end[t] - p0);
      if (nt <= 0) continue;
      float* st = task.state + t * task.state_stride;
      auto* part = reinterpret_cast<SoftmaxPartial*>(st);
      const float* q = task.q + t * task.q_stride;
      if (shared) heads_block<VECS, float>(q, task.group, ktf, ktf, vbuf, nt, scale, part, st + 2 * task.group);
      else heads_block<VECS, uint16_t>(q, task.group, kt, next, vbuf, nt, scale, part, st + 2 * task.group);
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
