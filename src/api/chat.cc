// POST /v1/chat/completions: body -> ChatRequest -> Conversation.
#include "api/chat.h"

#include <algorithm>
#include <unordered_map>

#include "api/json_read.h"

namespace wafer::api {

namespace json = boost::json;

namespace {

// A string, null, or an array of parts ({type:"text", text}, images and files as notes).
Result<std::string> read_chat_content(const json::object& message, std::string_view path) {
  const json::value* content = find_field(message, "content");
  std::string content_path = field_path(path, "content");
  if (content == nullptr) return std::string();
  if (content->is_string()) return std::string(content->get_string());
  if (!content->is_array()) return type_error(content_path, "a string or an array", *content);
  std::string out;
  const json::array& parts = content->get_array();
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string part_path = index_path(content_path, i);
    if (!parts[i].is_object()) return type_error(part_path, "an object", parts[i]);
    const json::object& part = parts[i].get_object();
    WAFER_ASSIGN_OR_RETURN(auto type, read_string(part, "type", part_path));
    std::string piece;
    if (type == "text" || type == "input_text" || type == "refusal") {
      std::string_view key = *type == "refusal" ? "refusal" : "text";
      WAFER_ASSIGN_OR_RETURN(auto text, read_string(part, key, part_path));
      if (!text) return field_error(field_path(part_path, key), "required");
      piece = std::move(*text);
    } else if (type == "image_url" || type == "input_audio" || type == "file") {
      piece = fmt::format("[{} omitted: this model reads text only]", *type);
    } else {
      return field_error(field_path(part_path, "type"), "unknown content part type '{}'",
                         type.value_or(""));
    }
    if (!out.empty() && out.back() != '\n') out.push_back('\n');
    out += piece;
  }
  return out;
}

Result<std::vector<ChatToolCall>> read_tool_calls(const json::object& message,
                                                  std::string_view path) {
  std::vector<ChatToolCall> out;
  const json::value* calls = find_field(message, "tool_calls");
  if (calls == nullptr) return out;
  std::string calls_path = field_path(path, "tool_calls");
  if (!calls->is_array()) return type_error(calls_path, "an array", *calls);
  const json::array& array = calls->get_array();
  for (size_t i = 0; i < array.size(); ++i) {
    std::string call_path = index_path(calls_path, i);
    if (!array[i].is_object()) return type_error(call_path, "an object", array[i]);
    const json::object& call = array[i].get_object();
    ChatToolCall parsed;
    WAFER_ASSIGN_OR_RETURN(auto id, read_string(call, "id", call_path));
    parsed.id = id.value_or("");
    WAFER_ASSIGN_OR_RETURN(auto type, read_string(call, "type", call_path));
    std::string kind = type.value_or("function");
    std::string body_path = field_path(call_path, kind);
    const json::value* body = find_field(call, kind);
    if (body == nullptr || !body->is_object()) {
      return field_error(body_path, "required (an object)");
    }
    WAFER_ASSIGN_OR_RETURN(auto name, read_string(body->get_object(), "name", body_path));
    if (!name) return field_error(field_path(body_path, "name"), "required");
    parsed.name = std::move(*name);
    parsed.custom = kind == "custom";
    std::string_view args_key = parsed.custom ? "input" : "arguments";
    const json::value* args = find_field(body->get_object(), args_key);
    if (args != nullptr) {
      parsed.arguments = args->is_string() ? std::string(args->get_string()) : to_json_text(*args);
    }
    out.push_back(std::move(parsed));
  }
  return out;
}

Result<ChatMessageIn> parse_message(const json::value& value, std::string_view path) {
  if (!value.is_object()) return type_error(path, "an object", value);
  const json::object& object = value.get_object();
  ChatMessageIn m;
  WAFER_ASSIGN_OR_RETURN(auto role, read_string(object, "role", path));
  if (!role) return field_error(field_path(path, "role"), "required");
  static constexpr std::string_view kRoles[] = {"system", "developer", "user", "assistant",
                                                "tool", "function"};
  if (std::find(std::begin(kRoles), std::end(kRoles), *role) == std::end(kRoles)) {
    return field_error(field_path(path, "role"), "unknown role '{}'", *role);
  }
  m.role = std::move(*role);
  WAFER_ASSIGN_OR_RETURN(m.content, read_chat_content(object, path));
  WAFER_ASSIGN_OR_RETURN(m.tool_calls, read_tool_calls(object, path));
  WAFER_ASSIGN_OR_RETURN(auto tool_call_id, read_string(object, "tool_call_id", path));
  m.tool_call_id = tool_call_id.value_or("");
  WAFER_ASSIGN_OR_RETURN(auto name, read_string(object, "name", path));
  m.name = name.value_or("");
  return m;
}

Status parse_response_format(const json::object& body, ChatRequest* r) {
  const json::value* v = find_field(body, "response_format");
  if (v == nullptr) return {};
  if (!v->is_object()) return type_error("response_format", "an object", *v);
  WAFER_ASSIGN_OR_RETURN(auto type, read_string(v->get_object(), "type", "response_format"));
  std::string kind = type.value_or("text");
  if (kind == "text") return {};
  if (kind != "json_object" && kind != "json_schema") {
    return field_error("response_format.type",
                       "unknown format '{}' (expected text, json_object or json_schema)", kind);
  }
  r->json_response = true;
  if (kind == "json_schema") {
    const json::value* spec = find_field(v->get_object(), "json_schema");
    if (spec == nullptr || !spec->is_object()) {
      return field_error("response_format.json_schema", "required (an object)");
    }
    if (const json::value* schema = find_field(spec->get_object(), "schema")) {
      r->response_schema = *schema;
    }
    WAFER_ASSIGN_OR_RETURN(auto strict, read_bool(spec->get_object(), "strict", "response_format.json_schema"));
    r->response_schema_strict = strict.value_or(false);
  }
  return {};
}

Status parse_prediction(const json::object& body, ChatRequest* r) {
  const json::value* v = find_field(body, "prediction");
  if (v == nullptr) return {};
  if (!v->is_object()) return type_error("prediction", "an object", *v);
  const json::object& p = v->get_object();
  if (const json::value* content = find_field(p, "content")) {
    if (content->is_string()) {
      r->prediction = std::string(content->get_string());
      return {};
    }
    WAFER_ASSIGN_OR_RETURN(r->prediction, read_chat_content(p, "prediction"));
  }
  return {};
}

}  // namespace

