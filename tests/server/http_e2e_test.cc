// End to end over HTTP: a real Server on loopback over the golden tiny model, driven by a
// Beast client. Health and models, Responses (JSON and SSE), Chat and Completions streams,
// errors (400 naming the field or the body limit, 401, 404, 429), stored responses, disconnects.
#include <gtest/gtest.h>

#include <thread>

#include "server_fixture.h"

namespace wafer::server::testing {
namespace {

namespace json = boost::json;
using boost::beast::http::verb;

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_dir();
    server_ = start_server(shared_engine(), test_config(dir_));
    ASSERT_NE(server_, nullptr);
  }
  uint16_t port() const { return server_->port(); }

  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
};

TEST_F(HttpTest, HealthAndModels) {
  HttpClient client(port());
  HttpReply health = client.get("/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(json_string(health.json(), "status"), "ok");

  HttpReply models = client.get("/v1/models");  // same keep-alive connection
  ASSERT_EQ(models.status, 200);
  const json::value list = models.json();
  EXPECT_EQ(json_string(list, "object"), "list");
  ASSERT_EQ(list.at("data").as_array().size(), 1u);
  EXPECT_EQ(json_string(list.at("data").at(0), "id"), shared_engine().model_info().id);

  HttpReply catalog = client.get("/v1/codex/models?client_version=0.169.0");
  ASSERT_EQ(catalog.status, 200);
  EXPECT_EQ(json_string(catalog.json().at("models").at(0), "slug"), shared_engine().model_info().id);

  EXPECT_EQ(client.get("/v1/nothing-here").status, 404);
}

TEST_F(HttpTest, ResponsesNonStreaming) {
  HttpClient client(port());
  HttpReply reply = client.post("/v1/responses", R"({"model":"anything","input":"Say hi","max_output_tokens":5,
      "client_metadata":{"x":"y"},"store":false,"include":["reasoning.encrypted_content"]})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json::value r = reply.json();
  EXPECT_EQ(json_string(r, "object"), "response");
  EXPECT_TRUE(json_string(r, "id").starts_with("resp_"));
  EXPECT_EQ(json_string(r, "model"), shared_engine().model_info().id);
  const std::string status = json_string(r, "status");
  EXPECT_TRUE(status == "completed" || status == "incomplete") << status;
  const json::object& usage = r.at("usage").as_object();
  EXPECT_GT(usage.at("input_tokens").as_int64(), 0);
  EXPECT_LE(usage.at("output_tokens").as_int64(), 5);
  EXPECT_EQ(usage.at("total_tokens").as_int64(),
            usage.at("input_tokens").as_int64() + usage.at("output_tokens").as_int64());
}

// Two conversations that resend their whole histories, interleaved: with a prompt_cache_key
// each keeps its own prefix warm, so every resend computes only what is new.
TEST_F(HttpTest, PromptCacheKeyKeepsInterleavedConversationsWarm) {
  HttpClient client(port());
  auto send = [&](std::string_view key, std::string_view history) {
    const std::string body = R"({"model":"m","store":false,"max_output_tokens":1,"prompt_cache_key":")" +
                             std::string(key) + R"(","input":[{"role":"user","content":")" + std::string(history) + R"("}]})";
    HttpReply reply = client.post("/v1/responses", body);
    EXPECT_EQ(reply.status, 200) << reply.body;
    const json::value r = reply.json();
    const json::object& usage = r.at("usage").as_object();
    return std::make_pair(usage.at("input_tokens").as_int64(),
                          usage.at("input_tokens_details").at("cached_tokens").as_int64());
  };
  const std::string a = "Conversation A talks about parsing JSON in C++ with Boost and error handling.";
  const std::string b = "Conversation B is about something else entirely: gardening, roses and soil.";
  const auto [a1_input, a1_cached] = send("session-a", a);
  const auto [b1_input, b1_cached] = send("session-b", b);
  const auto [a2_input, a2_cached] = send("session-a", a + " And then more about A.");
  const auto [b2_input, b2_cached] = send("session-b", b + " And then more about B.");
  EXPECT_GT(a2_input, a1_input);
  // The first user turn's text is shared; all of it up to where the texts differ is reused.
  EXPECT_GE(a2_cached, a1_input - 8) << "a1 " << a1_input << " a2 " << a2_input;
  EXPECT_GE(b2_cached, b1_input - 8) << "b1 " << b1_input << " b2 " << b2_input;
  (void)a1_cached;
  (void)b1_cached;
}

