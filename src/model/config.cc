// Hyperparameters from GGUF metadata, validated so the forward pass can trust them.
#include "model/config.h"

#include <cmath>

namespace wafer {
namespace {

constexpr int64_t kMaxDim = 1 << 20;

Result<int64_t> required_int(const GgufFile& file, const std::string& key) {
  WAFER_ASSIGN_OR_RETURN(std::optional<int64_t> v, file.get_int(key));
  if (!v) return make_error(ErrorCode::kCorrupt, "model metadata lacks '{}'", key);
  if (*v <= 0 || *v > kMaxDim * 1024)
    return make_error(ErrorCode::kCorrupt, "model metadata '{}' = {} is out of range", key, *v);
  return *v;
}

Result<int64_t> optional_int(const GgufFile& file, const std::string& key, int64_t fallback) {
  WAFER_ASSIGN_OR_RETURN(std::optional<int64_t> v, file.get_int(key));
  if (!v) return fallback;
  if (*v <= 0 || *v > kMaxDim * 1024)
    return make_error(ErrorCode::kCorrupt, "model metadata '{}' = {} is out of range", key, *v);
  return *v;
}

Result<float> optional_float(const GgufFile& file, const std::string& key, float fallback) {
  WAFER_ASSIGN_OR_RETURN(std::optional<double> v, file.get_float(key));
  if (!v) return fallback;
  if (!std::isfinite(*v) || *v < 0)
    return make_error(ErrorCode::kCorrupt, "model metadata '{}' = {} is not a valid value", key, *v);
  return static_cast<float>(*v);
}

Status read_rope_scaling(const GgufFile& file, const std::string& p, ModelConfig& c) {
  WAFER_ASSIGN_OR_RETURN(std::optional<std::string> type, file.get_string(p + ".rope.scaling.type"));
  WAFER_ASSIGN_OR_RETURN(c.rope_scale_factor, optional_float(file, p + ".rope.scaling.factor", 1.0f));
  if (!type || *type == "none" || c.rope_scale_factor == 1.0f) {
    WAFER_ASSIGN_OR_RETURN(std::optional<double> linear, file.get_float(p + ".rope.scale_linear"));
    if (linear && *linear > 0 && *linear != 1.0) {
      c.rope_scaling = RopeScaling::kLinear;
      c.rope_scale_factor = static_cast<float>(*linear);
    }
    return {};
  }
  if (c.rope_scale_factor < 1.0f)
    return make_error(ErrorCode::kCorrupt, "'{}.rope.scaling.factor' = {} must be >= 1", p,
                      c.rope_scale_factor);
  if (*type == "linear") {
    c.rope_scaling = RopeScaling::kLinear;
  } else if (*type == "yarn") {
    c.rope_scaling = RopeScaling::kYarn;
    WAFER_ASSIGN_OR_RETURN(c.rope_orig_ctx,
                           optional_int(file, p + ".rope.scaling.original_context_length",
                                        c.n_ctx_train));
    WAFER_ASSIGN_OR_RETURN(c.yarn_beta_fast, optional_float(file, p + ".rope.scaling.yarn_beta_fast", 32.0f));
    WAFER_ASSIGN_OR_RETURN(c.yarn_beta_slow, optional_float(file, p + ".rope.scaling.yarn_beta_slow", 1.0f));
    WAFER_ASSIGN_OR_RETURN(c.yarn_attn_factor, optional_float(file, p + ".rope.scaling.attn_factor", 1.0f));
  } else {
    return make_error(ErrorCode::kUnsupported,
                      "rope scaling type '{}' ('{}.rope.scaling.type') is not supported; wafer "
                      "supports none, linear and yarn", *type, p);
  }
  return {};
}

}  // namespace

const char* arch_display_name(Arch arch) {
  switch (arch) {
    case Arch::kQwen2: return "qwen2";
    case Arch::kLlama: return "llama";
    case Arch::kQwen3: return "qwen3";
  }
  return "?";
}

Result<ModelConfig> read_model_config(const GgufFile& file) {
  ModelConfig c;
  WAFER_ASSIGN_OR_RETURN(std::optional<std::string> arch, file.get_string("general.architecture"));
  if (!arch)
    return make_error(ErrorCode::kCorrupt,
                      "'general.architecture' is missing: this GGUF holds no model description");
  c.arch_name = *arch;
  if (*arch == "qwen2") {
    c.arch = Arch::kQwen2;
    c.rope_style = RopeStyle::kNeox;
  } else if (*arch == "llama") {
    c.arch = Arch::kLlama;
    c.rope_style = RopeStyle::kNormal;
  } else if (*arch == "qwen3") {
    c.arch = Arch::kQwen3;
    c.rope_style = RopeStyle::kNeox;
  } else {
    return make_error(ErrorCode::kUnsupported,
                      "architecture '{}' is not supported; wafer runs qwen2 (Qwen2.5, "
                      "Qwen2.5-Coder), qwen3 (dense Qwen3) and llama (Llama 3)", *arch);
  }
  WAFER_ASSIGN_OR_RETURN(std::optional<std::string> name, file.get_string("general.name"));
  if (name) c.name = *name;
  const std::string& p = *arch;
  WAFER_ASSIGN_OR_RETURN(c.n_embd, required_int(file, p + ".embedding_length"));
  WAFER_ASSIGN_OR_RETURN(c.n_layer, required_int(file, p + ".block_count"));
  WAFER_ASSIGN_OR_RETURN(c.n_ff, required_int(file, p + ".feed_forward_length"));
  WAFER_ASSIGN_OR_RETURN(c.n_head, required_int(file, p + ".attention.head_count"));
  WAFER_ASSIGN_OR_RETURN(c.n_head_kv, optional_int(file, p + ".attention.head_count_kv", c.n_head));
  WAFER_ASSIGN_OR_RETURN(c.n_ctx_train, optional_int(file, p + ".context_length", 4096));
  if (c.n_embd % c.n_head != 0 && !file.find(p + ".attention.key_length"))
    return make_error(ErrorCode::kCorrupt, "'{}.embedding_length' {} is not a multiple of "
                      "'{}.attention.head_count' {}", p, c.n_embd, p, c.n_head);
  WAFER_ASSIGN_OR_RETURN(c.head_dim, optional_int(file, p + ".attention.key_length", c.n_embd / c.n_head));
  WAFER_ASSIGN_OR_RETURN(int64_t value_dim, optional_int(file, p + ".attention.value_length", c.head_dim));
  if (value_dim != c.head_dim)
    return make_error(ErrorCode::kUnsupported, "'{}.attention.value_length' {} differs from the key "
                      "length {}; wafer needs them equal", p, value_dim, c.head_dim);
  if (c.n_head % c.n_head_kv != 0)
    return make_error(ErrorCode::kCorrupt, "'{}.attention.head_count' {} is not a multiple of "
                      "'{}.attention.head_count_kv' {}", p, c.n_head, p, c.n_head_kv);
  if (c.head_dim % 2 != 0)
    return make_error(ErrorCode::kCorrupt, "head dimension {} must be even for RoPE", c.head_dim);
  WAFER_ASSIGN_OR_RETURN(c.rope_dims, optional_int(file, p + ".rope.dimension_count", c.head_dim));
  if (c.rope_dims > c.head_dim || c.rope_dims % 2 != 0)
    return make_error(ErrorCode::kCorrupt, "'{}.rope.dimension_count' {} must be even and at most "
                      "the head dimension {}", p, c.rope_dims, c.head_dim);
  WAFER_ASSIGN_OR_RETURN(c.rope_base, optional_float(file, p + ".rope.freq_base", 10000.0f));
  if (c.rope_base <= 1.0f)
    return make_error(ErrorCode::kCorrupt, "'{}.rope.freq_base' {} must be > 1", p, c.rope_base);
  WAFER_ASSIGN_OR_RETURN(c.rms_eps, optional_float(file, p + ".attention.layer_norm_rms_epsilon", 1e-6f));
  WAFER_RETURN_IF_ERROR(read_rope_scaling(file, p, c));
  c.has_qkv_bias = c.arch == Arch::kQwen2;
  c.has_qk_norm = c.arch == Arch::kQwen3;
  c.tied_output = file.find_tensor("output.weight") == nullptr;
  const GgufTensorInfo* embd = file.find_tensor("token_embd.weight");
  if (!embd) return make_error(ErrorCode::kCorrupt, "tensor 'token_embd.weight' is missing");
  if (embd->shape.size() != 2 || static_cast<int64_t>(embd->shape[0]) != c.n_embd)
    return make_error(ErrorCode::kCorrupt, "tensor 'token_embd.weight' must be [{}, n_vocab]", c.n_embd);
  c.n_vocab = static_cast<int64_t>(embd->shape[1]);
  return c;
}

}  // namespace wafer
