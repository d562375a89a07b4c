// Complete HTTP answers the server builds in several places: JSON bodies and OpenAI error
// bodies (429 gets retry-after).
#pragma once

#include <string>
#include <string_view>

#include "api/errors.h"
#include "server/exchange.h"

namespace wafer::server {

StringResponse json_reply(int status, std::string body);
StringResponse text_reply(int status, std::string body, std::string_view content_type);
StringResponse error_reply(const api::ApiError& error);
StringResponse error_reply(const Error& error);  // mapped by api::to_api_error
// An OpenAI error body for problems the server finds itself (auth, size, routing).
StringResponse error_reply(int status, std::string_view type, std::string_view code, std::string_view message);

// Seconds a client should wait after a 429.
inline constexpr int kRetryAfterS = 1;

}  // namespace wafer::server
