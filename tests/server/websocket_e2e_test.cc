// End to end over the Responses WebSocket: warm-up then continuation reusing the KV slot
// (cached_tokens and the engine's prefill counter prove only new tokens were computed),
// unknown previous ids, stream_id lanes, steering declined, bad frames.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "server_fixture.h"

namespace wafer::server::testing {
namespace {

namespace json = boost::json;

class WebsocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = start_server(shared_engine(), test_config(test_dir()));
    ASSERT_NE(server_, nullptr);
  }
  std::unique_ptr<Server> server_;
};

json::object create(json::value input, json::object extra = {}) {
  json::object message{{"type", "response.create"}, {"model", "m"}, {"input", std::move(input)}, {"stream", true}};
  for (auto& [key, value] : extra) message[key] = value;
  return message;
}

json::object user(std::string_view text) {
  return json::object{{"type", "message"}, {"role", "user"}, {"content", text}};
}

const json::object& final_response(const std::vector<json::object>& frames) {
  return frames.back().at("response").as_object();
}

TEST_F(WebsocketTest, WarmUpThenContinuationPrefillsOnlyNewTokens) {
  WsClient ws(server_->port());
  json::array warm_input{json::object{{"type", "message"}, {"role", "developer"}, {"content", "You are terse."}},
                         user("First question?")};
  ws.send(create(warm_input, {{"generate", false}}));
  const std::vector<json::object> warm = ws.read_until_terminal();
  ASSERT_EQ(json_string(warm.back(), "type"), "response.completed") << json::serialize(warm.back());
  EXPECT_EQ(json_string(warm[0], "type"), "response.created");
  EXPECT_TRUE(final_response(warm).at("output").as_array().empty());
  const std::string warm_id = json_string(final_response(warm), "id");
  const int64_t warm_tokens = final_response(warm).at("usage").at("input_tokens").as_int64();
  EXPECT_GT(warm_tokens, 0);

  const int64_t prefill_before = shared_engine().stats().prefill_tokens;
  ws.send(create(json::array{user("Second question?")}, {{"previous_response_id", warm_id}, {"max_output_tokens", 4}}));
  const std::vector<json::object> turn = ws.read_until_terminal();
  const std::string type = json_string(turn.back(), "type");
  ASSERT_TRUE(type == "response.completed" || type == "response.incomplete") << json::serialize(turn.back());
  const json::object& usage = final_response(turn).at("usage").as_object();
  const int64_t input_tokens = usage.at("input_tokens").as_int64();
  const int64_t cached = usage.at("input_tokens_details").at("cached_tokens").as_int64();
  EXPECT_EQ(cached, warm_tokens);  // the whole warm-up context was reused
  EXPECT_GT(input_tokens, warm_tokens);
  EXPECT_EQ(shared_engine().stats().prefill_tokens - prefill_before, input_tokens - cached);
  for (size_t i = 0; i < turn.size(); ++i) EXPECT_EQ(turn[i].at("sequence_number").as_int64(), static_cast<int64_t>(i));

  // A third turn continues from the generated answer: at least the second prompt is reused.
  // The slot holds the second prompt and the tokens generated for it, so the re-rendered
  // answer is found in the cache too: all but the last sampled token (never fed back), less
  // one where the random model's tokens re-encode differently at the end of the text.
  const std::string turn_id = json_string(final_response(turn), "id");
  const int64_t output_tokens = usage.at("output_tokens").as_int64();
  const int64_t prefill_before_third = shared_engine().stats().prefill_tokens;
  ws.send(create(json::array{user("Third?")}, {{"previous_response_id", turn_id}, {"max_output_tokens", 2}}));
  const std::vector<json::object> third = ws.read_until_terminal();
  ASSERT_NE(json_string(third.back(), "type"), "error") << json::serialize(third.back());
  const json::object& third_usage = final_response(third).at("usage").as_object();
  const int64_t third_cached = third_usage.at("input_tokens_details").at("cached_tokens").as_int64();
  EXPECT_GE(third_cached, input_tokens);
  EXPECT_GE(third_cached, input_tokens + output_tokens - 2) << "output " << output_tokens;
  EXPECT_EQ(shared_engine().stats().prefill_tokens - prefill_before_third,
            third_usage.at("input_tokens").as_int64() - third_cached);
  ws.close();
}

// A connection's KV cache is the engine's only while the connection lives.
TEST_F(WebsocketTest, ClosingTheSocketFreesItsKvCache) {
  auto kv_bytes = [] { return shared_engine().stats().kv_bytes; };
  auto wait_for = [&](auto done) {
    for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return done();
  };
  const int64_t before = kv_bytes();
  {
    WsClient ws(server_->port());
    ws.send(create(json::array{user("Hold this context for a while, please.")}, {{"generate", false}}));
    const std::vector<json::object> warm = ws.read_until_terminal();
    ASSERT_EQ(json_string(warm.back(), "type"), "response.completed") << json::serialize(warm.back());
    EXPECT_GT(kv_bytes(), before);
    ws.close();
  }
  EXPECT_TRUE(wait_for([&] { return kv_bytes() <= before; })) << "kv bytes " << kv_bytes() << " before " << before;
}

