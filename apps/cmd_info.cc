// `wafer info`: architecture, shapes, tensor types, tokenizer and templates of a GGUF model.
#include <map>

#include <fmt/core.h>

#include "apps/commands.h"
#include "model/model.h"

namespace wafer::apps {
namespace {

const char* rope_scaling_name(RopeScaling s) {
  switch (s) {
    case RopeScaling::kNone: return "none";
    case RopeScaling::kLinear: return "linear";
    case RopeScaling::kYarn: return "yarn";
  }
  return "?";
}

int info(const std::string& path) {
  auto model = Model::load(path);
  if (!model) return user_error(model.error().message);
  const Model& m = **model;
  const ModelConfig& c = m.config();
  const GgufFile& f = m.file();
  fmt::print("file:            {} (GGUF v{}, {} tensors, {} metadata keys)\n", path, f.version(),
             f.tensors().size(), f.metadata().size());
  fmt::print("name:            {}\n", c.name.empty() ? "(unnamed)" : c.name);
  fmt::print("architecture:    {}\n", c.arch_name);
  fmt::print("layers:          {}\n", c.n_layer);
  fmt::print("hidden size:     {}\n", c.n_embd);
  fmt::print("heads:           {} query, {} key/value, head dim {}\n", c.n_head, c.n_head_kv, c.head_dim);
  fmt::print("feed-forward:    {}\n", c.n_ff);
  fmt::print("vocabulary:      {}\n", c.n_vocab);
  fmt::print("context length:  {}\n", c.n_ctx_train);
  fmt::print("rope:            {} style, base {}, {} dims, scaling {} (factor {})\n",
             c.rope_style == RopeStyle::kNeox ? "neox" : "normal", c.rope_base, c.rope_dims,
             rope_scaling_name(c.rope_scaling), c.rope_scale_factor);
  fmt::print("output:          {}\n", c.tied_output ? "tied to token_embd" : "output.weight");
  fmt::print("q/k/v biases:    {}   q/k norm: {}\n", c.has_qkv_bias ? "yes" : "no", c.has_qk_norm ? "yes" : "no");
  std::map<std::string, std::pair<int, uint64_t>> by_type;
  uint64_t params = 0, bytes = 0;
  for (const GgufTensorInfo& t : f.tensors()) {
    auto& e = by_type[std::string(dtype_name(t.type))];
    e.first += 1;
    e.second += t.num_bytes;
    params += t.num_elements;
    bytes += t.num_bytes;
  }
  fmt::print("parameters:      {:.1f} M ({:.1f} MiB)\n", params / 1e6, bytes / 1048576.0);
  for (const auto& [name, e] : by_type)
    fmt::print("  {:<6} {:>4} tensors  {:>10.1f} MiB\n", name, e.first, e.second / 1048576.0);
  fmt::print("decode reads:    {:.1f} MiB of weights per token\n", m.weights().matmul_bytes_per_token / 1048576.0);
  const Tokenizer& tok = m.tokenizer();
  auto text = [&](std::optional<TokenId> id) {
    return id ? fmt::format("{} {}", *id, tok.token_text(*id)) : std::string("-");
  };
  fmt::print("tokenizer:       byte-level BPE, {} tokens\n", tok.vocab_size());
  fmt::print("  bos: {}   eos: {}   eot: {}\n", text(tok.bos()), text(tok.eos()), text(tok.eot()));
  fmt::print("  fim: prefix {}, suffix {}, middle {}\n", text(tok.fim_prefix()), text(tok.fim_suffix()),
             text(tok.fim_middle()));
  auto format = detect_chat_format(tok);
  fmt::print("chat format:     {}\n", format ? chat_format_name(*format)
                                             : format.error().message);
  fmt::print("chat template:   {} characters\n", tok.chat_template().size());
  return 0;
}

}  // namespace

Command add_info_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  app.add_option("-m,--model", *path, "GGUF model file")->required();
  return [path] { return info(*path); };
}

}  // namespace wafer::apps
