// POST /v1/completions: a raw prompt, or prompt + suffix as fill-in-the-middle (editor
// autocomplete plugins), and the text_completion answers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/prompt.h"
#include "api/sampling_fields.h"
#include "base/result.h"
#include "tokenizer/tokenizer.h"
#include "wafer/engine.h"

namespace wafer::api {

struct CompletionRequest {
  std::string model;
  std::string prompt;                  // a string, or an array holding one string
  std::optional<std::string> suffix;   // set: fill-in-the-middle
  int64_t max_tokens = 16;             // OpenAI's default
  SamplingFields sampling;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;
  bool cache_prompt = true;            // false: reuse no cached KV (wafer extension)
};

// Errors name the field. n/best_of other than 1, echo and logprobs are errors (unsupported);
// a token-id array prompt is an error (send text).
Result<CompletionRequest> parse_completion_request(std::string_view body);
// With suffix: render_fim (Error kUnsupported when the model has no FIM tokens). Without:
// the prompt as written (special tokens parsed, BOS added when the model wants one).
Result<Prompt> build_completion_prompt(const Tokenizer& tokenizer,
                                       const CompletionRequest& request);

// Builds the answers. Not thread-safe; one per request.
class CompletionWriter {
 public:
  // id: "cmpl-..."; created: unix seconds.
  CompletionWriter(std::string id, std::string model_id, int64_t created, bool include_usage);
  // Streaming: one chunk JSON per non-empty text piece ("data: [DONE]" is the server's).
  std::vector<std::string> push(std::string_view text);
  // Last chunk with finish_reason "stop" / "length", then a usage chunk when include_usage.
  std::vector<std::string> finish(std::string_view engine_finish_reason, const Usage& usage);
  // Non-streaming: the whole text_completion object with usage (after finish()).
  std::string completion_json() const;

 private:
  std::string id_, model_id_;
  int64_t created_;
  bool include_usage_;
  std::string text_;
  std::string finish_reason_;
  Usage usage_;
};

}  // namespace wafer::api