TEST_F(WebsocketTest, UnknownPreviousResponseIdIsAnErrorFrame) {
  WsClient ws(server_->port(), {{"openai-beta", "responses_websockets=2026-02-06"}}, /*deflate=*/true);
  ws.send(create(json::array{user("Hi")}, {{"previous_response_id", "resp_does_not_exist"}}));
  const json::object error = ws.read();
  EXPECT_EQ(json_string(error, "type"), "error");
  EXPECT_EQ(error.at("status").as_int64(), 400);
  EXPECT_EQ(json_string(error.at("error"), "code"), "previous_response_not_found");
  // The connection stays usable.
  ws.send(create(json::array{user("Hi")}, {{"max_output_tokens", 2}}));
  const std::vector<json::object> frames = ws.read_until_terminal();
  EXPECT_NE(json_string(frames.back(), "type"), "error");
}

TEST_F(WebsocketTest, StreamIdIsEchoedOnEveryEvent) {
  WsClient ws(server_->port());
  ws.send(create(json::array{user("Lane A")}, {{"stream_id", "lane-a"}, {"max_output_tokens", 3}}));
  ws.send(create(json::array{user("Lane B")}, {{"stream_id", "lane-b"}, {"max_output_tokens", 3}}));
  int terminals = 0;
  std::map<std::string, int64_t> next_sequence;
  while (terminals < 2) {
    const json::object frame = ws.read();
    const std::string lane = json_string(frame, "stream_id");
    ASSERT_TRUE(lane == "lane-a" || lane == "lane-b") << json::serialize(frame);
    EXPECT_EQ(frame.at("sequence_number").as_int64(), next_sequence[lane]++);
    const std::string type = json_string(frame, "type");
    ASSERT_NE(type, "error") << json::serialize(frame);
    terminals += type == "response.completed" || type == "response.incomplete";
  }
  // An error for a lane carries its stream_id too.
  ws.send(create(json::array{user("x")}, {{"stream_id", "lane-c"}, {"previous_response_id", "resp_nope"}}));
  const json::object error = ws.read();
  EXPECT_EQ(json_string(error, "type"), "error");
  EXPECT_EQ(json_string(error, "stream_id"), "lane-c");
}

TEST_F(WebsocketTest, SteeringIsDeclined) {
  WsClient ws(server_->port());
  ws.send(json::object{{"type", "response.steer"},
                       {"previous_response_id", "resp_x"},
                       {"input", json::array{user("faster")}}});
  const json::object frame = ws.read();
  EXPECT_EQ(json_string(frame, "type"), "response.steer.failed");
  EXPECT_EQ(json_string(frame.at("error"), "code"), "steering_not_supported");
  EXPECT_EQ(frame.at("steer").at("input"), (json::array{user("faster")}));
}

TEST_F(WebsocketTest, BadFramesGetErrorsAndTheSocketSurvives) {
  WsClient ws(server_->port());
  ws.send_text("{not json");
  EXPECT_EQ(json_string(ws.read(), "type"), "error");
  ws.send(json::object{{"type", "response.create"}, {"input", 5}, {"stream_id", "s1"}});
  const json::object error = ws.read();
  EXPECT_EQ(json_string(error, "type"), "error");
  EXPECT_EQ(json_string(error, "stream_id"), "s1");
  EXPECT_EQ(json_string(error.at("error"), "param"), "input");
  ws.send(json::object{{"type", "no.such.type"}});
  EXPECT_EQ(json_string(ws.read(), "type"), "error");
  ws.send(create(json::array{user("still here")}, {{"max_output_tokens", 1}}));
  EXPECT_NE(json_string(ws.read_until_terminal().back(), "type"), "error");
}

TEST_F(WebsocketTest, StoredResponseFromHttpCanBeContinuedOnASocket) {
  HttpClient http(server_->port());
  HttpReply created = http.post("/v1/responses", R"({"model":"m","input":"Over HTTP","max_output_tokens":2})");
  ASSERT_EQ(created.status, 200);
  WsClient ws(server_->port());
  ws.send(create(json::array{user("Over WS")},
                 {{"previous_response_id", json_string(created.json(), "id")}, {"max_output_tokens", 2}}));
  const std::vector<json::object> frames = ws.read_until_terminal();
  EXPECT_NE(json_string(frames.back(), "type"), "error") << json::serialize(frames.back());
}

}  // namespace
}  // namespace wafer::server::testing
