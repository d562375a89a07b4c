// `wafer run`: load a model, generate from a text or token-id prompt, stream or print JSON.
#include <cstdio>
#include <string>
#include <thread>

#include <fmt/core.h>

#include "apps/commands.h"
#include "apps/json_out.h"
#include "engine/generate.h"

namespace wafer::apps {
namespace {

struct RunFlags {
  std::string model_path;
  std::string prompt;
  std::string prompt_ids;
  std::string output = "text";
  int64_t max_tokens = 128;
  int threads = 0;
  int64_t ctx_size = 0;
  float temperature = 0.8f;
  int32_t top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  std::vector<std::string> logit_bias;
  uint64_t seed = 0;
  std::vector<std::string> stop;
  bool logits = false;
  bool ignore_eos = false;
  bool chat = false;
};

Result<std::vector<TokenId>> parse_ids(const std::string& text) {
  std::vector<TokenId> ids;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(pos, end - pos);
    char* rest = nullptr;
    long v = std::strtol(item.c_str(), &rest, 10);
    if (item.empty() || *rest != '\0' || v < 0 || v > INT32_MAX)
      return make_error(ErrorCode::kInvalidArgument,
                        "--prompt-ids: '{}' is not a token id (expected e.g. 1,2,3)", item);
    ids.push_back(static_cast<TokenId>(v));
    pos = end + 1;
  }
  if (ids.empty()) return make_error(ErrorCode::kInvalidArgument, "--prompt-ids is empty");
  return ids;
}

// "ID=BIAS", e.g. 151643=-100
Result<std::pair<int32_t, float>> parse_logit_bias(const std::string& item) {
  const size_t eq = item.find('=');
  char* end_id = nullptr;
  char* end_bias = nullptr;
  if (eq != std::string::npos) {
    const long id = std::strtol(item.c_str(), &end_id, 10);
    const float bias = std::strtof(item.c_str() + eq + 1, &end_bias);
    if (end_id == item.c_str() + eq && eq > 0 && *end_bias == '\0' && id >= 0 && id <= INT32_MAX)
      return std::pair<int32_t, float>(static_cast<int32_t>(id), bias);
  }
  return make_error(ErrorCode::kInvalidArgument, "--logit-bias '{}' must be TOKEN_ID=BIAS, e.g. 42=-100", item);
}

int run(const RunFlags& f) {
  auto model = Model::load(f.model_path);
  if (!model) return user_error(model.error().message);
  Model& m = **model;
  std::vector<TokenId> prompt;
  if (!f.prompt_ids.empty()) {
    auto ids = parse_ids(f.prompt_ids);
    if (!ids) return user_error(ids.error().message);
    prompt = std::move(*ids);
  } else if (f.chat) {
    auto format = detect_chat_format(m.tokenizer());
    if (!format) return user_error(format.error().message);
    std::string text = render_chat(*format, {{"user", f.prompt}}, true);
    prompt = m.tokenizer().encode(text, true, false);
  } else {
    prompt = m.tokenizer().encode(f.prompt, true, true);
  }
  const int threads = f.threads > 0 ? f.threads : static_cast<int>(std::thread::hardware_concurrency());
  ThreadPool pool(threads);
  const int64_t ctx = f.ctx_size > 0 ? f.ctx_size : m.config().n_ctx_train;
  KvCache cache = m.new_cache(ctx);

  GenerateOptions opt;
  opt.max_tokens = f.max_tokens;
  opt.sampling.temperature = f.temperature;
  opt.sampling.top_k = f.top_k;
  opt.sampling.top_p = f.top_p;
  opt.sampling.min_p = f.min_p;
  opt.sampling.repetition_penalty = f.repeat_penalty;
  opt.sampling.frequency_penalty = f.frequency_penalty;
  opt.sampling.presence_penalty = f.presence_penalty;
  for (const std::string& item : f.logit_bias) {
    auto bias = parse_logit_bias(item);
    if (!bias) return user_error(bias.error().message);
    opt.sampling.logit_bias.push_back(*bias);
  }
  opt.sampling.seed = f.seed;
  opt.stop = f.stop;
  opt.logits_last = f.logits;
  // Raw token-id prompts are for checks against references, which run to the full length.
  opt.ignore_eos = f.ignore_eos || !f.prompt_ids.empty();
  const bool json = f.output == "json";
  auto result = generate(m, cache, prompt, opt, pool, [&](std::string_view text) {
    if (json) return;
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  });
  if (!result) return user_error(result.error().message);
  if (!json) {
    std::fputc('\n', stdout);
    fmt::print(stderr, "wafer: {} prompt tokens in {:.1f} ms ({:.1f} tok/s), {} generated in {:.1f} ms ({:.1f} tok/s)\n",
               result->prompt_tokens, result->prefill_ms,
               result->prompt_tokens * 1000.0 / std::max(result->prefill_ms, 1e-9), result->ids.size(),
               result->decode_ms, result->ids.size() * 1000.0 / std::max(result->decode_ms, 1e-9));
    return 0;
  }
  boost::json::object out;
  out["prompt_ids"] = to_json_array<TokenId>(prompt);
  out["ids"] = to_json_array<TokenId>(result->ids);
  out["text"] = result->text;
  out["finish_reason"] = result->finish_reason;
  out["timings"] = {{"prompt_tokens", result->prompt_tokens},
                    {"prompt_ms", result->prefill_ms},
                    {"generated_tokens", static_cast<int64_t>(result->ids.size())},
                    {"generate_ms", result->decode_ms}};
  if (f.logits) out["logits_last"] = floats_to_json(result->logits_last);
  std::string s = boost::json::serialize(out);
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto f = std::make_shared<RunFlags>();
  app.add_option("-m,--model", f->model_path, "GGUF model file")->required();
  auto* p = app.add_option("-p,--prompt", f->prompt, "prompt text (special tokens like <|im_start|> are parsed)");
  auto* ids = app.add_option("--prompt-ids", f->prompt_ids, "prompt as comma-separated token ids; implies --ignore-eos");
  p->excludes(ids);
  app.add_flag("--chat", f->chat, "wrap the prompt as one user turn in the model's chat template");
  app.add_option("-n,--max-tokens", f->max_tokens, "tokens to generate")->check(CLI::NonNegativeNumber);
  app.add_option("-t,--threads", f->threads, "threads (default: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("-c,--ctx-size", f->ctx_size, "context size (default: the model's)")->check(CLI::NonNegativeNumber);
  app.add_option("--temp", f->temperature, "temperature; 0 is greedy");
  app.add_option("--top-k", f->top_k, "top-k (0: off)");
  app.add_option("--top-p", f->top_p, "top-p (1: off)");
  app.add_option("--min-p", f->min_p, "min-p (0: off)");
  app.add_option("--repeat-penalty", f->repeat_penalty, "repetition penalty (1: off)");
  app.add_option("--frequency-penalty", f->frequency_penalty, "subtract count * this from a seen token's logit (OpenAI semantics)");
  app.add_option("--presence-penalty", f->presence_penalty, "subtract this from a seen token's logit");
  app.add_option("--logit-bias", f->logit_bias, "TOKEN_ID=BIAS added to that token's logit (repeatable)");
  app.add_option("--seed", f->seed, "random seed; the same seed gives the same text");
  app.add_option("--stop", f->stop, "stop string (repeatable)");
  app.add_flag("--logits", f->logits, "with --output json: add logits_last, the logits at the last prompt position");
  app.add_flag("--ignore-eos", f->ignore_eos, "do not stop at end-of-generation tokens");
  app.add_option("--output", f->output, "text (stream) or json")->check(CLI::IsMember({"text", "json"}));
  return [f] {
    if (f->prompt.empty() && f->prompt_ids.empty()) return user_error("give a prompt with -p TEXT or --prompt-ids 1,2,3");
    return run(*f);
  };
}

int user_error(const std::string& message) {
  fmt::print(stderr, "wafer: {}\n", message);
  return 1;
}

}  // namespace wafer::apps