Result<ChatRequest> parse_chat_request(std::string_view body_text) {
  WAFER_ASSIGN_OR_RETURN(json::object body, parse_json_object(body_text));
  ChatRequest r;
  WAFER_ASSIGN_OR_RETURN(auto model, read_string(body, "model", ""));
  r.model = model.value_or("");
  const json::value* messages = find_field(body, "messages");
  if (messages == nullptr) return field_error("messages", "required");
  if (!messages->is_array()) return type_error("messages", "an array", *messages);
  for (size_t i = 0; i < messages->get_array().size(); ++i) {
    WAFER_ASSIGN_OR_RETURN(ChatMessageIn m,
                           parse_message(messages->get_array()[i], index_path("messages", i)));
    r.messages.push_back(std::move(m));
  }
  if (const json::value* tools = find_field(body, "tools")) {
    WAFER_ASSIGN_OR_RETURN(r.tools, parse_chat_tools(*tools, "tools"));
  }
  if (const json::value* choice = find_field(body, "tool_choice")) {
    WAFER_ASSIGN_OR_RETURN(r.tool_choice, parse_tool_choice(*choice, "tool_choice"));
  }
  WAFER_ASSIGN_OR_RETURN(auto parallel, read_bool(body, "parallel_tool_calls", ""));
  r.parallel_tool_calls = parallel.value_or(true);
  GenerationFields generation;
  WAFER_RETURN_IF_ERROR(read_generation_fields(body, &generation));
  r.sampling = std::move(generation.sampling);
  r.stop = std::move(generation.stop);
  r.stream = generation.stream;
  r.include_usage = generation.include_usage;
  r.cache_prompt = generation.cache_prompt;
  WAFER_ASSIGN_OR_RETURN(auto max_completion, read_int(body, "max_completion_tokens", ""));
  WAFER_ASSIGN_OR_RETURN(auto max_tokens, read_int(body, "max_tokens", ""));
  r.max_tokens = max_completion ? max_completion : max_tokens;
  if (r.max_tokens && *r.max_tokens < 1) {
    return field_error(max_completion ? "max_completion_tokens" : "max_tokens",
                       "must be at least 1, got {}", *r.max_tokens);
  }
  WAFER_RETURN_IF_ERROR(parse_response_format(body, &r));
  WAFER_RETURN_IF_ERROR(parse_prediction(body, &r));
  WAFER_ASSIGN_OR_RETURN(auto logprobs, read_bool(body, "logprobs", ""));
  if (logprobs.value_or(false)) return field_error("logprobs", "not supported by this server");
  return r;
}

Conversation chat_conversation(const ChatRequest& request) {
  Conversation c;
  std::string system;
  bool leading = true;
  std::unordered_map<std::string, std::string> call_names;
  for (const ChatMessageIn& m : request.messages) {
    if (m.role == "system" || m.role == "developer") {
      if (leading) {
        if (!system.empty()) system += "\n\n";
        system += m.content;
      } else {
        c.messages.push_back({ConvMessage::Role::kSystem, m.content, {}, ""});
      }
      continue;
    }
    leading = false;
    if (m.role == "tool" || m.role == "function") {
      auto it = call_names.find(m.tool_call_id);
      std::string name = it != call_names.end() ? it->second : m.name;
      c.messages.push_back({ConvMessage::Role::kTool, m.content, {}, name});
    } else if (m.role == "assistant") {
      ConvMessage out{ConvMessage::Role::kAssistant, m.content, {}, ""};
      for (const ChatToolCall& call : m.tool_calls) {
        call_names[call.id] = call.name;
        auto tool = std::find_if(request.tools.begin(), request.tools.end(),
                                 [&](const Tool& t) { return t.name == call.name; });
        bool custom =
            call.custom || (tool != request.tools.end() && tool->kind == Tool::Kind::kCustom);
        out.tool_calls.push_back({call.name, call.arguments, custom});
      }
      c.messages.push_back(std::move(out));
    } else {
      c.messages.push_back({ConvMessage::Role::kUser, m.content, {}, ""});
    }
  }
  if (!system.empty()) {
    c.messages.insert(c.messages.begin(), {ConvMessage::Role::kSystem, system, {}, ""});
  }
  set_tools(request.tools, request.tool_choice, &c);
  return c;
}

}  // namespace wafer::api
