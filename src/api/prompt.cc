// Conversation -> prompt text and tokens, in ChatML (Qwen2.5/Qwen3 JSON tool calls, or
// Qwen3-Coder XML tool calls) or Llama 3.
// The text is built as segments: template text (its tool markers become tokens when the
// vocabulary has them), turn markers (always special tokens) and content (never special).
#include "api/prompt.h"

#include <array>

#include "api/python_json.h"

namespace wafer::api {

namespace json = boost::json;

namespace {

constexpr std::string_view kQwenDefaultSystem =
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
// Markers a template writes that are single tokens in some vocabularies (Qwen2.5: tool_call;
// Qwen3: all of them) and plain text in others.
constexpr std::array<std::string_view, 6> kSoftMarkers = {
    "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<think>", "</think>"};

struct Segment {
  enum class Kind { kContent, kTemplate, kMarker, kSoftMarker };
  Kind kind;
  std::string text;
};

class Segments {
 public:
  void marker(std::string_view text) { add(Segment::Kind::kMarker, text); }
  void content(std::string_view text) { add(Segment::Kind::kContent, text); }
  // Template literal text: soft markers inside it are split out.
  void literal(std::string_view text) {
    while (!text.empty()) {
      size_t best = std::string_view::npos;
      std::string_view found;
      for (std::string_view m : kSoftMarkers) {
        size_t at = text.find(m);
        if (at < best) best = at, found = m;
      }
      if (best == std::string_view::npos) {
        add(Segment::Kind::kTemplate, text);
        return;
      }
      add(Segment::Kind::kTemplate, text.substr(0, best));
      add(Segment::Kind::kSoftMarker, found);
      text.remove_prefix(best + found.size());
    }
  }
  const std::vector<Segment>& list() const { return list_; }
  std::string text() const {
    std::string out;
    for (const Segment& s : list_) out += s.text;
    return out;
  }

