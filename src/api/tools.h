// Tools a request declares (Responses and Chat shapes) and which of them the model may call.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "base/result.h"

namespace wafer::api {

struct Tool {
  enum class Kind {
    kFunction,  // JSON arguments; answered with a function_call item / chat tool_calls
    kCustom,    // freeform text input (Codex apply_patch); answered with a custom_tool_call
  };
  Kind kind = Kind::kFunction;
  std::string name;
  std::string namespace_name;    // set for tools declared inside a {type:"namespace"} group
  std::string description;
  boost::json::value parameters; // function: JSON Schema (object, or null when absent)
  boost::json::value format;     // custom: {type:"text"} or {type:"grammar",syntax,definition}
  bool strict = false;

  // The name the model sees and calls: "ns.name" for namespaced tools, else name.
  std::string model_name() const;
};

struct ToolChoice {
  enum class Mode { kAuto, kNone, kRequired };
  Mode mode = Mode::kAuto;
  // Non-empty: only these tools (model names) may be called ({type:"function",name} or
  // allowed_tools). With kRequired and one name, that exact tool is forced.
  std::vector<std::string> allowed;
};

// Parses a Responses `tools` array. Hosted tools (web_search, file_search, tool_search,
// computer_use, mcp, code_interpreter, image_generation, local_shell, shell, apply_patch)
// are accepted and dropped: wafer cannot run them. Namespaces are flattened. Errors name the
// field path ("tools[2].name: expected a string").
Result<std::vector<Tool>> parse_responses_tools(const boost::json::value& tools,
                                                std::string_view path);
// Chat Completions `tools`: [{type:"function", function:{name, description, parameters,
// strict}}] (also {type:"custom", custom:{name, description, format}}).
Result<std::vector<Tool>> parse_chat_tools(const boost::json::value& tools,
                                           std::string_view path);
// "none" | "auto" | "required" | {type:"function", name} | {type:"function",function:{name}}
// | {type:"custom", name} | {type:"allowed_tools", mode, tools:[...]} | hosted selectors
// (treated as auto). Absent (null) -> auto.
Result<ToolChoice> parse_tool_choice(const boost::json::value& choice, std::string_view path);

// The tools the model may see under `choice` (none -> empty; allowed -> that subset).
std::vector<Tool> tools_for_prompt(const std::vector<Tool>& tools, const ToolChoice& choice);

}  // namespace wafer::api
