// The Responses event sequence and Response object, built from output events.
#include "api/responses_stream.h"

#include "base/check.h"

namespace wafer::api {

namespace json = boost::json;

namespace {

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

json::value or_null(const json::value& v) { return v; }

json::object content_part(std::string_view text) {
  return json::object{{"type", "output_text"}, {"text", text}, {"annotations", json::array()},
                      {"logprobs", json::array()}};
}

}  // namespace

boost::json::object usage_to_json(const Usage& usage) {
  return json::object{
      {"input_tokens", usage.prompt_tokens},
      {"input_tokens_details", json::object{{"cached_tokens", usage.cached_tokens}}},
      {"output_tokens", usage.completion_tokens},
      {"output_tokens_details", json::object{{"reasoning_tokens", 0}}},
      {"total_tokens", usage.prompt_tokens + usage.completion_tokens}};
}

ResponseStreamWriter::ResponseStreamWriter(const ResponsesRequest& request, std::string model_id,
                                           IdGenerator ids, int64_t created_at)
    : request_(request), model_id_(std::move(model_id)), ids_(std::move(ids)),
      created_at_(created_at) {
  request_.input.clear();  // only settings are echoed
  id_ = ids_("resp_");
  // ",key:value..." for a run of fields, in the order given.
  auto fields = [](json::object o) {
    std::string text = json::serialize(o);  // {...}
    return o.empty() ? std::string() : "," + text.substr(1, text.size() - 2);
  };
  const ResponsesRequest& q = request_;
  settings_before_output_ = fields(json::object{
      {"instructions", q.instructions ? json::value(*q.instructions) : nullptr},
      {"max_output_tokens", q.max_output_tokens ? json::value(*q.max_output_tokens) : nullptr},
      {"model", model_id_}});
  settings_before_usage_ = fields(json::object{
      {"parallel_tool_calls", q.parallel_tool_calls},
      {"previous_response_id",
       q.previous_response_id.empty() ? json::value(nullptr) : json::value(q.previous_response_id)},
      {"reasoning", or_null(q.reasoning_json)},
      {"store", q.store},
      {"temperature", q.sampling.temperature.value_or(1.0)},
      {"text", q.text_json.is_null() ? json::value(json::object{{"format", json::object{{"type", "text"}}}})
                                     : q.text_json},
      {"tool_choice", q.tool_choice_json.is_null() ? json::value("auto") : q.tool_choice_json},
      {"tools", q.tools_json.is_null() ? json::value(json::array()) : q.tools_json},
      {"top_p", q.sampling.top_p.value_or(1.0)},
      {"truncation", q.truncation_auto ? "auto" : "disabled"}});
  settings_after_usage_ = fields(json::object{
      {"metadata", q.metadata_json.is_null() ? json::value(json::object()) : q.metadata_json}});
}

json::object ResponseStreamWriter::response_object() const { return json::parse(response_json()).as_object(); }

std::string ResponseStreamWriter::response_json() const {
  if (ended_) return final_json_;
  json::array output;
  for (const ResponseItem& item : output_) output.push_back(item_to_json(item));
  std::string r = "{\"id\":";
  r += json::serialize(json::value(id_));
  r += ",\"object\":\"response\",\"created_at\":";
  r += json::serialize(json::value(created_at_));
  r += ",\"status\":";
  r += json::serialize(json::value(status_));
  r += ",\"error\":";
  r += json::serialize(error_);
  r += ",\"incomplete_details\":";
  r += json::serialize(incomplete_details_);
  r += settings_before_output_;
  r += ",\"output\":";
  r += json::serialize(output);
  r += settings_before_usage_;
  r += ",\"usage\":";
  r += json::serialize(usage_);
  r += settings_after_usage_;
  r += '}';
  return r;
}

StreamEvent ResponseStreamWriter::make_event(std::string_view type, json::object body) {
  json::object event{{"type", type}};
  for (auto& kv : body) event[kv.key()] = std::move(kv.value());
  event["sequence_number"] = sequence_++;
  if (!request_.stream_id.empty()) event["stream_id"] = request_.stream_id;
  return {std::string(type), json::serialize(event)};
}

StreamEvent ResponseStreamWriter::make_response_event(std::string_view type, std::string_view response) {
  std::string e = "{\"type\":";
  e += json::serialize(json::value(type));
  e += ",\"response\":";
  e += response;
  e += ",\"sequence_number\":";
  e += json::serialize(json::value(sequence_++));
  if (!request_.stream_id.empty()) {
    e += ",\"stream_id\":";
    e += json::serialize(json::value(request_.stream_id));
  }
  e += '}';
  return {std::string(type), std::move(e)};
}

std::vector<StreamEvent> ResponseStreamWriter::start() {
  WAFER_CHECK(!started_, "start() called twice");
  started_ = true;
  std::vector<StreamEvent> out;
  const std::string response = response_json();
  out.push_back(make_response_event("response.created", response));
  out.push_back(make_response_event("response.in_progress", response));
  return out;
}

std::vector<StreamEvent> ResponseStreamWriter::push(const OutputEvent& event) {
  WAFER_CHECK(started_ && !ended_, "push() outside start() .. finish()");
  std::vector<StreamEvent> out;
  switch (event.kind) {
    case OutputEvent::Kind::kText: stream_text(Open::kMessage, event.text, &out); break;
    case OutputEvent::Kind::kReasoning: stream_text(Open::kReasoning, event.text, &out); break;
    case OutputEvent::Kind::kCallStart: call_start(event, &out); break;
    case OutputEvent::Kind::kCallDelta: call_delta(event.text, &out); break;
    case OutputEvent::Kind::kCallDone: call_done(event, &out); break;
  }
  return out;
}

// Text items open at their first non-space character and keep trailing spaces back until
// more text follows: whitespace between tool calls makes no empty messages.
void ResponseStreamWriter::stream_text(Open kind, std::string_view text,
                                       std::vector<StreamEvent>* out) {
  if (open_ != kind) {
    size_t first = 0;
    while (first < text.size() && is_space(text[first])) ++first;
    if (first == text.size()) return;
    if (kind == Open::kMessage) open_message(out);
    else open_reasoning(out);
    text.remove_prefix(first);
  }
  std::string pending = pending_space_ + std::string(text);
  size_t end = pending.size();
  while (end > 0 && is_space(pending[end - 1])) --end;
  pending_space_ = pending.substr(end);
  if (end == 0) return;
  std::string delta = pending.substr(0, end);
  ResponseItem& item = output_.back();
  item.text += delta;
  json::object body{{"item_id", item.id}, {"output_index", output_.size() - 1},
                    {"content_index", 0}, {"delta", delta}};
  if (kind == Open::kMessage) {
    body["logprobs"] = json::array();
    out->push_back(make_event("response.output_text.delta", std::move(body)));
  } else {
    out->push_back(make_event("response.reasoning_text.delta", std::move(body)));
  }
}

void ResponseStreamWriter::open_message(std::vector<StreamEvent>* out) {
  close_open_item(out);
  ResponseItem item;
  item.kind = ResponseItem::Kind::kMessage;
  item.type = "message";
  item.id = ids_("msg_");
  item.status = "in_progress";
  item.role = "assistant";
  output_.push_back(item);
  open_ = Open::kMessage;
  size_t index = output_.size() - 1;
  out->push_back(make_event(
      "response.output_item.added",
      {{"output_index", index},
       {"item", json::object{{"id", item.id}, {"type", "message"}, {"status", "in_progress"},
                             {"role", "assistant"}, {"content", json::array()}}}}));
  out->push_back(make_event("response.content_part.added",
                            {{"item_id", item.id}, {"output_index", index},
                             {"content_index", 0}, {"part", content_part("")}}));
}

void ResponseStreamWriter::open_reasoning(std::vector<StreamEvent>* out) {
  close_open_item(out);
  ResponseItem item;
  item.kind = ResponseItem::Kind::kReasoning;
  item.type = "reasoning";
  item.id = ids_("rs_");
  output_.push_back(item);
  open_ = Open::kReasoning;
  out->push_back(make_event("response.output_item.added",
                            {{"output_index", output_.size() - 1},
                             {"item", json::object{{"id", item.id}, {"type", "reasoning"},
                                                   {"summary", json::array()}}}}));
}

void ResponseStreamWriter::close_open_item(std::vector<StreamEvent>* out) {
  if (open_ == Open::kNone) return;
  ResponseItem& item = output_.back();
  size_t index = output_.size() - 1;
  pending_space_.clear();
  if (open_ == Open::kMessage) {
    out->push_back(make_event("response.output_text.done",
                              {{"item_id", item.id}, {"output_index", index},
                               {"content_index", 0}, {"text", item.text},
                               {"logprobs", json::array()}}));
    out->push_back(make_event("response.content_part.done",
                              {{"item_id", item.id}, {"output_index", index},
                               {"content_index", 0}, {"part", content_part(item.text)}}));
    item.status = status_ == "incomplete" ? "incomplete" : "completed";
  } else if (open_ == Open::kReasoning) {
    out->push_back(make_event("response.reasoning_text.done",
                              {{"item_id", item.id}, {"output_index", index},
                               {"content_index", 0}, {"text", item.text}}));
  } else {
    item.status = "completed";  // a call cut off before its done event
  }
  open_ = Open::kNone;
  out->push_back(make_event("response.output_item.done",
                            {{"output_index", index}, {"item", item_to_json(item)}}));
}

void ResponseStreamWriter::call_start(const OutputEvent& event, std::vector<StreamEvent>* out) {
  close_open_item(out);
  ResponseItem item;
  item.kind = event.custom ? ResponseItem::Kind::kCustomToolCall
                           : ResponseItem::Kind::kFunctionCall;
  item.type = event.custom ? "custom_tool_call" : "function_call";
  item.id = ids_(event.custom ? "ctc_" : "fc_");
  item.call_id = ids_("call_");
  item.status = "in_progress";
  item.name = event.name;
  for (const Tool& tool : request_.tools) {
    if (tool.model_name() == event.name) {
      item.name = tool.name;
      item.namespace_name = tool.namespace_name;
      break;
    }
  }
  output_.push_back(item);
  open_ = Open::kCall;
  out->push_back(make_event("response.output_item.added",
                            {{"output_index", output_.size() - 1},
                             {"item", item_to_json(item)}}));
}

void ResponseStreamWriter::call_delta(std::string_view text, std::vector<StreamEvent>* out) {
  WAFER_CHECK(open_ == Open::kCall, "call delta without a call start");
  ResponseItem& item = output_.back();
  bool custom = item.kind == ResponseItem::Kind::kCustomToolCall;
  (custom ? item.text : item.arguments) += text;
  out->push_back(make_event(custom ? "response.custom_tool_call_input.delta"
                                   : "response.function_call_arguments.delta",
                            {{"item_id", item.id}, {"output_index", output_.size() - 1},
                             {"delta", text}}));
}

void ResponseStreamWriter::call_done(const OutputEvent& event, std::vector<StreamEvent>* out) {
  WAFER_CHECK(open_ == Open::kCall, "call done without a call start");
  ResponseItem& item = output_.back();
  size_t index = output_.size() - 1;
  if (item.kind == ResponseItem::Kind::kCustomToolCall) {
    item.text = event.text;
    out->push_back(make_event("response.custom_tool_call_input.done",
                              {{"item_id", item.id}, {"output_index", index},
                               {"input", item.text}}));
  } else {
    item.arguments = event.text;
    out->push_back(make_event("response.function_call_arguments.done",
                              {{"item_id", item.id}, {"output_index", index},
                               {"name", item.name}, {"arguments", item.arguments}}));
  }
  item.status = "completed";
  open_ = Open::kNone;
  out->push_back(make_event("response.output_item.done",
                            {{"output_index", index}, {"item", item_to_json(item)}}));
}

std::vector<StreamEvent> ResponseStreamWriter::terminal(std::string_view type) {
  std::vector<StreamEvent> out;
  close_open_item(&out);
  final_json_ = response_json();
  ended_ = true;
  out.push_back(make_response_event(type, final_json_));
  return out;
}

std::vector<StreamEvent> ResponseStreamWriter::finish(std::string_view finish_reason,
                                                      const Usage& usage) {
  WAFER_CHECK(started_ && !ended_, "finish() outside start() .. finish()");
  usage_ = usage_to_json(usage);
  if (finish_reason == "length" || finish_reason == "cancelled") {
    status_ = "incomplete";
    incomplete_details_ = json::object{
        {"reason", finish_reason == "length" ? "max_output_tokens" : "cancelled"}};
    return terminal("response.incomplete");
  }
  status_ = "completed";
  return terminal("response.completed");
}

std::vector<StreamEvent> ResponseStreamWriter::fail(const ApiError& error) {
  WAFER_CHECK(started_ && !ended_, "fail() outside start() .. finish()");
  status_ = "failed";
  error_ = json::object{{"code", error.code.empty() ? error.type : error.code},
                        {"message", error.message}};
  return terminal("response.failed");
}

}  // namespace wafer::api
