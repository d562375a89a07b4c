// POST /v1/responses (and WebSocket response.create): the request body parsed into typed
// fields, and the conversation it describes. Accepts every field, item kind and tool kind
// Codex CLI 0.169 and the openai SDK 7.57 send; unknown top-level fields are ignored,
// unknown item kinds and wrong JSON types are errors naming the field path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "api/prompt.h"
#include "api/sampling_fields.h"
#include "api/tools.h"
#include "base/result.h"

namespace wafer::api {

// One input or output item. Output items (message, function_call, custom_tool_call,
// reasoning) have the same shape, so a stored response's output can be replayed as input.
struct ResponseItem {
  enum class Kind {
    kMessage,
    kFunctionCall,
    kFunctionCallOutput,
    kCustomToolCall,
    kCustomToolCallOutput,
    kReasoning,
    kOther,   // accepted SDK kinds wafer does not render (item_reference, web_search_call...)
  };
  Kind kind = Kind::kMessage;
  std::string type;        // the JSON "type" as received ("message" when absent)
  std::string id;          // may be empty
  std::string status;      // may be empty
  // message
  std::string role;        // system, developer, user, assistant
  std::string text;        // message: text parts joined; *_output: output text;
                           // custom_tool_call: input; reasoning: content (reasoning_text)
  std::string summary;     // reasoning: summary_text parts joined
  int num_images = 0;      // input_image parts (not shown to the model; a note replaces them)
  // calls and their outputs
  std::string call_id;
  std::string name;
  std::string namespace_name;
  std::string arguments;   // function_call: JSON text
  std::string encrypted_content;  // reasoning: echoed back by clients, opaque
};

// The item as JSON (the shape response.output_item.done carries).
boost::json::object item_to_json(const ResponseItem& item);

struct TextFormat {
  enum class Kind { kText, kJsonObject, kJsonSchema };
  Kind kind = Kind::kText;
  std::string name;
  boost::json::value schema;  // json_schema only
  bool strict = false;
};

struct ResponsesRequest {
  std::string model;
  std::optional<std::string> instructions;
  std::vector<ResponseItem> input;
  std::vector<Tool> tools;              // hosted tools dropped, namespaces flattened
  ToolChoice tool_choice;
  bool parallel_tool_calls = true;
  bool stream = false;
  bool store = true;
  std::string previous_response_id;     // empty: none
  std::optional<int64_t> max_output_tokens;
  SamplingFields sampling;              // temperature, top_p
  TextFormat text_format;
  std::string prompt_cache_key;
  bool cache_prompt = true;             // false: reuse nothing earlier requests computed, KV or tokens (wafer extension)
  std::string prediction;               // predicted output text (speculation drafts), as on Chat
  bool truncation_auto = false;
  // Echoed back in the Response object as sent (null when absent).
  boost::json::value tools_json, tool_choice_json, reasoning_json, text_json, metadata_json;
  // WebSocket response.create only.
  bool generate = true;                 // false: warm-up, no generation
  std::string stream_id;                // lane; echoed on every event
};

// One input item (exposed for the store and tests); path names it in errors ("input[3]").
Result<ResponseItem> parse_input_item(const boost::json::value& item, std::string_view path);

// HTTP body. Errors (kInvalidArgument) name the field: "input[3].type: unknown item type
// 'foo'", "max_output_tokens: expected an integer".
Result<ResponsesRequest> parse_responses_request(std::string_view body);

// One client WebSocket message.
struct WsClientMessage {
  enum class Kind { kCreate, kSteer };
  Kind kind = Kind::kCreate;
  ResponsesRequest create;                 // kCreate
  std::string steer_previous_response_id;  // kSteer
  boost::json::value steer_input;          // kSteer, echoed in response.steer.failed
};
// {"type":"response.create", ...request fields, generate?, stream_id?} or
// {"type":"response.steer", previous_response_id, input}. `stream` is ignored.
Result<WsClientMessage> parse_ws_client_message(std::string_view frame);

// The conversation for the model: instructions (system), then `history` (a previous
// response's full context, empty without previous_response_id), then request.input.
// What to store under a response's id for chaining: its own history + request.input +
// ResponseStreamWriter::output(), in that order.
// developer/system messages become system text (leading ones merged into the system prompt),
// function / custom tool calls join the preceding assistant turn, outputs become tool turns
// (an output whose call_id matches no earlier call is still shown), reasoning items are left
// out. Tools are those tool_choice allows; "required" forces a call (Prompt::assistant_prefix).
Conversation responses_conversation(const ResponsesRequest& request,
                                    const std::vector<ResponseItem>& history);

}  // namespace wafer::api
