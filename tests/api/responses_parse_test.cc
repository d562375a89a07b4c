// parse_responses_request / parse_ws_client_message: accepted shapes and field-naming errors.
#include <gtest/gtest.h>

#include "api/errors.h"
#include "api/responses.h"

namespace wafer::api {
namespace {

ResponsesRequest parse_ok(std::string_view body) {
  Result<ResponsesRequest> r = parse_responses_request(body);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : ResponsesRequest{};
}

// The error's message, which must start with the field path.
std::string parse_error(std::string_view body) {
  Result<ResponsesRequest> r = parse_responses_request(body);
  EXPECT_FALSE(r.ok()) << body;
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  return r.error().message;
}

TEST(ResponsesParseTest, StringInputIsOneUserMessage) {
  ResponsesRequest r = parse_ok(R"({"model":"m","input":"hi","stream":true})");
  ASSERT_EQ(r.input.size(), 1u);
  EXPECT_EQ(r.input[0].kind, ResponseItem::Kind::kMessage);
  EXPECT_EQ(r.input[0].role, "user");
  EXPECT_EQ(r.input[0].text, "hi");
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.store);
  EXPECT_EQ(r.model, "m");
}

TEST(ResponsesParseTest, AllFields) {
  ResponsesRequest r = parse_ok(R"({
    "model":"m","instructions":"be nice","input":[],"store":false,
    "previous_response_id":"resp_1","max_output_tokens":64,"temperature":0.5,"top_p":0.9,
    "tool_choice":"required","parallel_tool_calls":false,
    "text":{"format":{"type":"json_schema","name":"x","schema":{"type":"object"},"strict":true}},
    "prompt_cache_key":"sess","reasoning":{"effort":"low","summary":"auto"},
    "include":["reasoning.encrypted_content"],"metadata":{"a":"b"},"truncation":"auto",
    "client_metadata":{"x":1},"service_tier":"auto","user":"u","top_logprobs":0,
    "stream_options":{"include_obfuscation":false},"conversation":null})");
  EXPECT_EQ(r.instructions.value_or(""), "be nice");
  EXPECT_FALSE(r.store);
  EXPECT_EQ(r.previous_response_id, "resp_1");
  EXPECT_EQ(r.max_output_tokens.value_or(0), 64);
  EXPECT_DOUBLE_EQ(r.sampling.temperature.value_or(0), 0.5);
  EXPECT_DOUBLE_EQ(r.sampling.top_p.value_or(0), 0.9);
  EXPECT_EQ(r.tool_choice.mode, ToolChoice::Mode::kRequired);
  EXPECT_FALSE(r.parallel_tool_calls);
  EXPECT_EQ(r.text_format.kind, TextFormat::Kind::kJsonSchema);
  EXPECT_TRUE(r.text_format.strict);
  EXPECT_EQ(r.prompt_cache_key, "sess");
  EXPECT_TRUE(r.truncation_auto);
  EXPECT_TRUE(r.reasoning_json.is_object());
  EXPECT_TRUE(r.metadata_json.is_object());
}

TEST(ResponsesParseTest, EveryItemKind) {
  ResponsesRequest r = parse_ok(R"({"input":[
    {"type":"message","role":"developer","content":[{"type":"input_text","text":"a"},
                                                    {"type":"input_text","text":"b"}]},
    {"role":"user","content":"plain"},
    {"type":"message","role":"user","content":[{"type":"input_image","image_url":"data:x",
                                                "detail":"auto"}]},
    {"type":"message","id":"msg_1","status":"completed","role":"assistant",
     "content":[{"type":"output_text","text":"ok","annotations":[]}]},
    {"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"s"}],
     "content":[{"type":"reasoning_text","text":"t"}],"encrypted_content":"opaque"},
    {"type":"function_call","id":"fc_1","status":"completed","call_id":"c1","name":"f",
     "arguments":"{\"x\":1}","namespace":"ns"},
    {"type":"function_call_output","id":"fco_1","call_id":"c1","output":"done"},
    {"type":"function_call_output","call_id":"c1",
     "output":[{"type":"input_text","text":"part"},{"type":"input_image","image_url":"u"}]},
    {"type":"custom_tool_call","call_id":"c2","name":"apply_patch","input":"*** Begin Patch"},
    {"type":"custom_tool_call_output","call_id":"c2","output":"Success"},
    {"type":"item_reference","id":"x"},
    {"type":"web_search_call","id":"ws","status":"completed"}]})");
  ASSERT_EQ(r.input.size(), 12u);
  EXPECT_EQ(r.input[0].text, "a\nb");
  EXPECT_EQ(r.input[1].type, "message");
  EXPECT_EQ(r.input[2].num_images, 1);
  EXPECT_NE(r.input[2].text.find("image omitted"), std::string::npos);
  EXPECT_EQ(r.input[3].id, "msg_1");
  EXPECT_EQ(r.input[3].status, "completed");
  EXPECT_EQ(r.input[4].kind, ResponseItem::Kind::kReasoning);
  EXPECT_EQ(r.input[4].summary, "s");
  EXPECT_EQ(r.input[4].text, "t");
  EXPECT_EQ(r.input[4].encrypted_content, "opaque");
  EXPECT_EQ(r.input[5].kind, ResponseItem::Kind::kFunctionCall);
  EXPECT_EQ(r.input[5].arguments, R"({"x":1})");
  EXPECT_EQ(r.input[5].namespace_name, "ns");
  EXPECT_EQ(r.input[6].kind, ResponseItem::Kind::kFunctionCallOutput);
  EXPECT_EQ(r.input[6].text, "done");
  EXPECT_EQ(r.input[7].text.substr(0, 5), "part\n");
  EXPECT_EQ(r.input[8].kind, ResponseItem::Kind::kCustomToolCall);
  EXPECT_EQ(r.input[8].text, "*** Begin Patch");
  EXPECT_EQ(r.input[9].kind, ResponseItem::Kind::kCustomToolCallOutput);
  EXPECT_EQ(r.input[10].kind, ResponseItem::Kind::kOther);
  EXPECT_EQ(r.input[11].kind, ResponseItem::Kind::kOther);
}