// The shared prefix cache over HTTP: a new conversation (its own prompt_cache_key, so a
// fresh slot) that starts with a system prompt another one sent reuses its whole blocks;
// cache_prompt:false computes everything, its tokens included.
TEST_F(HttpTest, ConversationsShareALongSystemPrompt) {
  HttpClient client(port());
  std::string system;
  for (int i = 0; i < 60; ++i) system += fmt::format("Rule {}: keep every patch small and tested. ", i);
  auto send = [&](std::string_view key, std::string_view user, bool cache_prompt) {
    json::object body{{"model", "m"}, {"store", false}, {"max_output_tokens", 2}, {"prompt_cache_key", key},
                      {"instructions", system}, {"input", user}};
    if (!cache_prompt) body["cache_prompt"] = false;
    HttpReply reply = client.post("/v1/responses", json::serialize(body));
    EXPECT_EQ(reply.status, 200) << reply.body;
    const json::value r = reply.json();
    const json::object& usage = r.at("usage").as_object();
    return std::make_pair(usage.at("input_tokens").as_int64(),
                          usage.at("input_tokens_details").at("cached_tokens").as_int64());
  };
  auto memo_hits = [&] {
    const std::string m = client.get("/metrics").body;
    const size_t at = m.find("\nwafer_tokenizer_memo_hits_total ");
    EXPECT_NE(at, std::string::npos) << m;
    return at == std::string::npos ? -1L : std::stol(m.substr(at + 33));
  };
  const auto [first_input, first_cached] = send("share-1", "What does rule 3 say?", true);
  EXPECT_EQ(first_cached, 0);
  ASSERT_GT(first_input, 256);
  const long hits_before_second = memo_hits();
  const auto [second_input, second_cached] = send("share-2", "And rule 41?", true);
  // Whole 64-token blocks of the common system prompt, all but the last partial one.
  EXPECT_GE(second_cached, (first_input - 80) / 64 * 64) << first_input;
  EXPECT_LT(second_cached, second_input);
  const long hits_before_third = memo_hits();
  EXPECT_GT(hits_before_third, hits_before_second);  // the system prompt, tokenised once
  // cache_prompt:false reuses nothing: no KV, and every text is tokenised again.
  const auto [third_input, third_cached] = send("share-3", "And rule 41?", false);
  EXPECT_EQ(third_input, second_input);
  EXPECT_EQ(third_cached, 0);
  EXPECT_EQ(memo_hits(), hits_before_third);
  const std::string metrics = client.get("/metrics").body;
  EXPECT_NE(metrics.find("wafer_prefix_cache_blocks "), std::string::npos);
  EXPECT_EQ(metrics.find("wafer_prefix_cache_blocks 0\n"), std::string::npos);
}

// Concurrent clients are decoded together and each gets what it gets alone.
TEST_F(HttpTest, ConcurrentRequestsEqualSequentialOnes) {
  auto body = [](int i) {
    json::object b{{"model", "m"},
                   {"max_tokens", 16},
                   {"temperature", 0},
                   {"cache_prompt", false},
                   {"messages", json::array{json::object{{"role", "user"},
                                                         {"content", fmt::format("Request {}: write a loop in C.", i)}}}}};
    return json::serialize(b);
  };
  auto content = [](const HttpReply& r) {
    return std::string(r.json().at("choices").at(0).at("message").at("content").as_string());
  };
  std::vector<std::string> alone;
  {
    HttpClient client(port());
    for (int i = 0; i < 4; ++i) {
      HttpReply r = client.post("/v1/chat/completions", body(i));
      ASSERT_EQ(r.status, 200) << r.body;
      alone.push_back(content(r));
    }
  }
  std::vector<std::string> together(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      HttpClient client(port());
      HttpReply r = client.post("/v1/chat/completions", body(i));
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status == 200) together[i] = content(r);
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(together, alone);
}

