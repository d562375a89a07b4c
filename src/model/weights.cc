// Binds GGUF tensors to the model's weight slots, checking names, shapes and types.
#include "model/weights.h"

#include <fmt/format.h>

#include "quant/quant.h"

namespace wafer {
namespace {

class Binder {
 public:
  explicit Binder(const GgufFile& file) : file_(file) {}

  Result<WeightView> matrix(const std::string& name, int64_t cols, int64_t rows) {
    const GgufTensorInfo* t = file_.find_tensor(name);
    if (!t) return missing(name);
    if (t->shape.size() != 2 || static_cast<int64_t>(t->shape[0]) != cols ||
        static_cast<int64_t>(t->shape[1]) != rows)
      return make_error(ErrorCode::kCorrupt, "tensor '{}' has shape [{}], expected [{}, {}]", name,
                        fmt::join(t->shape, ", "), cols, rows);
    if (!is_supported_weight_type(t->type))
      return make_error(ErrorCode::kUnsupported,
                        "tensor '{}' has type {}, which wafer does not run; supported: f32, f16, "
                        "bf16, q8_0, q4_0, q5_0, q4_K, q5_K, q6_K (re-quantise the model to one of them)",
                        name, dtype_name(t->type));
    return WeightView{t->type, static_cast<size_t>(rows), static_cast<size_t>(cols), t->data};
  }

  // An F32 vector of exactly n elements; nullptr without error when optional and absent.
  Result<const float*> vector(const std::string& name, int64_t n, bool optional = false) {
    const GgufTensorInfo* t = file_.find_tensor(name);
    if (!t) {
      if (optional) return static_cast<const float*>(nullptr);
      return missing(name);
    }
    if (t->type != DType::kF32)
      return make_error(ErrorCode::kUnsupported, "tensor '{}' has type {}; norms and biases must be f32",
                        name, dtype_name(t->type));
    if (t->num_elements != static_cast<uint64_t>(n) || t->shape.size() != 1)
      return make_error(ErrorCode::kCorrupt, "tensor '{}' has shape [{}], expected [{}]", name,
                        fmt::join(t->shape, ", "), n);
    return reinterpret_cast<const float*>(t->data);
  }

 private:
  Error missing(const std::string& name) {
    return make_error(ErrorCode::kCorrupt, "tensor '{}' is missing; the file is incomplete or not "
                      "a model of this architecture", name);
  }
  const GgufFile& file_;
};

}  // namespace

Result<ModelWeights> bind_weights(const GgufFile& file, const ModelConfig& c) {
  Binder b(file);
  ModelWeights w;
  WAFER_ASSIGN_OR_RETURN(w.token_embd, b.matrix("token_embd.weight", c.n_embd, c.n_vocab));
  if (c.tied_output) {
    w.output = w.token_embd;
  } else {
    WAFER_ASSIGN_OR_RETURN(w.output, b.matrix("output.weight", c.n_embd, c.n_vocab));
  }
  WAFER_ASSIGN_OR_RETURN(w.output_norm, b.vector("output_norm.weight", c.n_embd));
  WAFER_ASSIGN_OR_RETURN(const float* freqs, b.vector("rope_freqs.weight", c.rope_dims / 2, true));
  if (freqs) w.rope_freq_factors.assign(freqs, freqs + c.rope_dims / 2);

  w.layers.resize(c.n_layer);
  for (int64_t i = 0; i < c.n_layer; ++i) {
    LayerWeights& l = w.layers[i];
    const std::string p = fmt::format("blk.{}.", i);
    WAFER_ASSIGN_OR_RETURN(l.attn_norm, b.vector(p + "attn_norm.weight", c.n_embd));
    WAFER_ASSIGN_OR_RETURN(l.wq, b.matrix(p + "attn_q.weight", c.n_embd, c.q_dim()));
    WAFER_ASSIGN_OR_RETURN(l.wk, b.matrix(p + "attn_k.weight", c.n_embd, c.kv_dim()));
    WAFER_ASSIGN_OR_RETURN(l.wv, b.matrix(p + "attn_v.weight", c.n_embd, c.kv_dim()));
    WAFER_ASSIGN_OR_RETURN(l.wo, b.matrix(p + "attn_output.weight", c.q_dim(), c.n_embd));
    // Biases are what qwen2 has; other architectures may carry them too (optional).
    WAFER_ASSIGN_OR_RETURN(l.bq, b.vector(p + "attn_q.bias", c.q_dim(), !c.has_qkv_bias));
    WAFER_ASSIGN_OR_RETURN(l.bk, b.vector(p + "attn_k.bias", c.kv_dim(), !c.has_qkv_bias));
    WAFER_ASSIGN_OR_RETURN(l.bv, b.vector(p + "attn_v.bias", c.kv_dim(), !c.has_qkv_bias));
    if (c.has_qk_norm) {
      WAFER_ASSIGN_OR_RETURN(l.q_norm, b.vector(p + "attn_q_norm.weight", c.head_dim));
      WAFER_ASSIGN_OR_RETURN(l.k_norm, b.vector(p + "attn_k_norm.weight", c.head_dim));
    }
    WAFER_ASSIGN_OR_RETURN(l.ffn_norm, b.vector(p + "ffn_norm.weight", c.n_embd));
    WAFER_ASSIGN_OR_RETURN(l.w_gate, b.matrix(p + "ffn_gate.weight", c.n_embd, c.n_ff));
    WAFER_ASSIGN_OR_RETURN(l.w_up, b.matrix(p + "ffn_up.weight", c.n_embd, c.n_ff));
    WAFER_ASSIGN_OR_RETURN(l.w_down, b.matrix(p + "ffn_down.weight", c.n_ff, c.n_embd));
    for (const WeightView* v : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down})
      w.matmul_bytes_per_token += v->rows * v->row_stride_bytes();
  }
  w.matmul_bytes_per_token += w.output.rows * w.output.row_stride_bytes();
  return w;
}

void repack_model_weights(ModelWeights* w, ThreadPool* pool) {
  const bool tied = w->output.data == w->token_embd.data;
  auto repack = [&](WeightView* v) {
    WeightStorage storage;
    if (repack_weights(v, &storage, pool)) w->repacked.push_back(std::move(storage));
  };
  repack(&w->token_embd);
  if (tied) w->output = w->token_embd;
  else repack(&w->output);
  for (LayerWeights& l : w->layers)
    for (WeightView* v : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) repack(v);
}

}  // namespace wafer
