// A loaded model: the mapped GGUF file, its hyperparameters, weights and tokenizer, and the
// forward pass over a batch of tokens. The forward pass runs on the calling thread plus the
// pool it is given; one Model may serve many KvCaches, one forward at a time.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/thread_pool.h"
#include "gguf/gguf.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "model/rope.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace wafer {

struct ForwardStats {
  int64_t prefill_tokens = 0;  // tokens computed by forward() over the model's life
  int64_t forward_calls = 0;
};

class Model {
 public:
  // Loads a GGUF model; errors say which key or tensor is wrong and what to do.
  static Result<std::unique_ptr<Model>> load(const std::string& path);

  const ModelConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const GgufFile& file() const { return *file_; }
  const ModelWeights& weights() const { return weights_; }
  const ForwardStats& stats() const { return stats_; }

  // A cache for one sequence of up to `capacity` positions; F16 unless asked otherwise.
  KvCache new_cache(int64_t capacity, DType type = DType::kF16) const {
    return KvCache(config_, capacity, type);
  }

  // Runs tokens at positions cache.size() .. + tokens.size() - 1, appends their keys and values
  // to the cache and returns logits: [tokens.size(), n_vocab] when all_logits, else
  // [1, n_vocab] for the last token. The span stays valid until the next forward.
  // Error (kOutOfRange) when the cache's capacity would be exceeded; the cache is unchanged.
  Result<std::span<const float>> forward(KvCache& cache, std::span<const TokenId> tokens,
                                         bool all_logits, ThreadPool& pool);

  // Several sequences' tokens in one pass, each at the end of its own cache (a batched
  // decode step: the weights are read once for all). Logits rows follow the batch order:
  // every token's for an all_logits entry, else its last token's. Per-token kernels only, so
  // each sequence's logits are bit for bit those of a forward() of the same tokens alone
  // (up to the panel-product threshold of 32 tokens). At most 512 tokens in all.
  struct BatchSequence {
    KvCache* cache = nullptr;
    std::span<const TokenId> tokens;
    bool all_logits = false;
  };
  Result<std::span<const float>> forward_batch(std::span<const BatchSequence> batch, ThreadPool& pool);

 private:
  Model() = default;
  void forward_chunk(KvCache& cache, std::span<const TokenId> tokens, bool all_logits,
                     float* logits_out, ThreadPool& pool);
  struct PassSegment {
    KvCache* cache;
    std::span<const TokenId> tokens;
    bool all_logits;
  };
  // The forward pass over segments of rows; logits of the wanted rows (see forward_batch)
  // into logits_out when not null.
  void run_pass(std::span<const PassSegment> segs, MatmulKernel kernel, float* logits_out, ThreadPool& pool);

  std::unique_ptr<GgufFile> file_;
  ModelConfig config_;
  ModelWeights weights_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<Rope> rope_;
  ForwardStats stats_;

  // Scratch, sized for the largest chunk seen: [chunk, dim] row-major.
  struct Scratch {
    std::vector<float> x, xn, q, k, v, attn, gate, up, logits, out_logits;
    std::vector<float> cos, sin;
  } s_;
};

}  // namespace wafer