 private:
  void add(Segment::Kind kind, std::string_view text) {
    if (text.empty()) return;
    list_.push_back({kind, std::string(text)});
  }
  std::vector<Segment> list_;
};

// The JSON a template would show for a tool: {"type": "function", "function": {...}}.
json::value tool_schema(const Tool& tool) {
  json::object function{{"name", tool.model_name()}};
  std::string description = tool.description;
  if (tool.kind == Tool::Kind::kCustom) {
    const json::object* format = tool.format.if_object();
    const json::value* definition = format ? format->if_contains("definition") : nullptr;
    const json::value* syntax = format ? format->if_contains("syntax") : nullptr;
    if (definition != nullptr && definition->is_string()) {
      std::string syntax_name = syntax && syntax->is_string() ? std::string(syntax->get_string())
                                                              : std::string("grammar");
      description += fmt::format(
          "\n\nThe `input` argument is raw text that must follow this {} grammar:\n{}",
          syntax_name, std::string_view(definition->get_string()));
    }
    // Codex's descriptions say "do not wrap the patch in JSON": for a model that calls tools
    // in JSON, the raw text goes into one JSON string.
    description += "\n\nCall this tool with a single argument `input` holding the raw text.";
    if (!description.empty()) function["description"] = description;
    function["parameters"] = json::object{
        {"type", "object"},
        {"properties",
         json::object{{"input", json::object{{"type", "string"},
                                             {"description", "the raw input text"}}}}},
        {"required", json::array{"input"}}};
  } else {
    if (!description.empty()) function["description"] = description;
    if (!tool.parameters.is_null()) function["parameters"] = tool.parameters;
  }
  return json::object{{"type", "function"}, {"function", std::move(function)}};
}

// Call arguments as the template's `tojson` shows them.
json::value call_arguments(const ConvToolCall& call) {
  if (call.custom) return json::object{{"input", call.arguments}};
  boost::system::error_code ec;
  json::value parsed = json::parse(call.arguments, ec);
  if (ec) return json::value(call.arguments);
  return parsed;
}

std::string system_text(const Conversation& c, std::string_view default_system, size_t* first) {
  *first = 0;
  if (!c.messages.empty() && c.messages[0].role == ConvMessage::Role::kSystem) {
    *first = 1;
    return c.messages[0].content;
  }
  return std::string(default_system);
}

std::string_view role_name(ConvMessage::Role role) {
  switch (role) {
    case ConvMessage::Role::kSystem: return "system";
    case ConvMessage::Role::kUser: return "user";
    case ConvMessage::Role::kAssistant: return "assistant";
    case ConvMessage::Role::kTool: return "tool";
  }
  return "user";
}

// A JSON value as the XML format shows it: strings bare, anything else as JSON.
std::string xml_value_text(const json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

// Qwen3-Coder's tool listing: one <function> block per tool, its parameters one by one.
void render_xml_tools(const std::vector<Tool>& tools, Segments* out) {
  out->literal("# Tools\n\nYou have access to the following functions:\n\n<tools>");
  for (const Tool& tool : tools) {
    const json::value schema_value = tool_schema(tool);
    const json::object& function = schema_value.at("function").as_object();
    out->literal("\n<function>\n<name>");
    out->content(tool.model_name());
    out->literal("</name>");
    if (const json::value* d = function.if_contains("description"); d && d->is_string()) {
      out->literal("\n<description>");
      out->content(d->get_string());
      out->literal("</description>");
    }
    out->literal("\n<parameters>");
    const json::value* params = function.if_contains("parameters");
    const json::object* schema = params ? params->if_object() : nullptr;
    const json::value* props = schema ? schema->if_contains("properties") : nullptr;
    if (props != nullptr && props->is_object()) {
      for (const auto& [key, prop] : props->get_object()) {
        out->literal("\n<parameter>\n<name>");
        out->content(key);
        out->literal("</name>");
        if (const json::object* p = prop.if_object()) {
          for (const auto& [field, value] : *p) {
            out->literal("\n<");
            out->content(field);
            out->literal(">");
            out->content(xml_value_text(value));
            out->literal("</");
            out->content(field);
            out->literal(">");
          }
        }
        out->literal("\n</parameter>");
      }
    }
    if (const json::value* req = schema ? schema->if_contains("required") : nullptr; req && req->is_array()) {
      out->literal("\n<required>");
      out->content(json::serialize(*req));
      out->literal("</required>");
    }
    out->literal("\n</parameters>\n</function>");
  }
  out->literal(
      "\n</tools>\n\nTo call a function, reply with exactly this format and nothing after it:\n\n"
      "<tool_call>\n<function=function_name>\n<parameter=parameter_name>\nvalue\n</parameter>\n"
      "</function>\n</tool_call>\n\nNotes:\n- one <parameter> block per argument; a value may span "
      "several lines\n- give every required parameter\n- any explanation goes before the call, never "
      "after it\n- without a suitable function, answer normally");
}

// One past call in Qwen3-Coder's XML: arguments one <parameter> each (strings bare).
void render_xml_call(const ConvToolCall& call, Segments* out) {
  out->literal("\n<tool_call>\n<function=");
  out->content(call.name);
  out->literal(">\n");
  json::value args = call_arguments(call);
  if (const json::object* o = args.if_object()) {
    for (const auto& [key, value] : *o) {
      out->literal("<parameter=");
      out->content(key);
      out->literal(">\n");
      out->content(xml_value_text(value));
      out->literal("\n</parameter>\n");
    }
  }
  out->literal("</function>\n</tool_call>");
}

// Qwen2.5's tool listing: one JSON schema per line inside <tools></tools>.
void render_json_tools(const std::vector<Tool>& tools, Segments* out) {
  out->literal("# Tools\n\nYou may call one or more functions to assist with the user query."
               "\n\nYou are provided with function signatures within <tools></tools> XML "
               "tags:\n<tools>");
  for (const Tool& tool : tools) {
    out->literal("\n");
    out->content(python_json(tool_schema(tool)));
  }
  out->literal("\n</tools>\n\nFor each function call, return a json object with function name "
               "and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": "
               "<function-name>, \"arguments\": <args-json-object>}\n</tool_call>");
}

void render_chatml(const Conversation& c, std::string_view default_system, bool xml_tools, Segments* out) {
  size_t first = 0;
  std::string system = system_text(c, default_system, &first);
  if (!c.tools.empty()) {
    out->marker("<|im_start|>");
    out->literal("system\n");
    if (!system.empty()) {
      out->content(system);
      out->literal("\n\n");
    }
    if (xml_tools) render_xml_tools(c.tools, out);
    else render_json_tools(c.tools, out);
    out->marker("<|im_end|>");
    out->literal("\n");
  } else if (!system.empty()) {
    out->marker("<|im_start|>");
    out->literal("system\n");
    out->content(system);
    out->marker("<|im_end|>");
    out->literal("\n");
  }
  for (size_t i = first; i < c.messages.size(); ++i) {
    const ConvMessage& m = c.messages[i];
    if (m.role == ConvMessage::Role::kTool) {
      bool open = i == first || c.messages[i - 1].role != ConvMessage::Role::kTool;
      bool close = i + 1 == c.messages.size() || c.messages[i + 1].role != ConvMessage::Role::kTool;
      if (open) {
        out->marker("<|im_start|>");
        out->literal("user");
      }
      out->literal("\n<tool_response>\n");
      out->content(m.content);
      out->literal("\n</tool_response>");
      if (close) {
        out->marker("<|im_end|>");
        out->literal("\n");
      }
      continue;
    }
    out->marker("<|im_start|>");
    out->literal(role_name(m.role));
    if (m.role != ConvMessage::Role::kAssistant || m.tool_calls.empty()) {
      out->literal("\n");
      out->content(m.content);
    } else {
      if (!m.content.empty()) {
        out->literal("\n");
        out->content(m.content);
      }
      for (const ConvToolCall& call : m.tool_calls) {
        if (xml_tools) {
          render_xml_call(call, out);
          continue;
        }
        out->literal("\n<tool_call>\n{\"name\": \"");
        out->content(call.name);
        out->literal("\", \"arguments\": ");
        out->content(python_json(call_arguments(call)));
        out->literal("}\n</tool_call>");
      }
    }
    out->marker("<|im_end|>");
    out->literal("\n");
  }
}

void llama3_turn(std::string_view role, std::string_view content, Segments* out) {
  out->marker("<|start_header_id|>");
  out->literal(role);
  out->marker("<|end_header_id|>");
  out->literal("\n\n");
  out->content(content);
  out->marker("<|eot_id|>");
}

void render_llama3(const Conversation& c, std::string_view default_system, Segments* out) {
  out->marker("<|begin_of_text|>");
  size_t first = 0;
  std::string system = system_text(c, default_system, &first);
  if (!c.tools.empty()) {
    std::string tools_text;
    if (!system.empty()) tools_text = system + "\n\n";
    tools_text +=
        "You can call the functions below. To call one, answer with only a JSON object of the "
        "form {\"name\": function name, \"parameters\": dictionary of argument name and its "
        "value}, and nothing else.\n\n";
    for (const Tool& tool : c.tools) tools_text += python_json(tool_schema(tool)) + "\n\n";
    system = std::move(tools_text);
  }
  if (!system.empty()) llama3_turn("system", system, out);
  for (size_t i = first; i < c.messages.size(); ++i) {
    const ConvMessage& m = c.messages[i];
    if (m.role == ConvMessage::Role::kTool) {
      llama3_turn("ipython", m.content, out);
    } else if (m.role == ConvMessage::Role::kAssistant && !m.tool_calls.empty()) {
      if (!m.content.empty()) llama3_turn("assistant", m.content, out);
      for (const ConvToolCall& call : m.tool_calls) {
        json::object body{{"name", call.name}, {"parameters", call_arguments(call)}};
        llama3_turn("assistant", python_json(body), out);
      }
    } else {
      llama3_turn(role_name(m.role), m.content, out);
    }
  }
}

// The generation prompt, plus a forced call's opening.
std::string render_generation_prompt(ChatFormat format, const Conversation& c, Segments* out) {
  std::string prefix;
  if (format == ChatFormat::kChatMl || format == ChatFormat::kQwen3Coder) {
    out->marker("<|im_start|>");
    out->literal("assistant\n");
    if (c.force_tool_call && !c.tools.empty()) {
      prefix = "<tool_call>\n";
      if (format == ChatFormat::kQwen3Coder) {
        prefix += c.forced_tool_name.empty() ? "<function=" : fmt::format("<function={}>\n", c.forced_tool_name);
      } else if (!c.forced_tool_name.empty()) {
        prefix += fmt::format("{{\"name\": \"{}\", \"arguments\": ", c.forced_tool_name);
      }
    }
  } else {
    out->marker("<|start_header_id|>");
    out->literal("assistant");
    out->marker("<|end_header_id|>");
    out->literal("\n\n");
    if (c.force_tool_call && !c.tools.empty()) {
      prefix = c.forced_tool_name.empty()
                   ? std::string("{\"name\": \"")
                   : fmt::format("{{\"name\": \"{}\", \"parameters\": ", c.forced_tool_name);
    }
  }
  out->literal(prefix);
  return prefix;
}

Segments render(ChatFormat format, const Conversation& c, std::string_view default_system,
                std::string* prefix) {
  Segments segments;
  switch (format) {
    case ChatFormat::kChatMl: render_chatml(c, default_system, false, &segments); break;
    case ChatFormat::kQwen3Coder: render_chatml(c, default_system, true, &segments); break;
    case ChatFormat::kLlama3: render_llama3(c, default_system, &segments); break;
  }
  *prefix = render_generation_prompt(format, c, &segments);
  return segments;
}

}  // namespace

void set_tools(const std::vector<Tool>& tools, const ToolChoice& choice, Conversation* c) {
  c->tools = tools_for_prompt(tools, choice);
  if (choice.mode == ToolChoice::Mode::kRequired && !c->tools.empty()) {
    c->force_tool_call = true;
    if (c->tools.size() == 1 && !choice.allowed.empty()) c->forced_tool_name = c->tools[0].model_name();
  }
}

std::string default_system_prompt(const Tokenizer& tokenizer) {
  if (tokenizer.chat_template().find(kQwenDefaultSystem) != std::string::npos) {
    return std::string(kQwenDefaultSystem);
  }
  return "";
}

bool model_emits_reasoning(const Tokenizer& tokenizer) {
  return tokenizer.chat_template().find("<think>") != std::string::npos;
}

std::string render_prompt_text(ChatFormat format, const Conversation& conversation,
                               std::string_view default_system) {
  std::string prefix;
  return render(format, conversation, default_system, &prefix).text();
}

Result<Prompt> build_prompt(const Tokenizer& tokenizer, ChatFormat format,
                            const Conversation& conversation, EncodeMemo* memo) {
  Prompt prompt;
  Segments segments =
      render(format, conversation, default_system_prompt(tokenizer), &prompt.assistant_prefix);
  prompt.text = segments.text();
  std::string pending;  // adjacent plain segments are encoded together
  auto flush = [&] {
    if (pending.empty()) return;
    std::vector<TokenId> ids = memo != nullptr ? memo->encode(tokenizer, pending) : tokenizer.encode(pending, false, false);
    prompt.tokens.insert(prompt.tokens.end(), ids.begin(), ids.end());
    pending.clear();
  };
  for (const Segment& s : segments.list()) {
    if (s.kind == Segment::Kind::kContent || s.kind == Segment::Kind::kTemplate) {
      pending += s.text;
      continue;
    }
    std::optional<TokenId> id = tokenizer.find_token(s.text);
    // A soft marker counts only as an added (non-BPE) token; a merged word is just text.
    if (id && s.kind == Segment::Kind::kSoftMarker &&
        tokenizer.token_type(*id) == TokenType::kNormal) {
      id.reset();
    }
    if (!id) {
      if (s.kind == Segment::Kind::kSoftMarker) {
        pending += s.text;
        continue;
      }
      return make_error(ErrorCode::kUnsupported,
                        "the model's vocabulary has no '{}' token, which its chat format needs",
                        s.text);
    }
    flush();
    prompt.tokens.push_back(*id);
  }
  flush();
  return prompt;
}

}  // namespace wafer::api
