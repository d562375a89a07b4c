// chat.completion.chunk stream and chat.completion object from output events.
#include <boost/json.hpp>

#include "api/chat.h"

namespace wafer::api {

namespace json = boost::json;

namespace {

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

json::object usage_json(const Usage& usage) {
  return json::object{
      {"prompt_tokens", usage.prompt_tokens},
      {"completion_tokens", usage.completion_tokens},
      {"total_tokens", usage.prompt_tokens + usage.completion_tokens},
      {"prompt_tokens_details", json::object{{"cached_tokens", usage.cached_tokens}}},
      {"completion_tokens_details",
       json::object{{"reasoning_tokens", 0}, {"accepted_prediction_tokens", usage.accepted_prediction_tokens},
                    {"rejected_prediction_tokens", usage.rejected_prediction_tokens}}}};
}

}  // namespace

ChatWriter::ChatWriter(std::string id, std::string model_id, int64_t created, bool include_usage,
                       IdGenerator ids)
    : id_(std::move(id)), model_id_(std::move(model_id)), created_(created),
      include_usage_(include_usage), ids_(std::move(ids)) {}

json::object ChatWriter::chunk(json::object delta, json::value finish_reason) const {
  json::object out{{"id", id_},
                   {"object", "chat.completion.chunk"},
                   {"created", created_},
                   {"model", model_id_},
                   {"system_fingerprint", nullptr},
                   {"choices", json::array{json::object{{"index", 0},
                                                        {"delta", std::move(delta)},
                                                        {"logprobs", nullptr},
                                                        {"finish_reason", finish_reason}}}}};
  if (include_usage_) out["usage"] = nullptr;
  return out;
}

std::vector<std::string> ChatWriter::push(const OutputEvent& event) {
  std::vector<std::string> out;
  if (!sent_role_) {
    sent_role_ = true;
    out.push_back(json::serialize(chunk({{"role", "assistant"}, {"content", ""}}, nullptr)));
  }
  switch (event.kind) {
    case OutputEvent::Kind::kText: {
      // Leading spaces of the answer and spaces before a tool call are not content.
      std::string_view text = event.text;
      if (content_.empty() && pending_space_.empty()) {
        while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
      }
      std::string pending = pending_space_ + std::string(text);
      size_t end = pending.size();
      while (end > 0 && is_space(pending[end - 1])) --end;
      pending_space_ = pending.substr(end);
      if (end == 0) break;
      std::string delta = pending.substr(0, end);
      content_ += delta;
      out.push_back(json::serialize(chunk({{"content", delta}}, nullptr)));
      break;
    }
    case OutputEvent::Kind::kReasoning:
      reasoning_ += event.text;
      out.push_back(json::serialize(chunk({{"reasoning_content", event.text}}, nullptr)));
      break;
    case OutputEvent::Kind::kCallStart: {
      pending_space_.clear();
      calls_.push_back({ids_("call_"), event.name, "", event.custom});
      const ChatToolCall& call = calls_.back();
      std::string_view kind = call.custom ? "custom" : "function";
      json::object body{{"name", call.name}, {call.custom ? "input" : "arguments", ""}};
      json::object entry{{"index", calls_.size() - 1}, {"id", call.id}, {"type", kind},
                         {kind, std::move(body)}};
      out.push_back(json::serialize(chunk({{"tool_calls", json::array{entry}}}, nullptr)));
      break;
    }
    case OutputEvent::Kind::kCallDelta: {
      if (calls_.empty()) break;
      ChatToolCall& call = calls_.back();
      call.arguments += event.text;
      std::string_view kind = call.custom ? "custom" : "function";
      json::object entry{{"index", calls_.size() - 1},
                         {kind, json::object{{call.custom ? "input" : "arguments", event.text}}}};
      out.push_back(json::serialize(chunk({{"tool_calls", json::array{entry}}}, nullptr)));
      break;
    }
    case OutputEvent::Kind::kCallDone:
      if (!calls_.empty()) calls_.back().arguments = event.text;
      break;
  }
  return out;
}

std::vector<std::string> ChatWriter::finish(std::string_view engine_finish_reason,
                                            const Usage& usage) {
  usage_ = usage;
  if (engine_finish_reason == "length") finish_reason_ = "length";
  else if (!calls_.empty()) finish_reason_ = "tool_calls";
  else finish_reason_ = "stop";
  std::vector<std::string> out;
  if (!sent_role_) {
    sent_role_ = true;
    out.push_back(json::serialize(chunk({{"role", "assistant"}, {"content", ""}}, nullptr)));
  }
  out.push_back(json::serialize(chunk({}, json::value(finish_reason_))));
  if (include_usage_) {
    json::object last{{"id", id_},          {"object", "chat.completion.chunk"},
                      {"created", created_}, {"model", model_id_},
                      {"system_fingerprint", nullptr}, {"choices", json::array()},
                      {"usage", usage_json(usage)}};
    out.push_back(json::serialize(last));
  }
  return out;
}

std::string ChatWriter::completion_json() const {
  json::object message{{"role", "assistant"},
                       {"content", content_.empty() && !calls_.empty() ? json::value(nullptr)
                                                                        : json::value(content_)},
                       {"refusal", nullptr}};
  if (!reasoning_.empty()) message["reasoning_content"] = reasoning_;
  if (!calls_.empty()) {
    json::array calls;
    for (const ChatToolCall& call : calls_) {
      std::string_view kind = call.custom ? "custom" : "function";
      calls.push_back(json::object{
          {"id", call.id},
          {"type", kind},
          {kind, json::object{{"name", call.name},
                              {call.custom ? "input" : "arguments", call.arguments}}}});
    }
    message["tool_calls"] = std::move(calls);
  }
  json::object out{{"id", id_},
                   {"object", "chat.completion"},
                   {"created", created_},
                   {"model", model_id_},
                   {"system_fingerprint", nullptr},
                   {"choices", json::array{json::object{{"index", 0},
                                                        {"message", std::move(message)},
                                                        {"logprobs", nullptr},
                                                        {"finish_reason", finish_reason_}}}},
                   {"usage", usage_json(usage_)}};
  return json::serialize(out);
}

}  // namespace wafer::api
