// Stored context: items go through api::item_to_json on the way in and through the request
// parser on the way out, so a stored history reads exactly like input a client replays.
#include "server/stored_context.h"

namespace wafer::server {

namespace json = boost::json;

std::string context_to_json(const std::vector<api::ResponseItem>& input, const api::ResponsesRequest& request) {
  json::array items;
  items.reserve(input.size());
  for (const api::ResponseItem& item : input) items.emplace_back(api::item_to_json(item));
  json::object context;
  context["input"] = std::move(items);
  context["instructions"] = request.instructions ? json::value(*request.instructions) : json::value(nullptr);
  context["tools"] = request.tools_json;
  return json::serialize(context);
}

namespace {

Result<json::value> parse_json(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) return make_error(ErrorCode::kCorrupt, "stored {} is not a JSON object", what);
  return value;
}

}  // namespace

Result<json::array> stored_input_items(std::string_view context_json) {
  WAFER_ASSIGN_OR_RETURN(json::value context, parse_json(context_json, "context"));
  const json::value* input = context.as_object().if_contains("input");
  if (input == nullptr || !input->is_array()) return make_error(ErrorCode::kCorrupt, "stored context has no input array");
  return input->as_array();
}

Result<std::vector<api::ResponseItem>> history_from_stored(std::string_view context_json,
                                                           std::string_view response_json) {
  WAFER_ASSIGN_OR_RETURN(json::array input, stored_input_items(context_json));
  WAFER_ASSIGN_OR_RETURN(json::value response, parse_json(response_json, "response"));
  std::vector<api::ResponseItem> items;
  auto add = [&](const json::array& array, std::string_view what) -> Status {
    for (size_t i = 0; i < array.size(); ++i) {
      auto item = api::parse_input_item(array[i], fmt::format("{}[{}]", what, i));
      if (!item.ok()) return make_error(ErrorCode::kCorrupt, "stored response: {}", item.error().message);
      items.push_back(std::move(*item));
    }
    return {};
  };
  WAFER_RETURN_IF_ERROR(add(input, "input"));
  if (const json::value* output = response.as_object().if_contains("output"); output && output->is_array())
    WAFER_RETURN_IF_ERROR(add(output->as_array(), "output"));
  return items;
}

}  // namespace wafer::server
