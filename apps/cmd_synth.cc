// `wafer synth`: a random-weight model of a real model's exact shape and tensor-type mix,
// with the real tokenizer copied from a vocab GGUF. Tests and benchmarks run on these, since
// no weights can be downloaded where they run.
#include <cmath>
#include <cstring>
#include <functional>
#include <thread>

#include <fmt/core.h>

#include "apps/commands.h"
#include "apps/synth_shapes.h"
#include "base/thread_pool.h"
#include "gguf/gguf.h"
#include "quant/quant.h"

namespace wafer::apps {
namespace {

struct SynthFlags {
  std::string shape;
  std::string type = "q8_0";
  std::string vocab_path;
  std::string out_path;
  uint64_t seed = 1;
  int threads = 0;
  float turn_end_logit = 0.0f;
};

// Rewrites a freshly drawn row before it is quantised (row index, values).
using RowEdit = std::function<void(uint64_t, float*)>;

// With --turn-end-logit, the model ends its turns: every token's embedding carries a
// constant in dimension 0 that no layer writes to (row 0 of attn_output and ffn_down is
// zero), so after the final norm dimension 0 is a positive constant, and the end-of-turn
// token's row gets a larger value there, so its logit stands above the rest by an amount
// that grows with `turn_end_logit` and sampled turns end after a few tokens.
constexpr float kCarrier = 4.0f;

// splitmix64: a fast, well-mixed generator; one stream per (tensor, row) for determinism.
uint64_t splitmix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform values with standard deviation `stddev`, quantised row by row to `type`.
std::vector<uint8_t> random_tensor(DType type, uint64_t rows, uint64_t cols, float stddev,
                                   uint64_t seed, ThreadPool& pool, const RowEdit& edit = nullptr) {
  const size_t stride = row_bytes(type, cols);
  std::vector<uint8_t> data(rows * stride);
  const float amplitude = stddev * std::sqrt(3.0f);
  pool.parallel_for(rows, 64, [&](size_t begin, size_t end) {
    std::vector<float> row(cols);
    for (size_t r = begin; r < end; ++r) {
      uint64_t state = seed * 0x100000001b3ull + r;
      for (uint64_t c = 0; c < cols; ++c) {
        const double u = static_cast<double>(splitmix(state) >> 11) * 0x1.0p-53;
        row[c] = static_cast<float>((2.0 * u - 1.0) * amplitude);
      }
      if (edit) edit(r, row.data());
      quantize_row(type, row.data(), data.data() + r * stride, cols);
    }
  });
  return data;
}

std::vector<uint8_t> constant_f32(uint64_t n, float value) {
  std::vector<uint8_t> data(n * 4);
  for (uint64_t i = 0; i < n; ++i) std::memcpy(&data[i * 4], &value, 4);
  return data;
}

int synth(const SynthFlags& f) {
  auto shape = find_shape(f.shape);
  if (!shape) return user_error(shape.error().message);
  auto mix = parse_type_mix(f.type);
  if (!mix) return user_error(mix.error().message);
  auto vocab = GgufFile::open(f.vocab_path);
  if (!vocab) return user_error(vocab.error().message);
  auto tokens = (*vocab)->get_string_array("tokenizer.ggml.tokens");
  if (!tokens || !*tokens)
    return user_error(fmt::format("'{}' holds no tokenizer (tokenizer.ggml.tokens)", f.vocab_path));
  SynthShape s = *shape;
  const int64_t n_tokens = static_cast<int64_t>((*tokens)->size());
  if (s.n_vocab < n_tokens) s.n_vocab = (n_tokens + 63) / 64 * 64;

  ThreadPool pool(f.threads > 0 ? f.threads : static_cast<int>(std::thread::hardware_concurrency()));
  GgufWriter w;
  const std::string a = s.arch;
  w.set_string("general.architecture", a);
  w.set_string("general.name", fmt::format("wafer-synth {} {}", s.name, f.type));
  w.set_u32(a + ".context_length", static_cast<uint32_t>(s.n_ctx));
  w.set_u32(a + ".embedding_length", static_cast<uint32_t>(s.n_embd));
  w.set_u32(a + ".block_count", static_cast<uint32_t>(s.n_layer));
  w.set_u32(a + ".feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.set_u32(a + ".attention.head_count", static_cast<uint32_t>(s.n_head));
  w.set_u32(a + ".attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  w.set_u32(a + ".attention.key_length", static_cast<uint32_t>(s.head_dim));
  w.set_u32(a + ".attention.value_length", static_cast<uint32_t>(s.head_dim));
  w.set_f32(a + ".rope.freq_base", s.rope_base);
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
  w.copy_metadata(**vocab, "tokenizer.");

  int64_t turn_end = -1;
  if (f.turn_end_logit != 0.0f) {
    for (const char* text : {"<|im_end|>", "<|eot_id|>", "<|endoftext|>"})
      for (size_t i = 0; i < (*tokens)->size() && turn_end < 0; ++i)
        if ((**tokens)[i] == text) turn_end = static_cast<int64_t>(i);
    if (turn_end < 0) return user_error("--turn-end-logit: the vocabulary has no end-of-turn token");
    if (!s.tied) return user_error("--turn-end-logit needs a shape with tied embeddings (e.g. tiny)");
  }
  // The final norm scales dimension 0 to about kCarrier / rms(x), with rms(x) near 1 here.
  const float turn_end_value = kCarrier + f.turn_end_logit / kCarrier;
  RowEdit embedding_edit = [&](uint64_t r, float* row) {
    row[0] = static_cast<int64_t>(r) == turn_end ? turn_end_value : kCarrier;
  };
  uint64_t tensor_seed = f.seed * 1000003ull;
  auto matrix = [&](const std::string& name, TensorRole role, int layer, uint64_t cols, uint64_t rows) {
    const DType type = mix->pick(role, layer, s.n_layer, cols);
    RowEdit edit;
    if (turn_end >= 0 && role == TensorRole::kOutput) edit = embedding_edit;
    if (turn_end >= 0 && (role == TensorRole::kAttnOutput || role == TensorRole::kFfnDown))
      edit = [cols](uint64_t r, float* row) { if (r == 0) std::fill_n(row, cols, 0.0f); };
    w.add_tensor(name, type, {cols, rows}, random_tensor(type, rows, cols, 0.02f, ++tensor_seed, pool, edit));
  };
  auto vector = [&](const std::string& name, uint64_t n, float value) {
    w.add_tensor(name, DType::kF32, {n}, constant_f32(n, value));
  };
  auto bias = [&](const std::string& name, uint64_t n) {
    w.add_tensor(name, DType::kF32, {n}, random_tensor(DType::kF32, 1, n, 0.02f, ++tensor_seed, pool));
  };
  const uint64_t embd = s.n_embd, q_dim = s.n_head * s.head_dim, kv_dim = s.n_head_kv * s.head_dim;
  matrix("token_embd.weight", s.tied ? TensorRole::kOutput : TensorRole::kEmbedding, 0, embd, s.n_vocab);
  vector("output_norm.weight", embd, 1.0f);
  if (!s.tied) matrix("output.weight", TensorRole::kOutput, 0, embd, s.n_vocab);
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string p = fmt::format("blk.{}.", l);
    const int layer = static_cast<int>(l);
    vector(p + "attn_norm.weight", embd, 1.0f);
    matrix(p + "attn_q.weight", TensorRole::kAttnQ, layer, embd, q_dim);
    matrix(p + "attn_k.weight", TensorRole::kAttnK, layer, embd, kv_dim);
    matrix(p + "attn_v.weight", TensorRole::kAttnV, layer, embd, kv_dim);
    matrix(p + "attn_output.weight", TensorRole::kAttnOutput, layer, q_dim, embd);
    if (s.arch == std::string("qwen2")) {
      bias(p + "attn_q.bias", q_dim);
      bias(p + "attn_k.bias", kv_dim);
      bias(p + "attn_v.bias", kv_dim);
    }
    if (s.arch == std::string("qwen3")) {
      vector(p + "attn_q_norm.weight", s.head_dim, 1.0f);
      vector(p + "attn_k_norm.weight", s.head_dim, 1.0f);
    }
    vector(p + "ffn_norm.weight", embd, 1.0f);
    matrix(p + "ffn_gate.weight", TensorRole::kFfnGate, layer, embd, s.n_ff);
    matrix(p + "ffn_up.weight", TensorRole::kFfnUp, layer, embd, s.n_ff);
    matrix(p + "ffn_down.weight", TensorRole::kFfnDown, layer, s.n_ff, embd);
  }
  Status st = w.write(f.out_path);
  if (!st) return user_error(st.error().message);
  fmt::print(stderr, "wafer: wrote {} ({} {}, {} layers, vocab {})\n", f.out_path, s.name, f.type,
             s.n_layer, s.n_vocab);
  return 0;
}

}  // namespace

Command add_synth_command(CLI::App& app) {
  auto f = std::make_shared<SynthFlags>();
  app.add_option("--shape", f->shape, shape_help())->required();
  app.add_option("--type", f->type, type_mix_help());
  app.add_option("--vocab", f->vocab_path, "GGUF whose tokenizer the model gets (e.g. ../shared/vocab/ggml-vocab-qwen2.gguf)")->required();
  app.add_option("-o,--output", f->out_path, "output GGUF path")->required();
  app.add_option("--seed", f->seed, "seed of the random weights");
  app.add_option("-t,--threads", f->threads, "threads");
  app.add_option("--turn-end-logit", f->turn_end_logit,
                 "make the model end its turns: the end-of-turn token's logit sits this far above "
                 "the rest, in units of the final norm's carrier (3.5 gives turns of a few tokens on the tiny shape at temperature 1; greedy ends at once); tied shapes only");
  return [f] { return synth(*f); };
}

}  // namespace wafer::apps
