// Chat Completions: parsing, conversation, and chunk / completion JSON.
#include <gtest/gtest.h>

#include "api/chat.h"

namespace wafer::api {
namespace {

namespace json = boost::json;
using Kind = OutputEvent::Kind;

TEST(ChatTest, ParsesEveryField) {
  Result<ChatRequest> r = parse_chat_request(R"({
    "model":"m","messages":[
      {"role":"system","content":"S"},
      {"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}}]},
      {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
        "function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
      {"role":"tool","tool_call_id":"call_1","content":"20"}],
    "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],
    "tool_choice":{"type":"function","function":{"name":"get_weather"}},
    "stream":true,"stream_options":{"include_usage":true},"max_tokens":10,
    "max_completion_tokens":20,"temperature":0.2,"top_p":0.5,"stop":["\n\n","END"],"seed":42,
    "frequency_penalty":0.5,"presence_penalty":-0.5,"logit_bias":{"15":-100},"n":1,
    "response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}},
    "prediction":{"type":"content","content":[{"type":"text","text":"hello"}]},
    "parallel_tool_calls":false,"user":"u","metadata":{}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->messages.size(), 4u);
  EXPECT_NE(r->messages[1].content.find("image_url omitted"), std::string::npos);
  ASSERT_EQ(r->messages[2].tool_calls.size(), 1u);
  EXPECT_EQ(r->messages[2].tool_calls[0].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(r->tool_choice.mode, ToolChoice::Mode::kRequired);
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  EXPECT_EQ(r->max_tokens.value_or(0), 20);
  EXPECT_EQ(r->stop, (std::vector<std::string>{"\n\n", "END"}));
  EXPECT_EQ(r->sampling.seed.value_or(0), 42);
  ASSERT_EQ(r->sampling.logit_bias.size(), 1u);
  EXPECT_EQ(r->sampling.logit_bias[0].first, 15);
  EXPECT_TRUE(r->json_response);
  EXPECT_TRUE(r->response_schema.is_object());
  EXPECT_EQ(r->prediction, "hello");
  EXPECT_FALSE(r->parallel_tool_calls);

  Conversation c = chat_conversation(*r);
  ASSERT_EQ(c.messages.size(), 4u);
  EXPECT_EQ(c.messages[0].role, ConvMessage::Role::kSystem);
  EXPECT_EQ(c.messages[3].tool_name, "get_weather");
  EXPECT_TRUE(c.force_tool_call);
  EXPECT_EQ(c.forced_tool_name, "get_weather");
}

TEST(ChatTest, ErrorsNameTheField) {
  struct Case {
    const char* body;
    const char* prefix;
  };
  const Case cases[] = {
      {R"({})", "messages: required"},
      {R"({"messages":[{"role":"bot","content":"x"}]})", "messages[0].role: unknown role 'bot'"},
      {R"({"messages":[{"role":"user","content":5}]})", "messages[0].content: expected"},
      {R"({"messages":[],"n":2})", "n: only n = 1"},
      {R"({"messages":[],"stop":["a","b","c","d","e"]})", "stop: at most 4"},
      {R"({"messages":[],"stop":[1]})", "stop[0]: expected a string"},
      {R"({"messages":[],"logit_bias":{"abc":1}})", "logit_bias.abc: keys must be token ids"},
      {R"({"messages":[],"max_tokens":0})", "max_tokens: must be at least 1"},
      {R"({"messages":[],"response_format":{"type":"yaml"}})", "response_format.type: unknown"},
      {R"({"messages":[],"tools":[{"type":"function"}]})", "tools[0].function: required"},
      {R"({"messages":[],"stream_options":{"include_usage":"y"}})",
       "stream_options.include_usage: expected a boolean"},
      {R"({"messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{}}]}]})",
       "messages[0].tool_calls[0].function.name: required"},
  };
  for (const Case& c : cases) {
    Result<ChatRequest> r = parse_chat_request(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().message.substr(0, std::string_view(c.prefix).size()), c.prefix)
        << c.body << " gave: " << r.error().message;
  }
}

std::vector<json::value> chunks(const std::vector<std::string>& lines) {
  std::vector<json::value> out;
  for (const std::string& l : lines) out.push_back(json::parse(l));
  return out;
}