TEST_F(HttpTest, ResponsesSseEventOrder) {
  HttpClient client(port());
  HttpReply reply = client.post("/v1/responses", R"({"model":"m","input":"Count","max_output_tokens":6,"stream":true})",
                                {{"accept", "text/event-stream"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.headers["content-type"], "text/event-stream");
  const std::vector<SseEvent> events = parse_sse(reply.body);
  ASSERT_GE(events.size(), 3u);
  for (size_t i = 0; i < events.size(); ++i) {
    const json::value data = events[i].json();
    ASSERT_TRUE(data.is_object()) << events[i].data;
    EXPECT_EQ(events[i].event, json_string(data, "type"));
    EXPECT_EQ(data.at("sequence_number").as_int64(), static_cast<int64_t>(i));
  }
  EXPECT_EQ(events[0].event, "response.created");
  EXPECT_EQ(events[1].event, "response.in_progress");
  const std::string last = events.back().event;
  EXPECT_TRUE(last == "response.completed" || last == "response.incomplete") << last;
  const json::value final_response = events.back().json().at("response");
  EXPECT_GT(final_response.at("usage").at("input_tokens").as_int64(), 0);
  // Every output item is announced and finished before the terminal event.
  size_t added = 0, done = 0;
  for (const SseEvent& e : events) {
    added += e.event == "response.output_item.added";
    done += e.event == "response.output_item.done";
  }
  EXPECT_EQ(added, done);
  EXPECT_EQ(done, final_response.at("output").as_array().size());
  // The connection is reusable after a streamed answer.
  EXPECT_EQ(client.get("/health").status, 200);
}

TEST_F(HttpTest, ChatStreamWithUsage) {
  HttpClient client(port());
  HttpReply reply = client.post("/v1/chat/completions", R"({"model":"m","messages":[{"role":"system","content":"Be brief."},
      {"role":"user","content":"Hello"}],"max_tokens":4,"stream":true,"stream_options":{"include_usage":true}})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const std::vector<SseEvent> events = parse_sse(reply.body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back().data, "[DONE]");
  const json::value first = events.front().json();
  EXPECT_EQ(json_string(first, "object"), "chat.completion.chunk");
  EXPECT_EQ(json_string(first.at("choices").at(0).at("delta"), "role"), "assistant");
  const json::value usage_chunk = events[events.size() - 2].json();
  EXPECT_TRUE(usage_chunk.at("choices").as_array().empty());
  EXPECT_GT(usage_chunk.at("usage").at("prompt_tokens").as_int64(), 0);
  EXPECT_LE(usage_chunk.at("usage").at("completion_tokens").as_int64(), 4);
}

TEST_F(HttpTest, ChatNonStreaming) {
  HttpClient client(port());
  HttpReply reply = client.post("/v1/chat/completions", R"({"model":"m","messages":[{"role":"user","content":"Hi"}],"max_tokens":3})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(json_string(reply.json(), "object"), "chat.completion");
  EXPECT_GT(reply.json().at("usage").at("prompt_tokens").as_int64(), 0);
}

TEST_F(HttpTest, CompletionsWithSuffix) {
  HttpClient client(port());
  HttpReply reply = client.post("/v1/completions", R"J({"model":"m","prompt":"def add(a, b):\n    ","suffix":"\n\nprint(add(1, 2))","max_tokens":4})J");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json::value r = reply.json();
  EXPECT_EQ(json_string(r, "object"), "text_completion");
  EXPECT_GT(r.at("usage").at("prompt_tokens").as_int64(), 0);

  HttpReply stream = client.post("/v1/completions", R"({"model":"m","prompt":"x = ","suffix":"\n","max_tokens":3,"stream":true})");
  ASSERT_EQ(stream.status, 200);
  const std::vector<SseEvent> events = parse_sse(stream.body);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back().data, "[DONE]");
  EXPECT_EQ(json_string(events.front().json(), "object"), "text_completion");
}

