// The single-sequence generation loop used by `wafer run` and `wafer bench`.
#include "engine/generate.h"

#include <chrono>

namespace wafer {
namespace {
double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

Result<GenerateResult> generate(Model& model, KvCache& cache, std::span<const TokenId> prompt,
                                const GenerateOptions& options, ThreadPool& pool,
                                const std::function<void(std::string_view)>& on_text) {
  WAFER_RETURN_IF_ERROR(options.sampling.validate());
  if (prompt.empty())
    return make_error(ErrorCode::kInvalidArgument, "the prompt is empty: give at least one token");
  const Tokenizer& tok = model.tokenizer();
  const size_t n_vocab = static_cast<size_t>(model.config().n_vocab);
  GenerateResult result;
  result.prompt_tokens = static_cast<int64_t>(prompt.size());

  Sampler sampler(options.sampling, n_vocab);
  for (TokenId id : prompt) sampler.accept(id);
  StreamingDetokenizer detok(tok);
  StopMatcher stops(options.stop);
  auto emit = [&](const std::string& piece) {
    if (piece.empty()) return;
    std::string out = stops.push(piece);
    if (!out.empty()) {
      result.text += out;
      if (on_text) on_text(out);
    }
  };

  auto t0 = std::chrono::steady_clock::now();
  WAFER_ASSIGN_OR_RETURN(std::span<const float> logits, model.forward(cache, prompt, false, pool));
  result.prefill_ms = ms_since(t0);
  if (options.logits_last) result.logits_last.assign(logits.begin(), logits.end());

  std::vector<float> row(logits.begin(), logits.end());
  auto t1 = std::chrono::steady_clock::now();
  result.finish_reason = "length";
  for (int64_t step = 0; step < options.max_tokens; ++step) {
    const TokenId next = sampler.sample(row);
    sampler.accept(next);
    result.ids.push_back(next);
    if (!options.ignore_eos && tok.is_end_of_generation(next)) {
      result.finish_reason = "stop";
      break;
    }
    emit(detok.push(next));
    if (stops.stopped()) {
      result.finish_reason = "stop";
      break;
    }
    if (step + 1 == options.max_tokens) break;
    const TokenId one[1] = {next};
    auto out = model.forward(cache, one, false, pool);
    if (!out.ok()) {
      // The context window is full: end like a length limit, as servers do.
      if (out.error().code == ErrorCode::kOutOfRange) break;
      return out.take_error();
    }
    row.assign(out->begin(), out->end());
  }
  if (!stops.stopped()) {
    emit(detok.flush());
    std::string rest = stops.flush();
    result.text += rest;
    if (on_text && !rest.empty()) on_text(rest);
  }
  result.decode_ms = ms_since(t1);
  return result;
}

}  // namespace wafer
