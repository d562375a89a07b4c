// A model-neutral conversation (system text, turns, tool calls and results, tools) rendered
// in the model's chat format and tokenised. Template markers become special tokens; message
// content never does ("<|im_start|>" typed by a user stays plain text).
//
// ChatML (Qwen2.5 style): tools go into the system turn as a "# Tools" block with one JSON
// schema per line inside <tools></tools>; assistant tool calls are
// <tool_call>\n{"name": ..., "arguments": ...}\n</tool_call>; tool results are a user turn
// of <tool_response> blocks. Qwen3-Coder: ChatML turns, tools listed as <function> blocks
// with one <parameter> each, calls as <tool_call>\n<function=NAME>\n<parameter=KEY>\nvalue
// \n</parameter>\n</function>\n</tool_call>. Llama 3: tools and results in the JSON style of Llama 3.1
// (tool results as role "ipython", calls as {"name": ..., "parameters": ...}).
#pragma once

#include <string>
#include <vector>

#include "api/tools.h"
#include "base/result.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/encode_memo.h"

namespace wafer::api {

struct ConvToolCall {
  std::string name;        // model name (namespaced tools as "ns.name")
  std::string arguments;   // function: JSON text; custom: the raw input text
  bool custom = false;
};

struct ConvMessage {
  enum class Role { kSystem, kUser, kAssistant, kTool };
  Role role = Role::kUser;
  std::string content;
  std::vector<ConvToolCall> tool_calls;  // assistant only
  std::string tool_name;                 // tool results: the tool's name, when known
};

struct Conversation {
  std::vector<ConvMessage> messages;  // a leading kSystem message is the system prompt
  std::vector<Tool> tools;            // those the model may call (after tool_choice)
  // Tool choice "required" (or one forced tool): the generation prompt ends inside a
  // tool call; `Prompt::assistant_prefix` holds that text.
  bool force_tool_call = false;
  std::string forced_tool_name;       // with force_tool_call: this exact tool
};

// The tools the model may call after tool_choice, and whether (and which) call the prompt
// forces: what Responses and Chat Completions requests both ask for.
void set_tools(const std::vector<Tool>& tools, const ToolChoice& choice, Conversation* c);

struct Prompt {
  std::string text;                // the rendered prompt (markers as text): tests, logs
  std::vector<TokenId> tokens;     // what the engine prefills
  // Text that the prompt already put in the assistant's mouth (a forced tool call's
  // opening): push it through the ToolCallParser before the generated text.
  std::string assistant_prefix;
};

// Renders and tokenises. Error kUnsupported if the tokenizer lacks a marker of the format.
// Tool markers (<tool_call>, </tool_call>, <tool_response>, ...) written by the template are
// single tokens when the vocabulary has them, plain text otherwise.
// memo, when given, remembers long runs of text between markers (earlier turns' messages).
Result<Prompt> build_prompt(const Tokenizer& tokenizer, ChatFormat format,
                            const Conversation& conversation, EncodeMemo* memo = nullptr);
// The same rendering, text only (what build_prompt tokenises): tests and debugging.
// default_system: the system text used when the conversation has none (Qwen2.5's template
// has one; see default_system_prompt).
std::string render_prompt_text(ChatFormat format, const Conversation& conversation,
                               std::string_view default_system = "");
// The system prompt the model's template inserts when there is none ("" if none).
std::string default_system_prompt(const Tokenizer& tokenizer);
// True when the model's template knows <think> blocks (Qwen3): construct the ToolCallParser
// with parse_reasoning so they become reasoning items instead of answer text.
bool model_emits_reasoning(const Tokenizer& tokenizer);

}  // namespace wafer::api
