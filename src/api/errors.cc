// wafer Error -> HTTP status + OpenAI error body: the only place this mapping lives.
#include "api/errors.h"

#include <boost/json.hpp>

#include "api/json_read.h"

namespace wafer::api {

namespace json = boost::json;

namespace {

constexpr std::string_view kPreviousResponseParam = "previous_response_id";

// "input[3].type: unknown ..." -> "input[3].type"; "" when the message names no field.
std::string param_of(std::string_view message) {
  size_t colon = message.find(": ");
  if (colon == std::string_view::npos || colon == 0) return "";
  std::string_view head = message.substr(0, colon);
  for (char c : head) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '[' || c == ']';
    if (!ok) return "";
  }
  if (head == "body") return "";
  return std::string(head);
}

ApiError base_mapping(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return {400, "invalid_request_error", "", "", ""};
    case ErrorCode::kUnsupported:
      return {400, "invalid_request_error", "unsupported_value", "", ""};
    case ErrorCode::kNotFound: return {404, "invalid_request_error", "not_found", "", ""};
    case ErrorCode::kOutOfRange:
      return {400, "invalid_request_error", "context_length_exceeded", "", ""};
    case ErrorCode::kResourceExhausted:
      return {429, "rate_limit_error", "rate_limit_exceeded", "", ""};
    case ErrorCode::kCancelled: return {499, "invalid_request_error", "cancelled", "", ""};
    case ErrorCode::kCorrupt:
    case ErrorCode::kIo:
    case ErrorCode::kInternal: break;
  }
  return {500, "server_error", "server_error", "", ""};
}

json::value string_or_null(const std::string& s) {
  if (s.empty()) return nullptr;
  return json::value(s);
}

json::object error_object(const ApiError& error) {
  return json::object{{"message", error.message},
                      {"type", error.type},
                      {"param", string_or_null(error.param)},
                      {"code", string_or_null(error.code)}};
}

}  // namespace

ApiError to_api_error(const Error& error) {
  ApiError api = base_mapping(error.code);
  api.message = error.message;
  api.param = param_of(error.message);
  if (error.code == ErrorCode::kNotFound && api.param == kPreviousResponseParam) {
    api.http_status = 400;
    api.code = "previous_response_not_found";
  }
  return api;
}

Error make_context_length_error(std::string_view field, int64_t prompt_tokens,
                                int64_t max_output_tokens, int64_t context_length) {
  if (max_output_tokens > 0) {
    return make_error(ErrorCode::kOutOfRange,
                      "{}: the input is {} tokens and up to {} output tokens were asked for, but "
                      "the model's context window is {} tokens; shorten the input or start a "
                      "new conversation",
                      field, prompt_tokens, max_output_tokens, context_length);
  }
  return make_error(ErrorCode::kOutOfRange,
                    "{}: the input is {} tokens but the model's context window is {} tokens; "
                    "shorten the input or start a new conversation",
                    field, prompt_tokens, context_length);
}

Error make_previous_response_not_found(std::string_view response_id) {
  return make_error(ErrorCode::kNotFound, "{}: Previous response with id '{}' not found.",
                    kPreviousResponseParam, response_id);
}

std::string error_body_json(const ApiError& error) {
  return json::serialize(json::object{{"error", error_object(error)}});
}

std::string ws_error_frame_json(const ApiError& error, std::string_view stream_id) {
  json::object frame{{"type", "error"}, {"status", error.http_status},
                     {"error", error_object(error)}};
  if (!stream_id.empty()) frame["stream_id"] = stream_id;
  return json::serialize(frame);
}

}  // namespace wafer::api
