// The model's tensors, viewed in place in the mapped GGUF file (the matrices then moved into
// huge pages by repack_model_weights), with every shape and type checked at load so the
// forward pass never has to.
#pragma once

#include <vector>

#include "base/result.h"
#include "gguf/gguf.h"
#include "kernels/ops.h"
#include "model/config.h"

namespace wafer {

struct LayerWeights {
  const float* attn_norm = nullptr;  // [n_embd]
  WeightView wq, wk, wv, wo;         // [q_dim, n_embd], [kv_dim, n_embd] x2, [n_embd, q_dim]
  const float* bq = nullptr;         // [q_dim]  (qwen2)
  const float* bk = nullptr;         // [kv_dim] (qwen2)
  const float* bv = nullptr;         // [kv_dim] (qwen2)
  const float* q_norm = nullptr;     // [head_dim] (qwen3)
  const float* k_norm = nullptr;     // [head_dim] (qwen3)
  const float* ffn_norm = nullptr;   // [n_embd]
  WeightView w_gate, w_up, w_down;   // [n_ff, n_embd] x2, [n_embd, n_ff]
};

struct ModelWeights {
  WeightView token_embd;             // [n_vocab, n_embd]
  WeightView output;                 // [n_vocab, n_embd]; token_embd when tied
  const float* output_norm = nullptr;
  std::vector<float> rope_freq_factors;  // empty unless rope_freqs.weight is present
  std::vector<LayerWeights> layers;
  size_t matmul_bytes_per_token = 0;     // weight bytes one decode step streams
  std::vector<WeightStorage> repacked;       // storage of matrices repack_model_weights moved
};

// Errors name the missing or malformed tensor.
Result<ModelWeights> bind_weights(const GgufFile& file, const ModelConfig& config);

// Moves every matrix the active kernels read faster in another layout into that layout
// (repack_weights in kernels/ops.h); a tied output follows its embedding. Results are the
// same either way.
void repack_model_weights(ModelWeights* w, ThreadPool* pool);

}  // namespace wafer
