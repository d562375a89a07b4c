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
  WAFER_ASSIGN_OR_RETURN(json::array items, stored_input_items(context_json));
  WAFER_ASSIGN_OR_RETURN(json::value response, parse_json(response_json, "response"));
  if (const json::value* output = response.as_object().if_contains("output"); output && output->is_array())
    for (const json::value& item : output->as_array()) items.push_back(item);
  json::object body;
  body["input"] = std::move(items);
  auto parsed = api::parse_responses_request(json::serialize(body));
  if (!parsed.ok())
    return make_error(ErrorCode::kCorrupt, "stored response context does not parse: {}", parsed.error().message);
  return std::move(parsed->input);
}

}  // namespace wafer::server