TEST_F(HttpTest, MalformedBodiesNameTheFieldAndTheServerKeepsServing) {
  HttpClient client(port());
  struct Case {
    const char* target;
    const char* body;
    const char* param;  // expected error.param; "" for none
  };
  const Case cases[] = {
      {"/v1/responses", R"({"model":"m","input":5})", "input"},
      {"/v1/responses", R"({"model":"m","input":"hi","max_output_tokens":"lots"})", "max_output_tokens"},
      {"/v1/responses", R"({"model":"m","input":[{"type":"message","role":"user","content":7}]})", ""},
      {"/v1/responses", R"({"model":"m","input":"hi","temperature":9})", "temperature"},
      {"/v1/responses", "{not json", ""},
      {"/v1/responses", "[1,2,3]", ""},
      {"/v1/responses", "", ""},
      {"/v1/chat/completions", R"({"model":"m","messages":"hello"})", "messages"},
      {"/v1/completions", R"({"model":"m","prompt":"x","max_tokens":"many"})", "max_tokens"},
  };
  for (const Case& c : cases) {
    HttpReply reply = client.post(c.target, c.body);
    EXPECT_EQ(reply.status, 400) << c.body << " -> " << reply.body;
    const json::value error = reply.json().at("error");
    EXPECT_EQ(json_string(error, "type"), "invalid_request_error") << reply.body;
    EXPECT_FALSE(json_string(error, "message").empty());
    if (c.param[0] != '\0') {
      EXPECT_EQ(json_string(error, "param"), c.param) << reply.body;
      EXPECT_NE(json_string(error, "message").find(c.param), std::string::npos) << reply.body;
    }
  }
  EXPECT_EQ(client.get("/health").status, 200);  // same connection, still served

  HttpClient raw(port());
  const std::string answer = raw.raw_exchange("THIS IS NOT HTTP\r\n\r\n");
  EXPECT_NE(answer.find("400"), std::string::npos) << answer;
  HttpClient after(port());
  EXPECT_EQ(after.get("/health").status, 200);
}

// curl sends "Expect: 100-continue" before bodies over 1 KiB and waits for the go-ahead.
TEST_F(HttpTest, ExpectContinueGetsAGoAhead) {
  const std::string body = R"({"model":"m","input":")" + std::string(2000, 'x') + R"(","max_output_tokens":1})";
  HttpClient raw(port());
  const std::string answer = raw.raw_exchange(
      "POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
      "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 100 Continue\r\n")) << answer.substr(0, 200);
  EXPECT_NE(answer.find("HTTP/1.1 200 OK"), std::string::npos) << answer.substr(0, 400);
}

TEST_F(HttpTest, WrongMethodIs405) {
  HttpClient client(port());
  EXPECT_EQ(client.get("/v1/responses").status, 405);
  EXPECT_EQ(client.request(verb::put, "/v1/chat/completions", "{}").status, 405);
}

TEST(HttpLimits, OversizeBodyIs400) {
  ServerConfig config = test_config(test_dir());
  config.body_limit_bytes = 4096;
  auto server = start_server(shared_engine(), config);
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  const std::string body = R"({"model":"m","input":")" + std::string(8192, 'a') + R"("})";
  HttpReply reply = client.post("/v1/responses", body);
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(json_string(reply.json().at("error"), "code"), "request_too_large");
  EXPECT_EQ(json_string(reply.json().at("error"), "type"), "invalid_request_error");
  HttpClient next(server->port());
  EXPECT_EQ(next.get("/health").status, 200);
}

