// The shapes `wafer synth` can make (real models' hyperparameters) and the tensor-type mixes
// of real quantised downloads (Q4_K_M and friends).
#pragma once

#include <cstdint>
#include <string>

#include "base/dtype.h"
#include "base/result.h"

namespace wafer::apps {

struct SynthShape {
  const char* name;
  const char* arch;
  int64_t n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_vocab, n_ctx;
  float rope_base;
  bool tied;
};

Result<SynthShape> find_shape(const std::string& name);
std::string shape_help();

enum class TensorRole { kEmbedding, kOutput, kAttnQ, kAttnK, kAttnV, kAttnOutput, kFfnGate, kFfnUp, kFfnDown };

// How a file type assigns tensor types: a base type, and for the _M mixes a bigger type for
// attn_v / ffn_down in some layers and for the output, as llama.cpp's quantiser does. Rows
// whose length is not a multiple of 256 fall back from k-quants to q5_0 / q8_0.
struct TypeMix {
  DType base = DType::kQ8_0;
  DType more_bits = DType::kQ8_0;  // attn_v, ffn_down in the layers that get more bits
  DType output = DType::kQ8_0;
  bool mixed = false;
  DType pick(TensorRole role, int layer, int64_t n_layer, uint64_t cols) const;
};

Result<TypeMix> parse_type_mix(const std::string& name);
std::string type_mix_help();

}  // namespace wafer::apps
