// POST /v1/responses and WebSocket response.create: body -> ResponsesRequest -> Conversation.
#include "api/responses.h"

#include <unordered_map>

#include "api/json_read.h"

namespace wafer::api {

namespace json = boost::json;

namespace {

Status parse_input(const json::object& body, ResponsesRequest* request) {
  const json::value* input = find_field(body, "input");
  if (input == nullptr) return {};
  if (input->is_string()) {
    ResponseItem item;
    item.type = "message";
    item.role = "user";
    item.text = std::string(input->get_string());
    request->input.push_back(std::move(item));
    return {};
  }
  if (!input->is_array()) return type_error("input", "a string or an array of items", *input);
  const json::array& items = input->get_array();
  for (size_t i = 0; i < items.size(); ++i) {
    WAFER_ASSIGN_OR_RETURN(ResponseItem item, parse_input_item(items[i], index_path("input", i)));
    request->input.push_back(std::move(item));
  }
  return {};
}

Status parse_text_format(const json::object& body, ResponsesRequest* request) {
  const json::value* text = find_field(body, "text");
  if (text == nullptr) return {};
  if (!text->is_object()) return type_error("text", "an object", *text);
  request->text_json = *text;
  const json::value* format = find_field(text->get_object(), "format");
  if (format == nullptr) return {};
  if (!format->is_object()) return type_error("text.format", "an object", *format);
  const json::object& f = format->get_object();
  WAFER_ASSIGN_OR_RETURN(auto type, read_string(f, "type", "text.format"));
  std::string kind = type.value_or("text");
  TextFormat& out = request->text_format;
  if (kind == "text") return {};
  if (kind == "json_object") {
    out.kind = TextFormat::Kind::kJsonObject;
    return {};
  }
  if (kind != "json_schema") {
    return field_error("text.format.type",
                       "unknown format '{}' (expected text, json_object or json_schema)", kind);
  }
  out.kind = TextFormat::Kind::kJsonSchema;
  WAFER_ASSIGN_OR_RETURN(auto name, read_string(f, "name", "text.format"));
  out.name = name.value_or("");
  const json::value* schema = find_field(f, "schema");
  if (schema == nullptr) return field_error("text.format.schema", "required");
  if (!schema->is_object()) return type_error("text.format.schema", "an object", *schema);
  out.schema = *schema;
  WAFER_ASSIGN_OR_RETURN(auto strict, read_bool(f, "strict", "text.format"));
  out.strict = strict.value_or(false);
  return {};
}

// Fields echoed back as sent; they must at least have the right JSON type.
Status read_echo_object(const json::object& body, std::string_view key, json::value* out) {
  const json::value* v = find_field(body, key);
  if (v == nullptr) return {};
  if (!v->is_object()) return type_error(key, "an object", *v);
  *out = *v;
  return {};
}

Status check_string_array(const json::object& body, std::string_view key) {
  const json::value* v = find_field(body, key);
  if (v == nullptr) return {};
  if (!v->is_array()) return type_error(key, "an array of strings", *v);
  const json::array& array = v->get_array();
  for (size_t i = 0; i < array.size(); ++i) {
    if (!array[i].is_string()) return type_error(index_path(key, i), "a string", array[i]);
  }
  return {};
}

Result<ResponsesRequest> parse_request_object(const json::object& body) {
  ResponsesRequest r;
  WAFER_ASSIGN_OR_RETURN(auto model, read_string(body, "model", ""));
  r.model = model.value_or("");
  WAFER_ASSIGN_OR_RETURN(r.instructions, read_string(body, "instructions", ""));
  WAFER_RETURN_IF_ERROR(parse_input(body, &r));
  if (const json::value* tools = find_field(body, "tools")) {
    WAFER_ASSIGN_OR_RETURN(r.tools, parse_responses_tools(*tools, "tools"));
    r.tools_json = *tools;
  }
  if (const json::value* choice = find_field(body, "tool_choice")) {
    WAFER_ASSIGN_OR_RETURN(r.tool_choice, parse_tool_choice(*choice, "tool_choice"));
    r.tool_choice_json = *choice;
  }
  WAFER_ASSIGN_OR_RETURN(auto parallel, read_bool(body, "parallel_tool_calls", ""));
  r.parallel_tool_calls = parallel.value_or(true);
  WAFER_ASSIGN_OR_RETURN(auto stream, read_bool(body, "stream", ""));
  r.stream = stream.value_or(false);
  WAFER_ASSIGN_OR_RETURN(auto store, read_bool(body, "store", ""));
  r.store = store.value_or(true);
  WAFER_ASSIGN_OR_RETURN(auto previous, read_string(body, "previous_response_id", ""));
  r.previous_response_id = previous.value_or("");
  WAFER_ASSIGN_OR_RETURN(r.max_output_tokens, read_int(body, "max_output_tokens", ""));
  if (r.max_output_tokens && *r.max_output_tokens < 1) {
    return field_error("max_output_tokens", "must be at least 1, got {}", *r.max_output_tokens);
  }
  WAFER_ASSIGN_OR_RETURN(r.sampling.temperature, read_number(body, "temperature", ""));
  WAFER_ASSIGN_OR_RETURN(r.sampling.top_p, read_number(body, "top_p", ""));
  WAFER_RETURN_IF_ERROR(parse_text_format(body, &r));
  WAFER_ASSIGN_OR_RETURN(auto cache_key, read_string(body, "prompt_cache_key", ""));
  r.prompt_cache_key = cache_key.value_or("");
  WAFER_ASSIGN_OR_RETURN(auto cache_prompt, read_bool(body, "cache_prompt", ""));
  r.cache_prompt = cache_prompt.value_or(true);
  // Chat Completions' predicted output, accepted here too: {type:"content", content:"..."}.
  if (const json::value* prediction = find_field(body, "prediction")) {
    if (!prediction->is_object()) return type_error("prediction", "an object", *prediction);
    WAFER_ASSIGN_OR_RETURN(auto content, read_string(prediction->get_object(), "content", "prediction"));
    r.prediction = content.value_or("");
  }
  WAFER_ASSIGN_OR_RETURN(auto truncation, read_string(body, "truncation", ""));
  if (truncation && *truncation != "auto" && *truncation != "disabled") {
    return field_error("truncation", "unknown value '{}' (expected auto or disabled)",
                       *truncation);
  }
  r.truncation_auto = truncation && *truncation == "auto";
  WAFER_RETURN_IF_ERROR(read_echo_object(body, "reasoning", &r.reasoning_json));
  WAFER_RETURN_IF_ERROR(read_echo_object(body, "metadata", &r.metadata_json));
  WAFER_RETURN_IF_ERROR(check_string_array(body, "include"));
  return r;
}

}  // namespace

Result<ResponsesRequest> parse_responses_request(std::string_view body) {
  WAFER_ASSIGN_OR_RETURN(json::object object, parse_json_object(body));
  return parse_request_object(object);
}

Result<WsClientMessage> parse_ws_client_message(std::string_view frame) {
  WAFER_ASSIGN_OR_RETURN(json::object object, parse_json_object(frame));
  WAFER_ASSIGN_OR_RETURN(auto type, read_string(object, "type", ""));
  if (!type) return field_error("type", "required (response.create or response.steer)");
  WsClientMessage message;
  if (*type == "response.create") {
    WAFER_ASSIGN_OR_RETURN(message.create, parse_request_object(object));
    message.create.stream = true;  // implied on a socket, whatever the client sent
    WAFER_ASSIGN_OR_RETURN(auto generate, read_bool(object, "generate", ""));
    message.create.generate = generate.value_or(true);
    WAFER_ASSIGN_OR_RETURN(auto stream_id, read_string(object, "stream_id", ""));
    message.create.stream_id = stream_id.value_or("");
    return message;
  }
  if (*type == "response.steer") {
    message.kind = WsClientMessage::Kind::kSteer;
    WAFER_ASSIGN_OR_RETURN(auto previous, read_string(object, "previous_response_id", ""));
    message.steer_previous_response_id = previous.value_or("");
    if (const json::value* input = find_field(object, "input")) message.steer_input = *input;
    return message;
  }
  return field_error("type", "unknown client event '{}' (expected response.create or "
                     "response.steer)", *type);
}

Conversation responses_conversation(const ResponsesRequest& request,
                                    const std::vector<ResponseItem>& history) {
  Conversation c;
  std::string system = request.instructions.value_or("");
  bool leading = true;  // no user/assistant turn yet: system text joins the system prompt
  std::unordered_map<std::string, std::string> call_names;
  auto add_call = [&](ConvToolCall call) {
    leading = false;
    if (c.messages.empty() || c.messages.back().role != ConvMessage::Role::kAssistant) {
      c.messages.push_back({ConvMessage::Role::kAssistant, "", {}, ""});
    }
    c.messages.back().tool_calls.push_back(std::move(call));
  };
  auto visit = [&](const ResponseItem& item) {
    switch (item.kind) {
      case ResponseItem::Kind::kMessage:
        if (item.role == "system" || item.role == "developer") {
          if (leading) {
            if (!system.empty()) system += "\n\n";
            system += item.text;
          } else {
            c.messages.push_back({ConvMessage::Role::kSystem, item.text, {}, ""});
          }
        } else {
          leading = false;
          auto role = item.role == "assistant" ? ConvMessage::Role::kAssistant
                                               : ConvMessage::Role::kUser;
          c.messages.push_back({role, item.text, {}, ""});
        }
        break;
      case ResponseItem::Kind::kFunctionCall:
      case ResponseItem::Kind::kCustomToolCall: {
        bool custom = item.kind == ResponseItem::Kind::kCustomToolCall;
        std::string name = item.namespace_name.empty()
                               ? item.name
                               : fmt::format("{}.{}", item.namespace_name, item.name);
        call_names[item.call_id] = name;
        add_call({name, custom ? item.text : item.arguments, custom});
        break;
      }
      case ResponseItem::Kind::kFunctionCallOutput:
      case ResponseItem::Kind::kCustomToolCallOutput: {
        leading = false;
        auto it = call_names.find(item.call_id);
        c.messages.push_back({ConvMessage::Role::kTool, item.text, {},
                              it == call_names.end() ? std::string() : it->second});
        break;
      }
      case ResponseItem::Kind::kReasoning:
      case ResponseItem::Kind::kOther: break;
    }
  };
  for (const ResponseItem& item : history) visit(item);
  for (const ResponseItem& item : request.input) visit(item);
  if (!system.empty()) {
    c.messages.insert(c.messages.begin(), {ConvMessage::Role::kSystem, system, {}, ""});
  }
  set_tools(request.tools, request.tool_choice, &c);
  return c;
}

}  // namespace wafer::api