TEST(HttpAuth, ApiKeyIsCheckedExceptOnHealth) {
  ServerConfig config = test_config(test_dir());
  config.api_key = "sekrit-key";
  auto server = start_server(shared_engine(), config);
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  EXPECT_EQ(client.get("/health").status, 200);
  HttpReply missing = client.get("/v1/models");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(json_string(missing.json().at("error"), "code"), "invalid_api_key");
  HttpClient c2(server->port());
  EXPECT_EQ(c2.get("/v1/models", {{"authorization", "Bearer sekrit-kez"}}).status, 401);
  HttpClient c3(server->port());
  EXPECT_EQ(c3.get("/v1/models", {{"authorization", "Bearer sekrit-key-and-more"}}).status, 401);
  HttpClient c4(server->port());
  EXPECT_EQ(c4.get("/v1/models", {{"authorization", "Bearer sekrit-key"}}).status, 200);
  EXPECT_EQ(ws_upgrade_status(server->port(), {}), 401);
  EXPECT_EQ(ws_upgrade_status(server->port(), {{"authorization", "Bearer sekrit-key"}}), 101);
}

TEST_F(HttpTest, StoredResponsesGetInputItemsDelete) {
  HttpClient client(port());
  HttpReply created = client.post("/v1/responses", R"({"model":"m","input":"Remember me","max_output_tokens":3})");
  ASSERT_EQ(created.status, 200);
  const std::string id = json_string(created.json(), "id");
  HttpReply got = client.get("/v1/responses/" + id);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(json_string(got.json(), "id"), id);
  EXPECT_EQ(got.json().at("output"), created.json().at("output"));
  HttpReply items = client.get("/v1/responses/" + id + "/input_items");
  ASSERT_EQ(items.status, 200) << items.body;
  const json::value items_json = items.json();
  const json::array& data = items_json.at("data").as_array();
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(json_string(data[0], "role"), "user");
  EXPECT_NE(json::serialize(data[0]).find("Remember me"), std::string::npos);
  EXPECT_EQ(client.request(verb::delete_, "/v1/responses/" + id).status, 200);
  EXPECT_EQ(client.get("/v1/responses/" + id).status, 404);
  EXPECT_EQ(client.request(verb::delete_, "/v1/responses/" + id).status, 404);

  HttpReply unstored = client.post("/v1/responses", R"({"model":"m","input":"x","max_output_tokens":1,"store":false})");
  ASSERT_EQ(unstored.status, 200);
  EXPECT_EQ(client.get("/v1/responses/" + json_string(unstored.json(), "id")).status, 404);
}

TEST_F(HttpTest, PreviousResponseIdOverHttp) {
  HttpClient client(port());
  HttpReply first = client.post("/v1/responses", R"({"model":"m","input":"One","max_output_tokens":3})");
  ASSERT_EQ(first.status, 200);
  const int64_t first_input = first.json().at("usage").at("input_tokens").as_int64();
  const std::string id = json_string(first.json(), "id");
  HttpReply second = client.post(
      "/v1/responses", R"({"model":"m","input":"Two","max_output_tokens":3,"previous_response_id":")" + id + R"("})");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(json_string(second.json(), "previous_response_id"), id);
  // The second context holds the first one (its input and output) plus the new input.
  EXPECT_GT(second.json().at("usage").at("input_tokens").as_int64(), first_input);

  HttpReply unknown = client.post("/v1/responses", R"({"model":"m","input":"x","previous_response_id":"resp_unknown"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(json_string(unknown.json().at("error"), "code"), "previous_response_not_found");
  EXPECT_EQ(json_string(unknown.json().at("error"), "param"), "previous_response_id");
}

TEST(HttpStore, StoredResponseSurvivesRestart) {
  const std::filesystem::path dir = test_dir();
  std::string id;
  json::value output;
  {
    auto server = start_server(shared_engine(), test_config(dir));
    ASSERT_NE(server, nullptr);
    HttpClient client(server->port());
    HttpReply created = client.post("/v1/responses", R"({"model":"m","input":"Persist","max_output_tokens":3})");
    ASSERT_EQ(created.status, 200);
    id = json_string(created.json(), "id");
    output = created.json().at("output");
    client.close();
    server->stop();
  }
  auto server = start_server(shared_engine(), test_config(dir));
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  HttpReply got = client.get("/v1/responses/" + id);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json().at("output"), output);
  HttpReply next = client.post(
      "/v1/responses", R"({"model":"m","input":"Again","max_output_tokens":2,"previous_response_id":")" + id + R"("})");
  EXPECT_EQ(next.status, 200) << next.body;
}

