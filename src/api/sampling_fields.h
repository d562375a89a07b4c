// OpenAI sampling knobs (temperature, top_p, penalties, seed, logit_bias) as sent, and their
// mapping onto the engine's SamplingParams with range checks that name the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "base/result.h"
#include "sampling/sampler.h"

namespace wafer::api {

struct SamplingFields {
  std::optional<double> temperature;        // 0..2
  std::optional<double> top_p;              // (0, 1]
  std::optional<double> frequency_penalty;  // -2..2
  std::optional<double> presence_penalty;   // -2..2
  std::optional<int64_t> seed;
  std::vector<std::pair<int64_t, double>> logit_bias;  // token id -> -100..100
};

// Unset fields take `defaults`' values. OpenAI semantics: temperature 0 is greedy, penalties
// use the whole generated window. Errors name the field ("temperature: must be between 0 and
// 2, got 3") and logit_bias token ids outside [0, vocab_size).
Result<SamplingParams> to_sampling_params(const SamplingFields& fields,
                                          const SamplingParams& defaults, size_t vocab_size);

// The generation fields Chat Completions and legacy Completions share.
struct GenerationFields {
  SamplingFields sampling;
  std::vector<std::string> stop;  // "stop": a string or up to 4 strings
  bool stream = false;
  bool include_usage = false;     // stream_options.include_usage
  bool cache_prompt = true;       // wafer (as llama.cpp's server): false reuses no cached KV
};
// Reads temperature, top_p, frequency_penalty, presence_penalty, seed, logit_bias, stop,
// stream, stream_options and n (only 1) from a request body; errors name the field.
Status read_generation_fields(const boost::json::object& body, GenerationFields* out);

}  // namespace wafer::api
