// Responses input/output items: parsing, JSON, and their rendering as a conversation.
#include <algorithm>

#include "api/json_read.h"
#include "api/responses.h"

namespace wafer::api {

namespace json = boost::json;

namespace {

constexpr std::string_view kImageNote = "[image omitted: this model reads text only]";

// Item kinds in the SDK's input union that wafer accepts but does not show the model.
constexpr std::string_view kOtherKinds[] = {
    "item_reference", "web_search_call", "file_search_call", "computer_call",
    "computer_call_output", "local_shell_call", "local_shell_call_output", "shell_call",
    "shell_call_output", "apply_patch_call", "apply_patch_call_output", "mcp_list_tools",
    "mcp_approval_request", "mcp_approval_response", "mcp_call", "image_generation_call",
    "code_interpreter_call", "compaction", "tool_search_call", "tool_search_output",
    "additional_tools"};

void append_part(std::string_view text, std::string* out) {
  if (!out->empty() && out->back() != '\n') out->push_back('\n');
  *out += text;
}

// Content: a string, or an array of parts. Text parts are joined (newline between them);
// images and files leave a note, since the model reads text only.
Status read_content(const json::value& content, std::string_view path, ResponseItem* item) {
  if (content.is_string()) {
    item->text = std::string(content.get_string());
    return {};
  }
  if (!content.is_array()) return type_error(path, "a string or an array of parts", content);
  const json::array& parts = content.get_array();
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string part_path = index_path(path, i);
    if (!parts[i].is_object()) return type_error(part_path, "an object", parts[i]);
    const json::object& part = parts[i].get_object();
    WAFER_ASSIGN_OR_RETURN(auto type, read_string(part, "type", part_path));
    if (!type) return field_error(field_path(part_path, "type"), "required");
    if (*type == "input_text" || *type == "output_text" || *type == "text" ||
        *type == "summary_text" || *type == "reasoning_text" || *type == "refusal") {
      std::string_view key = *type == "refusal" ? "refusal" : "text";
      WAFER_ASSIGN_OR_RETURN(auto text, read_string(part, key, part_path));
      if (!text) return field_error(field_path(part_path, key), "required");
      append_part(*text, &item->text);
    } else if (*type == "input_image") {
      ++item->num_images;
      append_part(kImageNote, &item->text);
    } else if (*type == "input_file") {
      WAFER_ASSIGN_OR_RETURN(auto filename, read_string(part, "filename", part_path));
      append_part(fmt::format("[file omitted: {}]", filename.value_or("unnamed")), &item->text);
    } else if (*type == "input_audio") {
      append_part("[audio omitted]", &item->text);
    } else {
      return field_error(field_path(part_path, "type"), "unknown content part type '{}'", *type);
    }
  }
  return {};
}

Result<std::string> required_string(const json::object& object, std::string_view key,
                                    std::string_view path) {
  WAFER_ASSIGN_OR_RETURN(auto value, read_string(object, key, path));
  if (!value) return field_error(field_path(path, key), "required");
  return std::move(*value);
}

Status parse_message(const json::object& object, std::string_view path, ResponseItem* item) {
  item->kind = ResponseItem::Kind::kMessage;
  WAFER_ASSIGN_OR_RETURN(item->role, required_string(object, "role", path));
  static constexpr std::string_view kRoles[] = {"system", "developer", "user", "assistant"};
  if (std::find(std::begin(kRoles), std::end(kRoles), item->role) == std::end(kRoles)) {
    return field_error(field_path(path, "role"),
                       "unknown role '{}' (expected system, developer, user or assistant)",
                       item->role);
  }
  const json::value* content = find_field(object, "content");
  if (content == nullptr) return field_error(field_path(path, "content"), "required");
  return read_content(*content, field_path(path, "content"), item);
}

Status parse_call(const json::object& object, std::string_view path, ResponseItem* item) {
  WAFER_ASSIGN_OR_RETURN(item->call_id, required_string(object, "call_id", path));
  WAFER_ASSIGN_OR_RETURN(item->name, required_string(object, "name", path));
  WAFER_ASSIGN_OR_RETURN(auto ns, read_string(object, "namespace", path));
  item->namespace_name = ns.value_or("");
  if (item->kind == ResponseItem::Kind::kCustomToolCall) {
    WAFER_ASSIGN_OR_RETURN(item->text, required_string(object, "input", path));
    return {};
  }
  const json::value* args = find_field(object, "arguments");
  if (args == nullptr) return field_error(field_path(path, "arguments"), "required");
  item->arguments = args->is_string() ? std::string(args->get_string()) : to_json_text(*args);
  return {};
}

Status parse_call_output(const json::object& object, std::string_view path, ResponseItem* item) {
  WAFER_ASSIGN_OR_RETURN(item->call_id, required_string(object, "call_id", path));
  const json::value* output = find_field(object, "output");
  if (output == nullptr) return {};  // an empty result
  return read_content(*output, field_path(path, "output"), item);
}

Status parse_reasoning(const json::object& object, std::string_view path, ResponseItem* item) {
  if (const json::value* summary = find_field(object, "summary")) {
    ResponseItem parts;
    WAFER_RETURN_IF_ERROR(read_content(*summary, field_path(path, "summary"), &parts));
    item->summary = std::move(parts.text);
  }
  if (const json::value* content = find_field(object, "content")) {
    WAFER_RETURN_IF_ERROR(read_content(*content, field_path(path, "content"), item));
  }
  WAFER_ASSIGN_OR_RETURN(auto encrypted, read_string(object, "encrypted_content", path));
  item->encrypted_content = encrypted.value_or("");
  return {};
}

}  // namespace