TEST_F(HttpTest, MetricsCountRequests) {
  HttpClient client(port());
  ASSERT_EQ(client.post("/v1/responses", R"({"model":"m","input":"x","max_output_tokens":2})").status, 200);
  ASSERT_EQ(client.post("/v1/responses", R"({"input":5})").status, 400);
  HttpReply metrics = client.get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find(R"(wafer_http_requests_total{route="/v1/responses",status="200"} 1)"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(R"(wafer_http_requests_total{route="/v1/responses",status="400"} 1)"), std::string::npos);
  EXPECT_NE(metrics.body.find("wafer_time_to_first_token_seconds_count"), std::string::npos);
  EXPECT_NE(metrics.body.find("wafer_kv_cache_bytes"), std::string::npos);
  EXPECT_NE(metrics.body.find("wafer_active_connections 1"), std::string::npos);
}

// Waits (without a deadline: ctest's timeout is the backstop) until the engine is idle.
void wait_engine_idle(const Engine& engine) {
  while (engine.stats().active_requests > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

TEST(HttpBusy, EngineRefusalIs429AndDisconnectCancels) {
  std::unique_ptr<Engine> engine = make_engine(/*max_pending=*/1);
  ASSERT_NE(engine, nullptr);
  auto server = start_server(*engine, test_config(test_dir()));
  ASSERT_NE(server, nullptr);
  const int64_t kLong = 3000;
  HttpClient streaming(server->port());
  const std::string start = streaming.post_and_read_some(
      "/v1/responses", fmt::format(R"({{"model":"m","input":"Go on","stream":true,"max_output_tokens":{}}})", kLong));
  EXPECT_NE(start.find("response.created"), std::string::npos) << start;

  HttpClient second(server->port());
  HttpReply busy = second.post("/v1/responses", R"({"model":"m","input":"me too","max_output_tokens":2})");
  EXPECT_EQ(busy.status, 429) << busy.body;
  EXPECT_FALSE(busy.headers["retry-after"].empty());
  EXPECT_EQ(json_string(busy.json().at("error"), "type"), "rate_limit_error");

  streaming.close();  // the client goes away: the generation must stop long before kLong
  wait_engine_idle(*engine);
  EXPECT_LT(engine->stats().decoded_tokens, kLong);
  HttpReply after = second.post("/v1/responses", R"({"model":"m","input":"now","max_output_tokens":2})");
  EXPECT_EQ(after.status, 200) << after.body;
  server->stop();
}

TEST_F(HttpTest, ContextLengthExceeded) {
  HttpClient client(port());
  std::string long_input;
  for (int i = 0; i < 5000; ++i) long_input += "word" + std::to_string(i) + " ";
  HttpReply reply = client.post("/v1/responses", R"({"model":"m","input":")" + long_input + R"("})");
  EXPECT_EQ(reply.status, 400) << reply.body.substr(0, 300);
  EXPECT_EQ(json_string(reply.json().at("error"), "code"), "context_length_exceeded");
}

}  // namespace
}  // namespace wafer::server::testing
