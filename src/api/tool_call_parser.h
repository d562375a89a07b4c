// Splits a model's generated text, chunk by chunk, into output events: plain text, and tool
// calls written in the model's format (ChatML/Qwen: <tool_call>{"name":..,"arguments":..}
// </tool_call>; Qwen3-Coder: <tool_call><function=NAME><parameter=KEY>value</parameter>
// </function></tool_call>; Llama 3: a bare {"name":..,"parameters":..} answer). A call is held back
// until it is complete and well-formed; anything that is not a well-formed call comes out as
// text, unchanged: the parser never fails and never drops a byte of text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>
#include <vector>

#include "api/tools.h"
#include "tokenizer/tokenizer.h"

namespace wafer::api {

struct OutputEvent {
  enum class Kind {
    kText,       // text: a piece of the assistant's message
    kReasoning,  // text: a piece of reasoning (<think>...</think>, Qwen3)
    kCallStart,  // a tool call begins: name (as the model wrote it), custom
    kCallDelta,  // text: a piece of the arguments (function: JSON) or input (custom)
    kCallDone,   // the call is complete: text holds the full arguments / input
  };
  Kind kind = Kind::kText;
  std::string text;
  std::string name;
  bool custom = false;  // the called tool is a custom (freeform) tool: text is raw input

  bool operator==(const OutputEvent&) const = default;
};

class ToolCallParser {
 public:
  // tools: what the model may call, i.e. Conversation::tools (custom tools' calls carry their
  // input as raw text, taken from arguments.input). Empty tools: no call parsing, everything
  // is text. parse_reasoning: a leading <think>...</think> becomes kReasoning events (see
  // model_emits_reasoning). Push Prompt::assistant_prefix first when it is not empty.
  ToolCallParser(ChatFormat format, std::vector<Tool> tools, bool parse_reasoning = false);

  // Feeds generated text; returns the events now certain. Not thread-safe.
  std::vector<OutputEvent> push(std::string_view text);
  // End of generation: flushes what is held back (an unfinished call comes out as text).
  std::vector<OutputEvent> finish();

 private:
  enum class State { kStart, kThink, kText, kCall, kLlamaJson };
  void emit_text(std::string_view text, std::vector<OutputEvent>* out);
  void scan(std::vector<OutputEvent>* out, bool at_end);
  void scan_think(std::vector<OutputEvent>* out, bool at_end);
  void scan_text(std::vector<OutputEvent>* out, bool at_end);
  void scan_call(std::vector<OutputEvent>* out, bool at_end);
  void scan_llama(std::vector<OutputEvent>* out, bool at_end);
  void scan_xml_call(std::vector<OutputEvent>* out, bool at_end);
  // "<function=NAME>...</function>" -> {"name":..,"arguments":{..}}; nullopt when malformed.
  std::optional<std::string> xml_call_json(std::string_view text) const;
  static boost::json::value xml_param_value(const Tool* tool, std::string_view key, std::string_view text);
  // Whole call text (between the markers) -> call events; false when not a valid call.
  bool emit_call(std::string_view json_text, std::vector<OutputEvent>* out);
  const Tool* find_tool(std::string_view name) const;

  ChatFormat format_;
  std::vector<Tool> tools_;
  bool parse_reasoning_;
  State state_ = State::kStart;
  std::string buffer_;  // text held back: a possible marker start, or an open call
};

}  // namespace wafer::api
