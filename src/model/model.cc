// The transformer forward pass shared by qwen2, llama and qwen3: pre-norm attention with
// GQA and RoPE, then a SiLU-gated MLP. Architecture differences (biases, Q/K norm, RoPE
// style) come from ModelConfig and the weights present.
#include "model/model.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "model/attention.h"

namespace wafer {
namespace {

// Prefill runs in chunks so scratch memory stays bounded for long prompts.
constexpr size_t kMaxChunkTokens = 512;

void add_bias(float* y, const float* bias, size_t num_tokens, size_t dim) {
  if (!bias) return;
  for (size_t t = 0; t < num_tokens; ++t)
    for (size_t i = 0; i < dim; ++i) y[t * dim + i] += bias[i];
}

}  // namespace

Result<std::unique_ptr<Model>> Model::load(const std::string& path) {
  std::unique_ptr<Model> m(new Model());
  WAFER_ASSIGN_OR_RETURN(m->file_, GgufFile::open(path));
  WAFER_ASSIGN_OR_RETURN(m->config_, read_model_config(*m->file_));
  WAFER_ASSIGN_OR_RETURN(m->weights_, bind_weights(*m->file_, m->config_));
  WAFER_ASSIGN_OR_RETURN(m->tokenizer_, Tokenizer::from_gguf(*m->file_));
  if (static_cast<int64_t>(m->tokenizer_->vocab_size()) > m->config_.n_vocab)
    return make_error(ErrorCode::kCorrupt, "the tokenizer has {} tokens but 'token_embd.weight' "
                      "only {} rows", m->tokenizer_->vocab_size(), m->config_.n_vocab);
  m->rope_ = std::make_unique<Rope>(m->config_, m->weights_.rope_freq_factors);
  return m;
}

Result<std::span<const float>> Model::forward(KvCache& cache, std::span<const TokenId> tokens,
                                              bool all_logits, ThreadPool& pool) {
  const int64_t n_vocab = config_.n_vocab;
  if (tokens.empty()) return make_error(ErrorCode::kInvalidArgument, "forward over no tokens");
  for (TokenId id : tokens)
    if (id < 0 || id >= n_vocab)
      return make_error(ErrorCode::kInvalidArgument, "token id {} is outside the vocabulary [0, {})",
                        id, n_vocab);
  if (!cache.reserve_more(static_cast<int64_t>(tokens.size())))
    return make_error(ErrorCode::kOutOfRange, "context is full: {} cached + {} new tokens exceed "
                      "the context size {}", cache.size(), tokens.size(), cache.capacity());
  const size_t out_rows = all_logits ? tokens.size() : 1;
  s_.out_logits.resize(out_rows * n_vocab);
  for (size_t begin = 0; begin < tokens.size(); begin += kMaxChunkTokens) {
    const size_t n = std::min(kMaxChunkTokens, tokens.size() - begin);
    const bool last_chunk = begin + n == tokens.size();
    float* out = all_logits ? s_.out_logits.data() + begin * n_vocab
                            : (last_chunk ? s_.out_logits.data() : nullptr);
    forward_chunk(cache, tokens.subspan(begin, n), all_logits, out, pool);
  }
  stats_.prefill_tokens += static_cast<int64_t>(tokens.size());
  stats_.forward_calls += 1;
  return std::span<const float>(s_.out_logits);
}

void Model::forward_chunk(KvCache& cache, std::span<const TokenId> tokens, bool all_logits,
                          float* logits_out, ThreadPool& pool) {
  const ModelConfig& c = config_;
  const size_t n = tokens.size();
  const size_t embd = c.n_embd, q_dim = c.q_dim(), kv_dim = c.kv_dim(), ff = c.n_ff;
  const int64_t start_pos = cache.size();
  s_.x.resize(n * embd);
  s_.xn.resize(n * embd);
  s_.q.resize(n * q_dim);
  s_.k.resize(n * kv_dim);
  s_.v.resize(n * kv_dim);
  s_.attn.resize(n * q_dim);
  s_.gate.resize(n * ff);
  s_.up.resize(n * ff);
  const size_t pairs = rope_->num_pairs();
  s_.cos.resize(n * pairs);
  s_.sin.resize(n * pairs);
  for (size_t t = 0; t < n; ++t) {
    get_row(weights_.token_embd, tokens[t], &s_.x[t * embd]);
    rope_->angles(start_pos + static_cast<int64_t>(t), &s_.cos[t * pairs], &s_.sin[t * pairs]);
  }

  for (int64_t l = 0; l < c.n_layer; ++l) {
    const LayerWeights& w = weights_.layers[l];
    // attention block: x += Wo * attn(rope(Wq xn), rope(Wk xn), Wv xn)
    for (size_t t = 0; t < n; ++t) rms_norm(&s_.x[t * embd], w.attn_norm, c.rms_eps, embd, &s_.xn[t * embd]);
    matmul(w.wq, s_.xn.data(), n, s_.q.data(), pool);
    matmul(w.wk, s_.xn.data(), n, s_.k.data(), pool);
    matmul(w.wv, s_.xn.data(), n, s_.v.data(), pool);
    add_bias(s_.q.data(), w.bq, n, q_dim);
    add_bias(s_.k.data(), w.bk, n, kv_dim);
    add_bias(s_.v.data(), w.bv, n, kv_dim);
    for (size_t t = 0; t < n; ++t) {
      float* qt = &s_.q[t * q_dim];
      float* kt = &s_.k[t * kv_dim];
      if (w.q_norm) {
        for (int64_t h = 0; h < c.n_head; ++h)
          rms_norm(qt + h * c.head_dim, w.q_norm, c.rms_eps, c.head_dim, qt + h * c.head_dim);
        for (int64_t h = 0; h < c.n_head_kv; ++h)
          rms_norm(kt + h * c.head_dim, w.k_norm, c.rms_eps, c.head_dim, kt + h * c.head_dim);
      }
      rope_->apply(qt, c.n_head, &s_.cos[t * pairs], &s_.sin[t * pairs]);
      rope_->apply(kt, c.n_head_kv, &s_.cos[t * pairs], &s_.sin[t * pairs]);
      cache.write(l, start_pos + static_cast<int64_t>(t), kt, &s_.v[t * kv_dim]);
    }
    AttentionArgs args;
    args.q = s_.q.data();
    args.out = s_.attn.data();
    args.cache = &cache;
    args.layer = l;
    args.start_pos = start_pos;
    args.num_tokens = n;
    args.n_head = c.n_head;
    args.n_head_kv = c.n_head_kv;
    args.head_dim = c.head_dim;
    args.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    attention(args, pool);
    matmul(w.wo, s_.attn.data(), n, s_.xn.data(), pool);
    for (size_t i = 0; i < n * embd; ++i) s_.x[i] += s_.xn[i];

    // MLP block: x += W_down (silu(W_gate xn) * W_up xn)
    for (size_t t = 0; t < n; ++t) rms_norm(&s_.x[t * embd], w.ffn_norm, c.rms_eps, embd, &s_.xn[t * embd]);
    matmul(w.w_gate, s_.xn.data(), n, s_.gate.data(), pool);
    matmul(w.w_up, s_.xn.data(), n, s_.up.data(), pool);
    silu_mul(s_.gate.data(), s_.up.data(), n * ff, s_.gate.data());
    matmul(w.w_down, s_.gate.data(), n, s_.xn.data(), pool);
    for (size_t i = 0; i < n * embd; ++i) s_.x[i] += s_.xn[i];
  }
  cache.commit(static_cast<int64_t>(n));
  if (!logits_out) return;

  // Only the rows whose logits are wanted go through the output projection.
  const size_t first = all_logits ? 0 : n - 1;
  const size_t rows = n - first;
  for (size_t t = first; t < n; ++t)
    rms_norm(&s_.x[t * embd], weights_.output_norm, c.rms_eps, embd, &s_.xn[(t - first) * embd]);
  matmul(weights_.output, s_.xn.data(), rows, logits_out, pool);
}

}  // namespace wafer