TEST(ChatTest, StreamWithToolCallsAndUsage) {
  ChatWriter writer("chatcmpl-1", "m", 5, true, make_counter_id_generator());
  std::vector<std::string> lines;
  auto add = [&](std::vector<std::string> more) { lines.insert(lines.end(), more.begin(), more.end()); };
  add(writer.push({Kind::kText, "\nLet me check. ", "", false}));
  add(writer.push({Kind::kCallStart, "", "get_weather", false}));
  add(writer.push({Kind::kCallDelta, "{\"city\":", "get_weather", false}));
  add(writer.push({Kind::kCallDelta, "\"Paris\"}", "get_weather", false}));
  add(writer.push({Kind::kCallDone, "{\"city\":\"Paris\"}", "get_weather", false}));
  add(writer.finish("stop", Usage{10, 4, 6}));
  std::vector<json::value> c = chunks(lines);
  ASSERT_EQ(c.size(), 7u);
  EXPECT_EQ(c[0].at("choices").at(0).at("delta").at("role").as_string(), "assistant");
  EXPECT_EQ(c[1].at("choices").at(0).at("delta").at("content").as_string(), "Let me check.");
  const json::value& start = c[2].at("choices").at(0).at("delta").at("tool_calls").at(0);
  EXPECT_EQ(start.at("index").as_int64(), 0);
  EXPECT_EQ(start.at("id").as_string(), "call_1");
  EXPECT_EQ(start.at("function").at("name").as_string(), "get_weather");
  EXPECT_EQ(c[3].at("choices").at(0).at("delta").at("tool_calls").at(0).at("function")
                .at("arguments").as_string(), "{\"city\":");
  EXPECT_EQ(c[5].at("choices").at(0).at("finish_reason").as_string(), "tool_calls");
  EXPECT_TRUE(c[5].at("choices").at(0).at("delta").as_object().empty());
  EXPECT_TRUE(c[6].at("choices").as_array().empty());
  EXPECT_EQ(c[6].at("usage").at("total_tokens").as_int64(), 16);
  EXPECT_EQ(c[6].at("usage").at("prompt_tokens_details").at("cached_tokens").as_int64(), 4);
  for (const json::value& chunk : c) {
    EXPECT_EQ(chunk.at("object").as_string(), "chat.completion.chunk");
    EXPECT_EQ(chunk.at("id").as_string(), "chatcmpl-1");
  }

  json::value full = json::parse(writer.completion_json());
  EXPECT_EQ(full.at("object").as_string(), "chat.completion");
  const json::value& message = full.at("choices").at(0).at("message");
  EXPECT_EQ(message.at("content").as_string(), "Let me check.");
  EXPECT_EQ(message.at("tool_calls").at(0).at("function").at("arguments").as_string(),
            "{\"city\":\"Paris\"}");
  EXPECT_EQ(full.at("usage").at("completion_tokens").as_int64(), 6);
}

TEST(ChatTest, MatchesRecordedSdkStream) {
  // sdk-openai-node/007: role chunk, "don", "e.", finish "stop", usage chunk.
  ChatWriter writer("chatcmpl-1", "capture-model", 1, true, make_counter_id_generator());
  std::vector<std::string> lines = writer.push({Kind::kText, "don", "", false});
  for (auto& l : writer.push({Kind::kText, "e.", "", false})) lines.push_back(l);
  for (auto& l : writer.finish("stop", Usage{12, 0, 2})) lines.push_back(l);
  std::vector<json::value> c = chunks(lines);
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c[1].at("choices").at(0).at("delta").at("content").as_string(), "don");
  EXPECT_EQ(c[2].at("choices").at(0).at("delta").at("content").as_string(), "e.");
  EXPECT_EQ(c[3].at("choices").at(0).at("finish_reason").as_string(), "stop");
  EXPECT_EQ(json::parse(writer.completion_json()).at("choices").at(0).at("finish_reason")
                .as_string(), "stop");
  ChatWriter length("c", "m", 1, false, make_counter_id_generator());
  std::vector<std::string> l = length.finish("length", Usage{});
  ASSERT_EQ(l.size(), 2u);  // role chunk + finish chunk, no usage chunk
  EXPECT_EQ(json::parse(l[1]).at("choices").at(0).at("finish_reason").as_string(), "length");
  EXPECT_FALSE(json::parse(l[1]).as_object().contains("usage"));
}

}  // namespace
}  // namespace wafer::api
