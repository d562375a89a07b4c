// Turns a row of logits into the next token: logit bias, repetition/frequency/presence
// penalties, temperature, top-k, top-p, min-p, then a seeded draw (or argmax at temp 0).
// One Sampler per sequence; not thread-safe. Same seed + same logits -> same tokens.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/result.h"

namespace wafer {

struct SamplingParams {
  float temperature = 1.0f;        // <= 0: greedy
  int32_t top_k = 0;               // 0: off
  float top_p = 1.0f;              // 1: off
  float min_p = 0.0f;              // 0: off
  float repetition_penalty = 1.0f; // 1: off (llama.cpp semantics: divide positive logits)
  float frequency_penalty = 0.0f;  // OpenAI semantics: minus count * penalty
  float presence_penalty = 0.0f;   // minus penalty if seen
  int32_t penalty_last_n = 64;     // window of recent tokens the penalties look at; -1: all
  std::vector<std::pair<int32_t, float>> logit_bias;  // token id -> added to its logit
  uint64_t seed = 0;

  // Error naming the field for out-of-range values (negative top_p, etc.).
  Status validate() const;
};

class Sampler {
 public:
  Sampler(SamplingParams params, size_t vocab_size);

  // Picks a token from logits [vocab_size]; may modify logits in place.
  int32_t sample(std::span<float> logits);
  // Records a token as part of the context the penalties see (prompt and generated).
  void accept(int32_t token);

  const SamplingParams& params() const { return params_; }

 private:
  void apply_logit_bias(std::span<float> logits) const;
  void apply_penalties(std::span<float> logits) const;
  // Uniform in [0, 1) from the top 53 bits of one rng draw: same on every platform.
  double next_uniform();

  SamplingParams params_;
  size_t vocab_size_;
  std::mt19937_64 rng_;
  std::deque<int32_t> recent_;
  std::unordered_map<int32_t, int32_t> counts_;        // token -> occurrences in recent_
  std::vector<std::pair<float, int32_t>> candidates_;  // scratch: (weight or logit, token)
};

int32_t argmax(std::span<const float> logits);

// Watches generated text for stop strings. push() returns the text safe to emit now, holding
// back any tail that could still become a stop string; once a stop string is seen, stopped()
// is true and nothing past it is ever emitted. The cut is at the stop string that completes
// first (the longest if several complete at the same byte), so the output never depends on
// how the text was split into pushes. Empty stop strings are ignored. Not thread-safe.
class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}
  std::string push(std::string_view text);
  std::string flush();  // at the end: whatever was held back (unless stopped)
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace wafer