TEST(ResponsesParseTest, EveryToolKind) {
  ResponsesRequest r = parse_ok(R"({"tools":[
    {"type":"function","name":"exec_command","description":"run","strict":false,
     "parameters":{"type":"object","properties":{"cmd":{"type":"string"}}}},
    {"type":"custom","name":"apply_patch","description":"patch",
     "format":{"type":"grammar","syntax":"lark","definition":"start: x"}},
    {"type":"namespace","name":"multi_agent_v1","description":"agents","tools":[
      {"type":"function","name":"spawn_agent","parameters":{"type":"object"}}]},
    {"type":"web_search","external_web_access":false},
    {"type":"tool_search","execution":"client"}],
    "tool_choice":"auto"})");
  ASSERT_EQ(r.tools.size(), 3u);
  EXPECT_EQ(r.tools[0].kind, Tool::Kind::kFunction);
  EXPECT_EQ(r.tools[1].kind, Tool::Kind::kCustom);
  EXPECT_TRUE(r.tools[1].format.is_object());
  EXPECT_EQ(r.tools[2].model_name(), "multi_agent_v1.spawn_agent");
  EXPECT_EQ(r.tools[2].name, "spawn_agent");
  EXPECT_TRUE(r.tools_json.is_array());
}

TEST(ResponsesParseTest, ToolChoiceShapes) {
  EXPECT_EQ(parse_ok(R"({"tool_choice":"none"})").tool_choice.mode, ToolChoice::Mode::kNone);
  ResponsesRequest f = parse_ok(R"({"tool_choice":{"type":"function","name":"f"}})");
  EXPECT_EQ(f.tool_choice.mode, ToolChoice::Mode::kRequired);
  EXPECT_EQ(f.tool_choice.allowed, std::vector<std::string>{"f"});
  ResponsesRequest a = parse_ok(R"({"tool_choice":{"type":"allowed_tools","mode":"auto",
      "tools":[{"type":"function","name":"a"},{"type":"web_search"},{"type":"custom","name":"b"}]}})");
  EXPECT_EQ(a.tool_choice.mode, ToolChoice::Mode::kAuto);
  EXPECT_EQ(a.tool_choice.allowed, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parse_ok(R"({"tool_choice":{"type":"web_search"}})").tool_choice.mode,
            ToolChoice::Mode::kAuto);
}

