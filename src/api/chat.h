// POST /v1/chat/completions: request parsing, the conversation it describes, and the
// chat.completion / chat.completion.chunk answers (tool calls as choices[].delta.tool_calls).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "api/ids.h"
#include "api/prompt.h"
#include "api/sampling_fields.h"
#include "api/tool_call_parser.h"
#include "api/tools.h"
#include "base/result.h"
#include "wafer/engine.h"

namespace wafer::api {

struct ChatToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // function: JSON text; custom: the raw input
  bool custom = false;
};

struct ChatMessageIn {
  std::string role;                     // system, developer, user, assistant, tool
  std::string content;                  // text parts joined (null content -> "")
  std::vector<ChatToolCall> tool_calls; // assistant
  std::string tool_call_id;             // tool
  std::string name;
};

struct ChatRequest {
  std::string model;
  std::vector<ChatMessageIn> messages;
  std::vector<Tool> tools;
  ToolChoice tool_choice;
  bool parallel_tool_calls = true;
  bool stream = false;
  bool include_usage = false;           // stream_options.include_usage
  bool cache_prompt = true;             // false: reuse nothing earlier requests computed, KV or tokens (wafer extension)
  std::optional<int64_t> max_tokens;    // max_completion_tokens or max_tokens
  SamplingFields sampling;
  std::vector<std::string> stop;        // "stop": string or up to 4 strings
  std::string prediction;               // prediction.content as text (speculation hint)
  bool json_response = false;           // response_format json_object / json_schema
  boost::json::value response_schema;   // json_schema.schema, else null
  bool response_schema_strict = false;  // json_schema.strict
};

// Errors name the field ("messages[2].role: unknown role 'bot'"). n other than 1 is an
// error (param n).
Result<ChatRequest> parse_chat_request(std::string_view body);
Conversation chat_conversation(const ChatRequest& request);

// Builds the answers. Not thread-safe; one per request.
class ChatWriter {
 public:
  // id: "chatcmpl-..."; created: unix seconds; model_id: the loaded model's id; ids makes
  // tool call ids ("call_...").
  ChatWriter(std::string id, std::string model_id, int64_t created, bool include_usage,
             IdGenerator ids);
  // Reasoning goes out as delta.reasoning_content (the DeepSeek/vLLM convention).
  // Streaming: each string is one chunk's JSON (the server writes "data: <json>\n\n" and, after
  // finish(), "data: [DONE]\n\n"). The first chunk carries delta.role "assistant".
  std::vector<std::string> push(const OutputEvent& event);
  // Last chunk with finish_reason (stop, length, tool_calls), then the usage chunk when
  // include_usage.
  std::vector<std::string> finish(std::string_view engine_finish_reason, const Usage& usage);
  // Non-streaming: the whole chat.completion object (call after push()es and finish()).
  std::string completion_json() const;

 private:
  boost::json::object chunk(boost::json::object delta, boost::json::value finish_reason) const;
  std::string id_, model_id_;
  int64_t created_;
  bool include_usage_;
  IdGenerator ids_;
  bool sent_role_ = false;
  std::string content_;
  std::string pending_space_;  // trailing spaces held until more text follows
  std::string reasoning_;
  std::vector<ChatToolCall> calls_;
  std::string finish_reason_;
  Usage usage_;
};

}  // namespace wafer::api