Result<ResponseItem> parse_input_item(const json::value& value, std::string_view path) {
  if (!value.is_object()) return type_error(path, "an object", value);
  const json::object& object = value.get_object();
  ResponseItem item;
  WAFER_ASSIGN_OR_RETURN(auto type, read_string(object, "type", path));
  WAFER_ASSIGN_OR_RETURN(auto id, read_string(object, "id", path));
  WAFER_ASSIGN_OR_RETURN(auto status, read_string(object, "status", path));
  item.type = type.value_or("message");
  item.id = id.value_or("");
  item.status = status.value_or("");
  const std::string& t = item.type;
  if (t == "message") {
    WAFER_RETURN_IF_ERROR(parse_message(object, path, &item));
  } else if (t == "function_call" || t == "custom_tool_call") {
    item.kind = t == "function_call" ? ResponseItem::Kind::kFunctionCall
                                     : ResponseItem::Kind::kCustomToolCall;
    WAFER_RETURN_IF_ERROR(parse_call(object, path, &item));
  } else if (t == "function_call_output" || t == "custom_tool_call_output") {
    item.kind = t == "function_call_output" ? ResponseItem::Kind::kFunctionCallOutput
                                            : ResponseItem::Kind::kCustomToolCallOutput;
    WAFER_RETURN_IF_ERROR(parse_call_output(object, path, &item));
  } else if (t == "reasoning") {
    item.kind = ResponseItem::Kind::kReasoning;
    WAFER_RETURN_IF_ERROR(parse_reasoning(object, path, &item));
  } else if (std::find(std::begin(kOtherKinds), std::end(kOtherKinds), t) !=
             std::end(kOtherKinds)) {
    item.kind = ResponseItem::Kind::kOther;
  } else {
    return field_error(field_path(path, "type"), "unknown item type '{}'", t);
  }
  return item;
}

json::object item_to_json(const ResponseItem& item) {
  json::object out;
  if (!item.id.empty()) out["id"] = item.id;
  out["type"] = item.type;
  if (!item.status.empty()) out["status"] = item.status;
  switch (item.kind) {
    case ResponseItem::Kind::kMessage: {
      bool assistant = item.role == "assistant";
      json::object part{{"type", assistant ? "output_text" : "input_text"}, {"text", item.text}};
      if (assistant) {
        part["annotations"] = json::array();
        part["logprobs"] = json::array();
      }
      out["role"] = item.role;
      out["content"] = json::array{std::move(part)};
      break;
    }
    case ResponseItem::Kind::kFunctionCall:
      out["name"] = item.name;
      if (!item.namespace_name.empty()) out["namespace"] = item.namespace_name;
      out["call_id"] = item.call_id;
      out["arguments"] = item.arguments;
      break;
    case ResponseItem::Kind::kCustomToolCall:
      out["name"] = item.name;
      out["call_id"] = item.call_id;
      out["input"] = item.text;
      break;
    case ResponseItem::Kind::kFunctionCallOutput:
    case ResponseItem::Kind::kCustomToolCallOutput:
      out["call_id"] = item.call_id;
      out["output"] = item.text;
      break;
    case ResponseItem::Kind::kReasoning: {
      json::array summary;
      if (!item.summary.empty()) {
        summary.push_back(json::object{{"type", "summary_text"}, {"text", item.summary}});
      }
      out["summary"] = std::move(summary);
      json::array content;
      if (!item.text.empty()) {
        content.push_back(json::object{{"type", "reasoning_text"}, {"text", item.text}});
      }
      out["content"] = std::move(content);
      if (!item.encrypted_content.empty()) out["encrypted_content"] = item.encrypted_content;
      break;
    }
    case ResponseItem::Kind::kOther: break;
  }
  return out;
}

}  // namespace wafer::api
