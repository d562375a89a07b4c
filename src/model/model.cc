// The transformer forward pass shared by qwen2, llama and qwen3: pre-norm attention with
// GQA and RoPE, then a SiLU-gated MLP. Architecture differences (biases, Q/K norm, RoPE
// style) come from ModelConfig and the weights present.
#include "model/model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>

#include "base/check.h"
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
  ThreadPool pool(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  repack_model_weights(&m->weights_, &pool);
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
  const PassSegment seg{&cache, tokens, all_logits};
  run_pass(std::span(&seg, 1), MatmulKernel::kAuto, logits_out, pool);
}

Result<std::span<const float>> Model::forward_batch(std::span<const BatchSequence> batch, ThreadPool& pool) {
  const int64_t n_vocab = config_.n_vocab;
  size_t rows = 0;
  for (const BatchSequence& b : batch) {
    if (b.tokens.empty()) return make_error(ErrorCode::kInvalidArgument, "forward over no tokens");
    for (TokenId id : b.tokens)
      if (id < 0 || id >= n_vocab)
        return make_error(ErrorCode::kInvalidArgument, "token id {} is outside the vocabulary [0, {})", id, n_vocab);
    if (b.cache->size() + static_cast<int64_t>(b.tokens.size()) > b.cache->capacity())
      return make_error(ErrorCode::kOutOfRange, "context is full: {} cached + {} new tokens exceed the context size {}",
                        b.cache->size(), b.tokens.size(), b.cache->capacity());
    rows += b.all_logits ? b.tokens.size() : 1;
  }
  for (const BatchSequence& b : batch) WAFER_CHECK(b.cache->reserve_more(static_cast<int64_t>(b.tokens.size())), "reserve");
  s_.out_logits.resize(rows * n_vocab);
  std::vector<PassSegment> segs;
  size_t total = 0;
  for (const BatchSequence& b : batch) {
    segs.push_back({b.cache, b.tokens, b.all_logits});
    total += b.tokens.size();
  }
  WAFER_CHECK(total <= kMaxChunkTokens, "a batched pass of {} tokens", total);
  run_pass(segs, MatmulKernel::kPerToken, s_.out_logits.data(), pool);
  stats_.prefill_tokens += static_cast<int64_t>(total);
  stats_.forward_calls += 1;
  return std::span<const float>(s_.out_logits);
}

void Model::run_pass(std::span<const PassSegment> segs, MatmulKernel kernel, float* logits_out, ThreadPool& pool) {
  const ModelConfig& c = config_;
  size_t n = 0;
  for (const PassSegment& g : segs) n += g.tokens.size();
  const size_t embd = c.n_embd, q_dim = c.q_dim(), kv_dim = c.kv_dim(), ff = c.n_ff;
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
  // Row r belongs to segment seg_of[r] at position pos_of[r] of that segment's sequence.
  std::vector<size_t> seg_of(n);
  std::vector<int64_t> pos_of(n);
  for (size_t g = 0, r = 0; g < segs.size(); ++g)
    for (size_t i = 0; i < segs[g].tokens.size(); ++i, ++r) {
      seg_of[r] = g;
      pos_of[r] = segs[g].cache->size() + static_cast<int64_t>(i);
      get_row(weights_.token_embd, segs[g].tokens[i], &s_.x[r * embd]);
      rope_->angles(pos_of[r], &s_.cos[r * pairs], &s_.sin[r * pairs]);
    }
  auto mm = [&](const WeightView& w, const float* x, size_t rows, float* y) { matmul(w, x, rows, y, pool, kernel); };

  for (int64_t l = 0; l < c.n_layer; ++l) {
    const LayerWeights& w = weights_.layers[l];
    // attention block: x += Wo * attn(rope(Wq xn), rope(Wk xn), Wv xn)
    for (size_t t = 0; t < n; ++t) rms_norm(&s_.x[t * embd], w.attn_norm, c.rms_eps, embd, &s_.xn[t * embd]);
    const MatmulTarget qkv[] = {{&w.wq, s_.q.data()}, {&w.wk, s_.k.data()}, {&w.wv, s_.v.data()}};
    matmul_shared(qkv, s_.xn.data(), n, pool, kernel);
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
      segs[seg_of[t]].cache->write(l, pos_of[t], kt, &s_.v[t * kv_dim]);
    }
    for (size_t g = 0, r = 0; g < segs.size(); r += segs[g].tokens.size(), ++g) {
      AttentionArgs args;
      args.q = s_.q.data() + r * q_dim;
      args.out = s_.attn.data() + r * q_dim;
      args.cache = segs[g].cache;
      args.layer = l;
      args.start_pos = segs[g].cache->size();
      args.num_tokens = segs[g].tokens.size();
      args.n_head = c.n_head;
      args.n_head_kv = c.n_head_kv;
      args.head_dim = c.head_dim;
      args.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
      attention(args, pool);
    }
    mm(w.wo, s_.attn.data(), n, s_.xn.data());
    for (size_t i = 0; i < n * embd; ++i) s_.x[i] += s_.xn[i];

    // MLP block: x += W_down (silu(W_gate xn) * W_up xn)
    for (size_t t = 0; t < n; ++t) rms_norm(&s_.x[t * embd], w.ffn_norm, c.rms_eps, embd, &s_.xn[t * embd]);
    const MatmulTarget gate_up[] = {{&w.w_gate, s_.gate.data()}, {&w.w_up, s_.up.data()}};
    matmul_shared(gate_up, s_.xn.data(), n, pool, kernel);
    silu_mul(s_.gate.data(), s_.up.data(), n * ff, s_.gate.data());
    mm(w.w_down, s_.gate.data(), n, s_.xn.data());
    for (size_t i = 0; i < n * embd; ++i) s_.x[i] += s_.xn[i];
  }
  for (const PassSegment& g : segs) g.cache->commit(static_cast<int64_t>(g.tokens.size()));
  if (!logits_out) return;

  // Only the rows whose logits are wanted go through the output projection: every row of an
  // all_logits segment, else its last.
  size_t rows = 0;
  for (size_t g = 0, r = 0; g < segs.size(); r += segs[g].tokens.size(), ++g) {
    const size_t len = segs[g].tokens.size();
    for (size_t t = segs[g].all_logits ? r : r + len - 1; t < r + len; ++t, ++rows)
      rms_norm(&s_.x[t * embd], weights_.output_norm, c.rms_eps, embd, &s_.xn[rows * embd]);
  }
  mm(weights_.output, s_.xn.data(), rows, logits_out);
}

}  // namespace wafer
