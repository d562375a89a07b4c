// Reply builders: status, content type, body; the session sets version and keep-alive.
#include "server/replies.h"

#include <fmt/core.h>

namespace wafer::server {

StringResponse text_reply(int status, std::string body, std::string_view content_type) {
  StringResponse res{static_cast<http::status>(status), 11};
  res.set(http::field::server, "wafer");
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

StringResponse json_reply(int status, std::string body) {
  return text_reply(status, std::move(body), "application/json");
}

StringResponse error_reply(const api::ApiError& error) {
  StringResponse res = json_reply(error.http_status, api::error_body_json(error));
  if (error.http_status == 429) res.set(http::field::retry_after, fmt::format("{}", kRetryAfterS));
  return res;
}

StringResponse error_reply(const Error& error) { return error_reply(api::to_api_error(error)); }

StringResponse error_reply(int status, std::string_view type, std::string_view code, std::string_view message) {
  api::ApiError error;
  error.http_status = status;
  error.type = std::string(type);
  error.code = std::string(code);
  error.message = std::string(message);
  return error_reply(error);
}

}  // namespace wafer::server
