// One prompt -> one completion on a model and a KV cache: prefill, then sample and decode
// token by token, streaming text as whole UTF-8 characters. The request/scheduler engine of
// the server builds on the same steps.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/thread_pool.h"
#include "model/model.h"
#include "sampling/sampler.h"

namespace wafer {

struct GenerateOptions {
  int64_t max_tokens = 128;
  SamplingParams sampling;
  std::vector<std::string> stop;  // stop strings; the text ends before the first one
  bool ignore_eos = false;        // keep going past end-of-generation tokens
  bool logits_last = false;       // keep the logits at the last prompt position
};

struct GenerateResult {
  std::vector<TokenId> ids;        // generated ids (stop strings and EOG tokens included)
  std::string text;                // generated text, cut before any stop string
  std::vector<float> logits_last;  // [n_vocab] when asked for
  std::string finish_reason;       // "stop" (EOG or stop string) or "length"
  int64_t prompt_tokens = 0;
  double prefill_ms = 0;
  double decode_ms = 0;            // from the first sampled token to the last
};

// on_text receives text as soon as it is safe to show (may be called with empty views never).
Result<GenerateResult> generate(Model& model, KvCache& cache, std::span<const TokenId> prompt,
                                const GenerateOptions& options, ThreadPool& pool,
                                const std::function<void(std::string_view)>& on_text);

}  // namespace wafer
