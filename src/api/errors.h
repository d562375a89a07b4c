// The one place where wafer errors become HTTP statuses and OpenAI error bodies
// ({"error":{"message","type","param","code"}}), for HTTP answers and WebSocket error frames.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace wafer::api {

struct ApiError {
  int http_status = 500;
  std::string type;     // invalid_request_error, not_found_error, rate_limit_error, server_error
  std::string code;     // context_length_exceeded, previous_response_not_found, ...; may be empty
  std::string param;    // the request field at fault ("input[3].type"); may be empty
  std::string message;
};

// Mapping (by ErrorCode; the message is kept):
//   kInvalidArgument  -> 400 invalid_request_error (code null)
//   kUnsupported      -> 400 invalid_request_error, unsupported_value
//   kOutOfRange       -> 400 invalid_request_error, context_length_exceeded (too long)
//   kNotFound         -> 404 invalid_request_error, not_found; but 400
//                        previous_response_not_found for make_previous_response_not_found()
//   kResourceExhausted-> 429 rate_limit_error, rate_limit_exceeded (busy: add retry-after)
//   kCancelled        -> 499 invalid_request_error, cancelled (client went away)
//   kIo, kCorrupt, kInternal -> 500 server_error, server_error
// `param` is taken from a leading "field.path: " in the message (how api/ parsers name
// fields), e.g. "input[3].type: unknown item type 'foo'" -> param "input[3].type".
ApiError to_api_error(const Error& error);

// Errors that need a specific OpenAI code; build them here so to_api_error recognises them.
Error make_context_length_error(std::string_view field, int64_t prompt_tokens,
                                int64_t max_output_tokens, int64_t context_length);
Error make_previous_response_not_found(std::string_view response_id);

// {"error":{"message":...,"type":...,"param":...|null,"code":...|null}}
std::string error_body_json(const ApiError& error);
// WebSocket error frame: {"type":"error","status":N,"error":{...},"stream_id"?:...}.
// Empty stream_id: no stream_id field.
std::string ws_error_frame_json(const ApiError& error, std::string_view stream_id);

}  // namespace wafer::api
