// Hyperparameters of a transformer, read from GGUF metadata (`{arch}.*` keys).
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "gguf/gguf.h"

namespace wafer {

enum class Arch { kQwen2, kLlama, kQwen3 };
enum class RopeStyle { kNormal, kNeox };  // pairs (2i, 2i+1) vs (i, i + d/2)
enum class RopeScaling { kNone, kLinear, kYarn };

struct ModelConfig {
  Arch arch = Arch::kQwen2;
  std::string arch_name;
  std::string name;         // general.name, may be empty
  int64_t n_vocab = 0;
  int64_t n_embd = 0;       // hidden size
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;     // qwen3 decouples it from n_embd / n_head
  int64_t n_ff = 0;
  int64_t n_ctx_train = 0;  // context length the model was trained for (after scaling)
  float rms_eps = 1e-6f;
  RopeStyle rope_style = RopeStyle::kNeox;
  int64_t rope_dims = 0;    // leading dims of each head that rotate
  float rope_base = 10000.0f;
  RopeScaling rope_scaling = RopeScaling::kNone;
  float rope_scale_factor = 1.0f;       // context extension factor
  int64_t rope_orig_ctx = 0;            // original context for YaRN
  float yarn_beta_fast = 32.0f;
  float yarn_beta_slow = 1.0f;
  float yarn_attn_factor = 1.0f;
  bool has_qkv_bias = false;  // qwen2
  bool has_qk_norm = false;   // qwen3
  bool tied_output = false;   // output.weight absent: reuse token_embd

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
};

const char* arch_display_name(Arch arch);

// Reads and validates the hyperparameters; errors name the missing or bad key.
Result<ModelConfig> read_model_config(const GgufFile& file);

}  // namespace wafer
