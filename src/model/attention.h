// Causal grouped-query attention over a KV cache, flash-style: work is split into (kv head,
// chunk of positions, run of tokens) tasks, each streaming its keys and values once for all
// the query heads of its group and all its tokens with an online softmax (no score buffer);
// the chunks' partial softmaxes are then merged. A single decoding token so spreads its
// positions across threads (split-K). The scalar reference is the spec.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/thread_pool.h"
#include "model/kv_cache.h"

namespace wafer {

struct AttentionArgs {
  const float* q = nullptr;   // [num_tokens, n_head * head_dim], rotated
  float* out = nullptr;       // [num_tokens, n_head * head_dim]
  const KvCache* cache = nullptr;
  int64_t layer = 0;
  int64_t start_pos = 0;      // token t attends to positions 0 .. start_pos + t
  size_t num_tokens = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;
  float scale = 1.0f;         // applied to q.k
};

// The fastest implementation this CPU runs (AVX-512 or AVX2 for F16 caches, portable
// otherwise).
void attention(const AttentionArgs& args, ThreadPool& pool);

// Portable online-softmax implementation with split-K; forced with WAFER_ISA=reference.
void attention_portable(const AttentionArgs& args, ThreadPool& pool);

namespace reference {
// Two-pass softmax per (token, head) in double precision: the spec.
void attention(const AttentionArgs& args, ThreadPool& pool);
}  // namespace reference

// --- internal: shared by the implementations ---
// Running softmax state of one query head over a range of positions.
struct SoftmaxPartial {
  float max;
  float sum;
};

// The cache is taken in chunks of kAttentionChunk positions on a fixed grid (chunk c holds
// positions [c * kAttentionChunk, (c + 1) * kAttentionChunk)), each chunk's partial softmax
// kept apart and merged in chunk order. The grid depends on nothing but position, so a
// token's output is bit for bit the same alone or among others (batched decoding and
// speculative verification rely on it), and the chunks are the split-K of decode.
constexpr int64_t kAttentionChunk = 512;

// One unit of work: the `group` query heads of kv head `kv_head` for `num_tokens` tokens,
// over positions [begin, end[i]) of one chunk for token i (end[i] <= begin: none). Token i's
// query heads start at q + i * q_stride; its partial state is at
// state + i * state_stride: SoftmaxPartial[group], then acc[group * head_dim] (unnormalised).
struct AttendTask {
  const float* q = nullptr;
  size_t q_stride = 0;
  int64_t kv_head = 0;
  int64_t group = 0;
  int64_t begin = 0;
  const int64_t* end = nullptr;
  size_t num_tokens = 0;
  float* state = nullptr;
  size_t state_stride = 0;
};
// Fills the task's partial states (which start empty: max -inf, sum 0, acc 0).
using AttendFn = void (*)(const AttentionArgs& a, const AttendTask& task);
void attend_portable(const AttentionArgs& a, const AttendTask& task);
void attend_avx512_f16(const AttentionArgs& a, const AttendTask& task);
void attend_avx2_f16(const AttentionArgs& a, const AttendTask& task);  // head_dim % 8 == 0, <= 256
void attention_with(const AttentionArgs& args, ThreadPool& pool, AttendFn attend);

}  // namespace wafer
