// Every request body captured from Codex CLI 0.169 and the openai SDK 7.57 parses, and its
// conversation (chained through previous_response_id on WebSockets) renders and tokenises.
#include <gtest/gtest.h>

#include <map>

#include "api/chat.h"
#include "api/completions.h"
#include "api/responses.h"
#include "api_test_support.h"

namespace wafer::api {
namespace {

namespace json = boost::json;

class FixturesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fixtures_ = new std::vector<test::Fixture>(test::load_fixtures()); }
  static void TearDownTestSuite() { delete fixtures_; }
  static std::vector<test::Fixture>* fixtures_;
};
std::vector<test::Fixture>* FixturesTest::fixtures_ = nullptr;

// Renders with the Qwen vocabulary; checks what every rendered Codex prompt must show.
void expect_renders(const ResponsesRequest& request, const std::vector<ResponseItem>& history,
                    const std::string& where) {
  Conversation c = responses_conversation(request, history);
  Result<Prompt> p = build_prompt(test::qwen_tokenizer(), ChatFormat::kChatMl, c);
  ASSERT_TRUE(p.ok()) << where << ": " << p.error().message;
  EXPECT_FALSE(p->tokens.empty()) << where;
  if (!c.tools.empty()) {
    EXPECT_NE(p->text.find("# Tools"), std::string::npos) << where;
  }
  for (const ConvMessage& m : c.messages) {
    if (m.role == ConvMessage::Role::kTool) {
      EXPECT_FALSE(m.tool_name.empty()) << where << ": a tool output without its call";
    }
  }
}

TEST_F(FixturesTest, HttpRequestBodiesParse) {
  int responses = 0, chats = 0, completions = 0;
  for (const test::Fixture& f : *fixtures_) {
    const json::object& file = f.json.as_object();
    if (!file.contains("request")) continue;
    const json::object& request = file.at("request").as_object();
    if (request.at("method").as_string() != "POST") continue;
    std::string body = json::serialize(request.at("body"));
    std::string_view url = request.at("url").as_string();
    if (url.find("/responses") != std::string_view::npos) {
      Result<ResponsesRequest> r = parse_responses_request(body);
      ASSERT_TRUE(r.ok()) << f.path << ": " << r.error().message;
      expect_renders(*r, {}, f.path);
      ++responses;
    } else if (url.find("/chat/completions") != std::string_view::npos) {
      Result<ChatRequest> r = parse_chat_request(body);
      ASSERT_TRUE(r.ok()) << f.path << ": " << r.error().message;
      Result<Prompt> p =
          build_prompt(test::qwen_tokenizer(), ChatFormat::kChatMl, chat_conversation(*r));
      ASSERT_TRUE(p.ok()) << f.path;
      ++chats;
    } else if (url.find("/completions") != std::string_view::npos) {
      Result<CompletionRequest> r = parse_completion_request(body);
      ASSERT_TRUE(r.ok()) << f.path << ": " << r.error().message;
      Result<Prompt> p = build_completion_prompt(test::qwen_tokenizer(), *r);
      ASSERT_TRUE(p.ok()) << f.path << ": " << p.error().message;
      ++completions;
    }
  }
  EXPECT_GE(responses, 25);
  EXPECT_GE(chats, 1);
  EXPECT_GE(completions, 1);
}

// Replays each recorded connection as a server would: every response's context (history +
// input + output) is kept under its id, and continuations are rendered from it.
TEST_F(FixturesTest, WebSocketConversationsChain) {
  int creates = 0, chained = 0;
  for (const test::Fixture& f : *fixtures_) {
    if (f.path.find("-ws-v1_responses") == std::string::npos) continue;
    std::map<std::string, std::vector<ResponseItem>> contexts;
    std::vector<ResponseItem> pending;  // context of the request in flight
    for (const json::value& m : f.json.at("messages").as_array()) {
      const json::object& data = m.at("data").as_object();
      std::string where = f.path + " " + std::string(data.at("type").as_string());
      if (m.at("dir").as_string() == "client->server") {
        Result<WsClientMessage> parsed = parse_ws_client_message(json::serialize(data));
        ASSERT_TRUE(parsed.ok()) << where << ": " << parsed.error().message;
        if (parsed->kind != WsClientMessage::Kind::kCreate) continue;
        const ResponsesRequest& request = parsed->create;
        ++creates;
        std::vector<ResponseItem> history;
        if (!request.previous_response_id.empty()) {
          auto it = contexts.find(request.previous_response_id);
          if (it == contexts.end()) continue;  // the recorded not-found case
          history = it->second;
          ++chained;
        }
        expect_renders(request, history, where);
        pending = history;
        pending.insert(pending.end(), request.input.begin(), request.input.end());
        continue;
      }
      if (data.at("type").as_string() != "response.completed") continue;
      const json::object& response = data.at("response").as_object();
      std::vector<ResponseItem> context = pending;
      const json::array& output = response.at("output").as_array();
      for (size_t i = 0; i < output.size(); ++i) {
        Result<ResponseItem> item = parse_input_item(output[i], "output");
        ASSERT_TRUE(item.ok()) << where << ": " << item.error().message;
        context.push_back(std::move(item).value());
      }
      contexts[std::string(response.at("id").as_string())] = std::move(context);
    }
  }
  EXPECT_GE(creates, 15);
  EXPECT_GE(chained, 8);
}

}  // namespace
}  // namespace wafer::api
