// Real models' hyperparameters (from their config.json) and quantisation mixes.
#include "apps/synth_shapes.h"

#include <fmt/core.h>

namespace wafer::apps {
namespace {

constexpr SynthShape kShapes[] = {
    // name, arch, embd, layers, heads, kv heads, head dim, ffn, vocab, ctx, rope base, tied
    {"tiny", "qwen2", 256, 4, 4, 2, 64, 768, 0, 32768, 1e6f, true},
    {"qwen2.5-coder-0.5b", "qwen2", 896, 24, 14, 2, 64, 4864, 151936, 32768, 1e6f, true},
    {"qwen2.5-coder-1.5b", "qwen2", 1536, 28, 12, 2, 128, 8960, 151936, 32768, 1e6f, true},
    {"qwen2.5-coder-7b", "qwen2", 3584, 28, 28, 4, 128, 18944, 152064, 32768, 1e6f, false},
    {"qwen3-0.6b", "qwen3", 1024, 28, 16, 8, 128, 3072, 151936, 40960, 1e6f, true},
    {"llama-3.2-1b", "llama", 2048, 16, 32, 8, 64, 8192, 128256, 131072, 5e5f, true},
};

bool is_k_quant(DType t) {
  return t == DType::kQ4_K || t == DType::kQ5_K || t == DType::kQ6_K;
}

DType k_fallback(DType t) {
  return t == DType::kQ6_K ? DType::kQ8_0 : DType::kQ5_0;
}

}  // namespace

Result<SynthShape> find_shape(const std::string& name) {
  for (const SynthShape& s : kShapes)
    if (name == s.name) return s;
  return make_error(ErrorCode::kInvalidArgument, "unknown --shape '{}'; choose one of: {}", name, shape_help());
}

std::string shape_help() {
  std::string out;
  for (const SynthShape& s : kShapes) out += (out.empty() ? "" : "|") + std::string(s.name);
  return out;
}

DType TypeMix::pick(TensorRole role, int layer, int64_t n_layer, uint64_t cols) const {
  DType t = base;
  if (mixed) {
    const int64_t n = n_layer;
    const bool more = layer < n / 8 || layer >= 7 * n / 8 || (layer - n / 8) % 3 == 2;
    if (role == TensorRole::kOutput) t = output;
    else if ((role == TensorRole::kAttnV || role == TensorRole::kFfnDown) && more) t = more_bits;
  } else if (role == TensorRole::kOutput) {
    t = output;
  }
  if (is_k_quant(t) && cols % 256 != 0) t = k_fallback(t);
  return t;
}

Result<TypeMix> parse_type_mix(const std::string& name) {
  struct Named { const char* name; TypeMix mix; };
  static const Named kMixes[] = {
      {"f32", {DType::kF32, DType::kF32, DType::kF32, false}},
      {"f16", {DType::kF16, DType::kF16, DType::kF16, false}},
      {"bf16", {DType::kBF16, DType::kBF16, DType::kBF16, false}},
      {"q8_0", {DType::kQ8_0, DType::kQ8_0, DType::kQ8_0, false}},
      {"q4_0", {DType::kQ4_0, DType::kQ4_0, DType::kQ6_K, false}},
      {"q5_0", {DType::kQ5_0, DType::kQ5_0, DType::kQ6_K, false}},
      {"q4_k", {DType::kQ4_K, DType::kQ4_K, DType::kQ4_K, false}},
      {"q5_k", {DType::kQ5_K, DType::kQ5_K, DType::kQ5_K, false}},
      {"q6_k", {DType::kQ6_K, DType::kQ6_K, DType::kQ6_K, false}},
      {"q4_k_m", {DType::kQ4_K, DType::kQ6_K, DType::kQ6_K, true}},
      {"q5_k_m", {DType::kQ5_K, DType::kQ6_K, DType::kQ6_K, true}},
  };
  for (const Named& m : kMixes)
    if (name == m.name) return m.mix;
  return make_error(ErrorCode::kInvalidArgument, "unknown --type '{}'; choose one of: {}", name, type_mix_help());
}

std::string type_mix_help() {
  return "f32|f16|bf16|q8_0|q4_0|q5_0|q4_k|q5_k|q6_k|q4_k_m|q5_k_m";
}

}  // namespace wafer::apps
