// OpenAI sampling fields -> SamplingParams, with OpenAI's documented ranges.
#include "api/sampling_fields.h"

#include <cmath>

#include "api/json_read.h"

namespace wafer::api {

namespace {

Status check_range(std::string_view field, const std::optional<double>& value, double lo,
                   double hi) {
  if (!value) return {};
  if (!std::isfinite(*value) || *value < lo || *value > hi) {
    return field_error(field, "must be between {} and {}, got {}", lo, hi, *value);
  }
  return {};
}

}  // namespace

Result<SamplingParams> to_sampling_params(const SamplingFields& fields,
                                          const SamplingParams& defaults, size_t vocab_size) {
  WAFER_RETURN_IF_ERROR(check_range("temperature", fields.temperature, 0.0, 2.0));
  WAFER_RETURN_IF_ERROR(check_range("top_p", fields.top_p, 0.0, 1.0));
  WAFER_RETURN_IF_ERROR(check_range("frequency_penalty", fields.frequency_penalty, -2.0, 2.0));
  WAFER_RETURN_IF_ERROR(check_range("presence_penalty", fields.presence_penalty, -2.0, 2.0));
  if (fields.top_p && *fields.top_p == 0.0) {
    return field_error("top_p", "must be greater than 0 (use temperature 0 for greedy)");
  }
  SamplingParams params = defaults;
  if (fields.temperature) params.temperature = static_cast<float>(*fields.temperature);
  if (fields.top_p) params.top_p = static_cast<float>(*fields.top_p);
  if (fields.frequency_penalty) {
    params.frequency_penalty = static_cast<float>(*fields.frequency_penalty);
  }
  if (fields.presence_penalty) {
    params.presence_penalty = static_cast<float>(*fields.presence_penalty);
  }
  if (fields.frequency_penalty || fields.presence_penalty) params.penalty_last_n = -1;
  if (fields.seed) params.seed = static_cast<uint64_t>(*fields.seed);
  for (const auto& [token, bias] : fields.logit_bias) {
    std::string field = fmt::format("logit_bias.{}", token);
    if (token < 0 || static_cast<uint64_t>(token) >= vocab_size) {
      return field_error(field, "token id {} is outside the vocabulary (0..{})", token,
                         vocab_size == 0 ? 0 : vocab_size - 1);
    }
    WAFER_RETURN_IF_ERROR(check_range(field, bias, -100.0, 100.0));
    params.logit_bias.emplace_back(static_cast<int32_t>(token), static_cast<float>(bias));
  }
  WAFER_RETURN_IF_ERROR(params.validate());
  return params;
}

}  // namespace wafer::api