TEST(ResponsesParseTest, ErrorsNameTheField) {
  struct Case {
    const char* body;
    const char* prefix;
  };
  const Case cases[] = {
      {R"([1])", "body: expected a JSON object"},
      {R"({"input":[{"type":"message","role":"user","content":"a"},{"type":"foo"}]})",
       "input[1].type: unknown item type 'foo'"},
      {R"({"input":[{"role":"robot","content":"a"}]})", "input[0].role: unknown role 'robot'"},
      {R"({"input":[{"role":"user"}]})", "input[0].content: required"},
      {R"({"input":[{"role":"user","content":[{"type":"input_text","text":5}]}]})",
       "input[0].content[0].text: expected a string, got number"},
      {R"({"input":[{"role":"user","content":[{"type":"bogus"}]}]})",
       "input[0].content[0].type: unknown content part type 'bogus'"},
      {R"({"input":[{"type":"function_call","name":"f","arguments":"{}"}]})",
       "input[0].call_id: required"},
      {R"({"input":42})", "input: expected a string or an array of items, got number"},
      {R"({"input":["x"]})", "input[0]: expected an object, got string"},
      {R"({"model":7})", "model: expected a string, got number"},
      {R"({"stream":"yes"})", "stream: expected a boolean, got string"},
      {R"({"max_output_tokens":1.5})", "max_output_tokens: expected an integer, got number"},
      {R"({"max_output_tokens":0})", "max_output_tokens: must be at least 1"},
      {R"({"temperature":"hot"})", "temperature: expected a number, got string"},
      {R"({"tools":[{"type":"function"}]})", "tools[0].name: required"},
      {R"({"tools":[{"type":"function","name":"f","parameters":"x"}]})",
       "tools[0].parameters: expected an object, got string"},
      {R"({"tools":[{"type":"namespace","name":"n","tools":[{"type":"custom"}]}]})",
       "tools[0].tools[0].name: required"},
      {R"({"tools":{}})", "tools: expected an array, got object"},
      {R"({"tool_choice":"sometimes"})", "tool_choice: unknown value 'sometimes'"},
      {R"({"text":{"format":{"type":"xml"}}})", "text.format.type: unknown format 'xml'"},
      {R"({"include":["a",1]})", "include[1]: expected a string, got number"},
      {R"({"truncation":"maybe"})", "truncation: unknown value 'maybe'"},
      {R"({"reasoning":"high"})", "reasoning: expected an object, got string"},
  };
  for (const Case& c : cases) {
    std::string message = parse_error(c.body);
    EXPECT_EQ(message.substr(0, std::string_view(c.prefix).size()), c.prefix)
        << "body " << c.body << " gave: " << message;
  }
  // The param comes through to the API error.
  Result<ResponsesRequest> r =
      parse_responses_request(R"({"input":[{"role":"user","content":"a"},{"type":"foo"}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(to_api_error(r.error()).param, "input[1].type");
}

TEST(ResponsesParseTest, InvalidJson) {
  for (std::string_view body : {"", "{", "{\"a\":}", "nul", "{\"a\":1}x"}) {
    Result<ResponsesRequest> r = parse_responses_request(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().message.substr(0, 5), "body:");
  }
  std::string deep(1000, '[');
  EXPECT_FALSE(parse_responses_request(deep).ok());
}

TEST(ResponsesParseTest, WebSocketMessages) {
  Result<WsClientMessage> create = parse_ws_client_message(
      R"({"type":"response.create","model":"m","stream":false,"generate":false,
          "stream_id":"lane","previous_response_id":"resp_1","input":[]})");
  ASSERT_TRUE(create.ok()) << create.error().message;
  EXPECT_EQ(create->kind, WsClientMessage::Kind::kCreate);
  EXPECT_FALSE(create->create.generate);
  EXPECT_TRUE(create->create.stream);
  EXPECT_EQ(create->create.stream_id, "lane");
  EXPECT_EQ(create->create.previous_response_id, "resp_1");

  Result<WsClientMessage> steer = parse_ws_client_message(
      R"({"type":"response.steer","previous_response_id":"resp_1",
          "input":[{"role":"user","content":"x"}]})");
  ASSERT_TRUE(steer.ok());
  EXPECT_EQ(steer->kind, WsClientMessage::Kind::kSteer);
  EXPECT_EQ(steer->steer_previous_response_id, "resp_1");
  EXPECT_TRUE(steer->steer_input.is_array());

  Result<WsClientMessage> bad = parse_ws_client_message(R"({"type":"response.cancel"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.substr(0, 5), "type:");
  EXPECT_FALSE(parse_ws_client_message(R"({"model":"m"})").ok());
}

TEST(ResponsesParseTest, ItemJsonRoundTrip) {
  ResponsesRequest r = parse_ok(R"({"input":[
    {"type":"function_call","id":"fc_1","status":"completed","call_id":"c1","name":"f",
     "arguments":"{}","namespace":"ns"},
    {"type":"message","id":"m","status":"completed","role":"assistant",
     "content":[{"type":"output_text","text":"ok"}]},
    {"type":"custom_tool_call","call_id":"c2","name":"apply_patch","input":"p"}]})");
  for (const ResponseItem& item : r.input) {
    Result<ResponseItem> again = parse_input_item(item_to_json(item), "x");
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(again->kind, item.kind);
    EXPECT_EQ(again->text, item.text);
    EXPECT_EQ(again->arguments, item.arguments);
    EXPECT_EQ(again->call_id, item.call_id);
    EXPECT_EQ(again->namespace_name, item.namespace_name);
    EXPECT_EQ(again->id, item.id);
  }
}

}  // namespace
}  // namespace wafer::api
