// POST /v1/completions: raw prompts and fill-in-the-middle, and text_completion answers.
#include "api/completions.h"

#include <boost/json.hpp>

#include "api/json_read.h"

namespace wafer::api {

namespace json = boost::json;

namespace {

Result<std::string> read_prompt(const json::object& body) {
  const json::value* prompt = find_field(body, "prompt");
  if (prompt == nullptr) return std::string();
  if (prompt->is_string()) return std::string(prompt->get_string());
  if (prompt->is_array()) {
    const json::array& array = prompt->get_array();
    if (array.size() == 1 && array[0].is_string()) return std::string(array[0].get_string());
    if (!array.empty() && array[0].is_number()) {
      return field_error("prompt", "token-id prompts are not supported; send the text");
    }
    return field_error("prompt", "expected a string or an array of one string (got an array of "
                       "{})", array.size());
  }
  return type_error("prompt", "a string", *prompt);
}

json::object usage_json(const Usage& usage) {
  return json::object{
      {"prompt_tokens", usage.prompt_tokens},
      {"completion_tokens", usage.completion_tokens},
      {"total_tokens", usage.prompt_tokens + usage.completion_tokens},
      {"prompt_tokens_details", json::object{{"cached_tokens", usage.cached_tokens}}}};
}

}  // namespace

Result<CompletionRequest> parse_completion_request(std::string_view body_text) {
  WAFER_ASSIGN_OR_RETURN(json::object body, parse_json_object(body_text));
  CompletionRequest r;
  WAFER_ASSIGN_OR_RETURN(auto model, read_string(body, "model", ""));
  r.model = model.value_or("");
  WAFER_ASSIGN_OR_RETURN(r.prompt, read_prompt(body));
  WAFER_ASSIGN_OR_RETURN(r.suffix, read_string(body, "suffix", ""));
  WAFER_ASSIGN_OR_RETURN(auto max_tokens, read_int(body, "max_tokens", ""));
  if (max_tokens) {
    if (*max_tokens < 1) return field_error("max_tokens", "must be at least 1, got {}", *max_tokens);
    r.max_tokens = *max_tokens;
  }
  GenerationFields generation;
  WAFER_RETURN_IF_ERROR(read_generation_fields(body, &generation));
  r.sampling = std::move(generation.sampling);
  r.stop = std::move(generation.stop);
  r.stream = generation.stream;
  r.include_usage = generation.include_usage;
  r.cache_prompt = generation.cache_prompt;
  WAFER_ASSIGN_OR_RETURN(auto best_of, read_int(body, "best_of", ""));
  if (best_of && *best_of != 1) return field_error("best_of", "only 1 is supported");
  WAFER_ASSIGN_OR_RETURN(auto echo, read_bool(body, "echo", ""));
  if (echo.value_or(false)) return field_error("echo", "not supported by this server");
  if (find_field(body, "logprobs") != nullptr) {
    return field_error("logprobs", "not supported by this server");
  }
  return r;
}

Result<Prompt> build_completion_prompt(const Tokenizer& tokenizer,
                                       const CompletionRequest& request) {
  Prompt prompt;
  if (request.suffix) {
    WAFER_ASSIGN_OR_RETURN(prompt.tokens, render_fim(tokenizer, request.prompt, *request.suffix));
    for (TokenId id : prompt.tokens) prompt.text += tokenizer.token_to_bytes(id);
    return prompt;
  }
  prompt.text = request.prompt;
  prompt.tokens = tokenizer.encode(request.prompt, true, true);
  if (prompt.tokens.empty()) return field_error("prompt", "is empty");
  return prompt;
}

CompletionWriter::CompletionWriter(std::string id, std::string model_id, int64_t created,
                                   bool include_usage)
    : id_(std::move(id)), model_id_(std::move(model_id)), created_(created),
      include_usage_(include_usage) {}

namespace {

json::object completion_object(std::string_view id, std::string_view model, int64_t created,
                               std::string_view text, json::value finish_reason) {
  return json::object{{"id", id},
                      {"object", "text_completion"},
                      {"created", created},
                      {"model", model},
                      {"system_fingerprint", nullptr},
                      {"choices", json::array{json::object{{"index", 0},
                                                           {"text", text},
                                                           {"logprobs", nullptr},
                                                           {"finish_reason", finish_reason}}}}};
}

}  // namespace

std::vector<std::string> CompletionWriter::push(std::string_view text) {
  if (text.empty()) return {};
  text_ += text;
  return {json::serialize(completion_object(id_, model_id_, created_, text, nullptr))};
}

std::vector<std::string> CompletionWriter::finish(std::string_view engine_finish_reason,
                                                  const Usage& usage) {
  usage_ = usage;
  finish_reason_ = engine_finish_reason == "length" ? "length" : "stop";
  std::vector<std::string> out;
  out.push_back(json::serialize(
      completion_object(id_, model_id_, created_, "", json::value(finish_reason_))));
  if (include_usage_) {
    json::object last = completion_object(id_, model_id_, created_, "", nullptr);
    last["choices"] = json::array();
    last["usage"] = usage_json(usage);
    out.push_back(json::serialize(last));
  }
  return out;
}

std::string CompletionWriter::completion_json() const {
  json::object out =
      completion_object(id_, model_id_, created_, text_, json::value(finish_reason_));
  out["usage"] = usage_json(usage_);
  return json::serialize(out);
}

}  // namespace wafer::api
