// Parsing the tools and tool_choice of Responses and Chat requests.
#include "api/tools.h"

#include <algorithm>

#include "api/json_read.h"

namespace wafer::api {

namespace json = boost::json;

std::string Tool::model_name() const {
  if (namespace_name.empty()) return name;
  return fmt::format("{}.{}", namespace_name, name);
}

namespace {

Result<const json::object*> as_object(const json::value& value, std::string_view path) {
  if (!value.is_object()) return type_error(path, "an object", value);
  return &value.get_object();
}

Result<const json::array*> as_array(const json::value& value, std::string_view path) {
  if (!value.is_array()) return type_error(path, "an array", value);
  return &value.get_array();
}

Result<std::string> required_name(const json::object& object, std::string_view path) {
  WAFER_ASSIGN_OR_RETURN(std::optional<std::string> name, read_string(object, "name", path));
  if (!name || name->empty()) return field_error(field_path(path, "name"), "required");
  return std::move(*name);
}

// {name, description?, parameters?, strict?} (Responses function, or Chat's "function").
Result<Tool> parse_function_body(const json::object& object, std::string_view path) {
  Tool tool;
  tool.kind = Tool::Kind::kFunction;
  WAFER_ASSIGN_OR_RETURN(tool.name, required_name(object, path));
  WAFER_ASSIGN_OR_RETURN(auto description, read_string(object, "description", path));
  tool.description = description.value_or("");
  if (const json::value* p = find_field(object, "parameters")) {
    if (!p->is_object()) return type_error(field_path(path, "parameters"), "an object", *p);
    tool.parameters = *p;
  }
  WAFER_ASSIGN_OR_RETURN(auto strict, read_bool(object, "strict", path));
  tool.strict = strict.value_or(false);
  return tool;
}

// {name, description?, format?}
Result<Tool> parse_custom_body(const json::object& object, std::string_view path) {
  Tool tool;
  tool.kind = Tool::Kind::kCustom;
  WAFER_ASSIGN_OR_RETURN(tool.name, required_name(object, path));
  WAFER_ASSIGN_OR_RETURN(auto description, read_string(object, "description", path));
  tool.description = description.value_or("");
  if (const json::value* f = find_field(object, "format")) {
    if (!f->is_object()) return type_error(field_path(path, "format"), "an object", *f);
    tool.format = *f;
  }
  return tool;
}

Status parse_responses_tool(const json::value& value, std::string_view path,
                            std::string_view namespace_name, std::vector<Tool>* out) {
  WAFER_ASSIGN_OR_RETURN(const json::object* object, as_object(value, path));
  WAFER_ASSIGN_OR_RETURN(std::optional<std::string> type, read_string(*object, "type", path));
  if (!type) return field_error(field_path(path, "type"), "required");
  if (*type == "function" || *type == "custom") {
    Result<Tool> tool = *type == "function" ? parse_function_body(*object, path)
                                            : parse_custom_body(*object, path);
    if (!tool.ok()) return tool.take_error();
    tool->namespace_name = std::string(namespace_name);
    out->push_back(std::move(tool).value());
    return {};
  }
  if (*type == "namespace") {
    if (!namespace_name.empty()) {
      return field_error(field_path(path, "type"), "namespaces cannot nest");
    }
    WAFER_ASSIGN_OR_RETURN(std::string name, required_name(*object, path));
    const json::value* tools = find_field(*object, "tools");
    if (tools == nullptr) return {};
    std::string tools_path = field_path(path, "tools");
    WAFER_ASSIGN_OR_RETURN(const json::array* array, as_array(*tools, tools_path));
    for (size_t i = 0; i < array->size(); ++i) {
      WAFER_RETURN_IF_ERROR(
          parse_responses_tool((*array)[i], index_path(tools_path, i), name, out));
    }
    return {};
  }
  // Hosted tools (web_search, tool_search, file_search, mcp, ...) run at the API provider;
  // wafer cannot run them, so they are accepted and not shown to the model.
  return {};
}

}  // namespace

Result<std::vector<Tool>> parse_responses_tools(const json::value& tools, std::string_view path) {
  std::vector<Tool> out;
  if (tools.is_null()) return out;
  WAFER_ASSIGN_OR_RETURN(const json::array* array, as_array(tools, path));
  for (size_t i = 0; i < array->size(); ++i) {
    WAFER_RETURN_IF_ERROR(parse_responses_tool((*array)[i], index_path(path, i), "", &out));
  }
  return out;
}

Result<std::vector<Tool>> parse_chat_tools(const json::value& tools, std::string_view path) {
  std::vector<Tool> out;
  if (tools.is_null()) return out;
  WAFER_ASSIGN_OR_RETURN(const json::array* array, as_array(tools, path));
  for (size_t i = 0; i < array->size(); ++i) {
    std::string item_path = index_path(path, i);
    WAFER_ASSIGN_OR_RETURN(const json::object* object, as_object((*array)[i], item_path));
    WAFER_ASSIGN_OR_RETURN(auto type, read_string(*object, "type", item_path));
    std::string kind = type.value_or("function");
    if (kind != "function" && kind != "custom") {
      return field_error(field_path(item_path, "type"),
                         "unknown tool type '{}' (expected function or custom)", kind);
    }
    std::string body_path = field_path(item_path, kind);
    const json::value* body = find_field(*object, kind);
    if (body == nullptr) return field_error(body_path, "required");
    WAFER_ASSIGN_OR_RETURN(const json::object* body_object, as_object(*body, body_path));
    Result<Tool> tool = kind == "function" ? parse_function_body(*body_object, body_path)
                                           : parse_custom_body(*body_object, body_path);
    if (!tool.ok()) return tool.take_error();
    out.push_back(std::move(tool).value());
  }
  return out;
}

namespace {

// A tool named by {type:"function", name} or {type:"function", function:{name}}.
Result<std::string> named_tool(const json::object& object, std::string_view path) {
  WAFER_ASSIGN_OR_RETURN(auto name, read_string(object, "name", path));
  if (name) return std::move(*name);
  for (std::string_view key : {"function", "custom"}) {
    if (const json::value* inner = find_field(object, key)) {
      std::string inner_path = field_path(path, key);
      WAFER_ASSIGN_OR_RETURN(const json::object* inner_object, as_object(*inner, inner_path));
      return required_name(*inner_object, inner_path);
    }
  }
  return field_error(field_path(path, "name"), "required");
}

}  // namespace

Result<ToolChoice> parse_tool_choice(const json::value& choice, std::string_view path) {
  ToolChoice out;
  if (choice.is_null()) return out;
  if (choice.is_string()) {
    std::string_view mode = choice.get_string();
    if (mode == "auto") return out;
    if (mode == "none") out.mode = ToolChoice::Mode::kNone;
    else if (mode == "required") out.mode = ToolChoice::Mode::kRequired;
    else return field_error(path, "unknown value '{}' (expected none, auto or required)", mode);
    return out;
  }
  WAFER_ASSIGN_OR_RETURN(const json::object* object, as_object(choice, path));
  WAFER_ASSIGN_OR_RETURN(auto type, read_string(*object, "type", path));
  if (!type) return field_error(field_path(path, "type"), "required");
  if (*type == "function" || *type == "custom") {
    WAFER_ASSIGN_OR_RETURN(std::string name, named_tool(*object, path));
    out.mode = ToolChoice::Mode::kRequired;
    out.allowed.push_back(std::move(name));
    return out;
  }
  if (*type == "allowed_tools") {
    WAFER_ASSIGN_OR_RETURN(auto mode, read_string(*object, "mode", path));
    if (mode && *mode == "required") out.mode = ToolChoice::Mode::kRequired;
    else if (mode && *mode != "auto") {
      return field_error(field_path(path, "mode"), "unknown value '{}' (expected auto or "
                         "required)", *mode);
    }
    std::string tools_path = field_path(path, "tools");
    const json::value* tools = find_field(*object, "tools");
    if (tools == nullptr) return field_error(tools_path, "required");
    WAFER_ASSIGN_OR_RETURN(const json::array* array, as_array(*tools, tools_path));
    for (size_t i = 0; i < array->size(); ++i) {
      std::string item_path = index_path(tools_path, i);
      WAFER_ASSIGN_OR_RETURN(const json::object* item, as_object((*array)[i], item_path));
      WAFER_ASSIGN_OR_RETURN(auto item_type, read_string(*item, "type", item_path));
      if (item_type && *item_type != "function" && *item_type != "custom") continue;  // hosted
      WAFER_ASSIGN_OR_RETURN(std::string name, named_tool(*item, item_path));
      out.allowed.push_back(std::move(name));
    }
    return out;
  }
  return out;  // a hosted-tool selector ({type:"web_search"}): nothing wafer can force
}

std::vector<Tool> tools_for_prompt(const std::vector<Tool>& tools, const ToolChoice& choice) {
  if (choice.mode == ToolChoice::Mode::kNone) return {};
  if (choice.allowed.empty()) return tools;
  std::vector<Tool> out;
  for (const Tool& tool : tools) {
    bool allowed = std::find_if(choice.allowed.begin(), choice.allowed.end(),
                                [&](const std::string& n) {
                                  return n == tool.name || n == tool.model_name();
                                }) != choice.allowed.end();
    if (allowed) out.push_back(tool);
  }
  return out;
}

}  // namespace wafer::api
