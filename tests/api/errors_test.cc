// Error -> HTTP status / OpenAI error body mapping.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/errors.h"

namespace wafer::api {
namespace {

namespace json = boost::json;

TEST(ErrorsTest, InvalidArgumentNamesTheParam) {
  ApiError e = to_api_error(Error{ErrorCode::kInvalidArgument, "input[3].type: unknown item"});
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.type, "invalid_request_error");
  EXPECT_EQ(e.param, "input[3].type");
  EXPECT_EQ(e.code, "");
  EXPECT_EQ(e.message, "input[3].type: unknown item");
}

TEST(ErrorsTest, MessageWithoutFieldHasNoParam) {
  EXPECT_EQ(to_api_error(Error{ErrorCode::kInvalidArgument, "the prompt is empty"}).param, "");
  EXPECT_EQ(to_api_error(Error{ErrorCode::kInvalidArgument, "body: invalid JSON"}).param, "");
  EXPECT_EQ(to_api_error(Error{ErrorCode::kInvalidArgument, "a b: c"}).param, "");
}

TEST(ErrorsTest, StatusPerCode) {
  EXPECT_EQ(to_api_error(Error{ErrorCode::kNotFound, "x"}).http_status, 404);
  EXPECT_EQ(to_api_error(Error{ErrorCode::kUnsupported, "x"}).http_status, 400);
  ApiError busy = to_api_error(Error{ErrorCode::kResourceExhausted, "busy"});
  EXPECT_EQ(busy.http_status, 429);
  EXPECT_EQ(busy.code, "rate_limit_exceeded");
  EXPECT_EQ(to_api_error(Error{ErrorCode::kInternal, "x"}).http_status, 500);
  EXPECT_EQ(to_api_error(Error{ErrorCode::kIo, "x"}).type, "server_error");
}

TEST(ErrorsTest, ContextLength) {
  ApiError e = to_api_error(make_context_length_error("input", 70000, 0, 65536));
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.code, "context_length_exceeded");
  EXPECT_EQ(e.param, "input");
  EXPECT_NE(e.message.find("65536"), std::string::npos);
  // The engine's own too-long-prompt error maps the same way.
  EXPECT_EQ(to_api_error(Error{ErrorCode::kOutOfRange, "the prompt has 9 tokens"}).code,
            "context_length_exceeded");
}

TEST(ErrorsTest, PreviousResponseNotFound) {
  ApiError e = to_api_error(make_previous_response_not_found("resp_x"));
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.code, "previous_response_not_found");
  EXPECT_EQ(e.param, "previous_response_id");
  EXPECT_NE(e.message.find("'resp_x'"), std::string::npos);
}

TEST(ErrorsTest, BodyJson) {
  ApiError e{400, "invalid_request_error", "", "model", "bad"};
  json::value v = json::parse(error_body_json(e));
  const json::object& err = v.at("error").as_object();
  EXPECT_EQ(err.at("message").as_string(), "bad");
  EXPECT_EQ(err.at("type").as_string(), "invalid_request_error");
  EXPECT_EQ(err.at("param").as_string(), "model");
  EXPECT_TRUE(err.at("code").is_null());
}

TEST(ErrorsTest, WebSocketFrame) {
  ApiError e = to_api_error(make_previous_response_not_found("resp_x"));
  json::value v = json::parse(ws_error_frame_json(e, "lane-1"));
  EXPECT_EQ(v.at("type").as_string(), "error");
  EXPECT_EQ(v.at("status").as_int64(), 400);
  EXPECT_EQ(v.at("error").at("code").as_string(), "previous_response_not_found");
  EXPECT_EQ(v.at("stream_id").as_string(), "lane-1");
  EXPECT_FALSE(json::parse(ws_error_frame_json(e, "")).as_object().contains("stream_id"));
}

}  // namespace
}  // namespace wafer::api
