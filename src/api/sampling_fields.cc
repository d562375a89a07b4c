// OpenAI sampling fields -> SamplingParams, with OpenAI's documented ranges.
#include "api/sampling_fields.h"

#include <algorithm>
#include <cmath>

#include "api/json_read.h"

namespace wafer::api {

namespace json = boost::json;

namespace {

constexpr size_t kMaxStops = 4;

Status parse_stop(const json::object& body, std::vector<std::string>* stop) {
  const json::value* v = find_field(body, "stop");
  if (v == nullptr) return {};
  if (v->is_string()) {
    stop->emplace_back(v->get_string());
    return {};
  }
  if (!v->is_array()) return type_error("stop", "a string or an array of strings", *v);
  const json::array& array = v->get_array();
  if (array.size() > kMaxStops) {
    return field_error("stop", "at most {} stop strings, got {}", kMaxStops, array.size());
  }
  for (size_t i = 0; i < array.size(); ++i) {
    if (!array[i].is_string()) return type_error(index_path("stop", i), "a string", array[i]);
    stop->emplace_back(array[i].get_string());
  }
  return {};
}

Status parse_logit_bias(const json::object& body, SamplingFields* sampling) {
  const json::value* v = find_field(body, "logit_bias");
  if (v == nullptr) return {};
  if (!v->is_object()) return type_error("logit_bias", "an object", *v);
  for (const json::key_value_pair& kv : v->get_object()) {
    std::string path = field_path("logit_bias", kv.key());
    int64_t token = 0;
    std::string_view key = kv.key();
    if (key.empty() || key.size() > 10 ||
        !std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return field_error(path, "keys must be token ids");
    }
    for (char c : key) token = token * 10 + (c - '0');
    if (!kv.value().is_number()) return type_error(path, "a number", kv.value());
    sampling->logit_bias.emplace_back(token, kv.value().to_number<double>());
  }
  return {};
}

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


Status read_generation_fields(const json::object& body, GenerationFields* out) {
  SamplingFields* sampling = &out->sampling;
  WAFER_ASSIGN_OR_RETURN(sampling->temperature, read_number(body, "temperature", ""));
  WAFER_ASSIGN_OR_RETURN(sampling->top_p, read_number(body, "top_p", ""));
  WAFER_ASSIGN_OR_RETURN(sampling->frequency_penalty, read_number(body, "frequency_penalty", ""));
  WAFER_ASSIGN_OR_RETURN(sampling->presence_penalty, read_number(body, "presence_penalty", ""));
  WAFER_ASSIGN_OR_RETURN(sampling->seed, read_int(body, "seed", ""));
  WAFER_RETURN_IF_ERROR(parse_logit_bias(body, sampling));
  WAFER_RETURN_IF_ERROR(parse_stop(body, &out->stop));
  WAFER_ASSIGN_OR_RETURN(auto cache, read_bool(body, "cache_prompt", ""));
  out->cache_prompt = cache.value_or(true);
  WAFER_ASSIGN_OR_RETURN(auto s, read_bool(body, "stream", ""));
  out->stream = s.value_or(false);
  if (const json::value* options = find_field(body, "stream_options")) {
    if (!options->is_object()) return type_error("stream_options", "an object", *options);
    WAFER_ASSIGN_OR_RETURN(auto usage,
                           read_bool(options->get_object(), "include_usage", "stream_options"));
    out->include_usage = usage.value_or(false);
  }
  WAFER_ASSIGN_OR_RETURN(auto n, read_int(body, "n", ""));
  if (n && *n != 1) return field_error("n", "only n = 1 is supported, got {}", *n);
  return {};
}


}  // namespace wafer::api
