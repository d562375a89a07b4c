// Causal grouped-query attention over a KV cache. Each (token, kv head) streams its keys and
// values once for all the query heads of its group with an online softmax (flash-style, no
// score buffer); a single decoding token splits the positions across threads (split-K) and
// merges the partial softmaxes. The scalar reference is the spec.
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

// The fastest implementation this CPU runs (AVX-512 for F16 caches, portable otherwise).
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
// Accumulates positions [begin, end) of kv head `kv_head` for the `group` query heads
// q[g * head_dim ...]; state: part[group], acc[group * head_dim] (unnormalised).
using AttendRangeFn = void (*)(const AttentionArgs& a, const float* q, int64_t kv_head, int64_t group,
                               int64_t begin, int64_t end, SoftmaxPartial* part, float* acc);
void attend_range_portable(const AttentionArgs& a, const float* q, int64_t kv_head, int64_t group,
                           int64_t begin, int64_t end, SoftmaxPartial* part, float* acc);
void attend_range_avx512_f16(const AttentionArgs& a, const float* q, int64_t kv_head, int64_t group,
                             int64_t begin, int64_t end, SoftmaxPartial* part, float* acc);
void attention_with(const AttentionArgs& args, ThreadPool& pool, AttendRangeFn attend);

}  // namespace wafer
