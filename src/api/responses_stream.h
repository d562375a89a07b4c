// Turns output events and the final usage into the Responses event sequence (protocol.md
// section 2): response.created, response.in_progress, per item output_item.added ->
// content events -> output_item.done, then response.completed / .incomplete / .failed, with
// sequence_number 0, 1, ... Each event is one JSON object; SSE and WebSocket frame the same
// text. Also builds the full Response object (non-streaming answers, GET, the store).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "api/errors.h"
#include "api/ids.h"
#include "api/responses.h"
#include "api/tool_call_parser.h"
#include "wafer/engine.h"

namespace wafer::api {

struct StreamEvent {
  std::string type;  // the JSON's "type" (SSE "event:" line)
  std::string json;  // one line of JSON (SSE "data:" line, or a WebSocket text frame)
};

// Not thread-safe; one per response. Call start() once, push() any number of times, then
// exactly one of finish() / fail(). Events after the terminal one are a bug (checked).
class ResponseStreamWriter {
 public:
  // model_id: the loaded model's id (reported whatever the request named).
  // created_at: unix seconds. The request's settings are echoed in the Response object.
  ResponseStreamWriter(const ResponsesRequest& request, std::string model_id, IdGenerator ids,
                       int64_t created_at);

  const std::string& id() const { return id_; }  // resp_...

  std::vector<StreamEvent> start();  // response.created, response.in_progress
  std::vector<StreamEvent> push(const OutputEvent& event);
  // finish_reason from the engine's DoneEvent: "stop" -> completed; "length" ->
  // incomplete (max_output_tokens); "cancelled" -> incomplete (cancelled).
  std::vector<StreamEvent> finish(std::string_view finish_reason, const Usage& usage);
  // response.failed with error {code, message} (after the stream started).
  std::vector<StreamEvent> fail(const ApiError& error);

  // The Response object in its current state (complete after finish/fail).
  boost::json::object response_object() const;
  std::string response_json() const;
  // Output items so far (complete after finish/fail): stored for previous_response_id.
  const std::vector<ResponseItem>& output() const { return output_; }
  const std::string& status() const { return status_; }

 private:
  enum class Open { kNone, kMessage, kReasoning, kCall };
  StreamEvent make_event(std::string_view type, boost::json::object body);
  // {"type":type,"response":response,"sequence_number":...}
  StreamEvent make_response_event(std::string_view type, std::string_view response);
  void close_open_item(std::vector<StreamEvent>* out);
  void open_message(std::vector<StreamEvent>* out);
  void open_reasoning(std::vector<StreamEvent>* out);
  void stream_text(Open kind, std::string_view text, std::vector<StreamEvent>* out);
  void call_start(const OutputEvent& event, std::vector<StreamEvent>* out);
  void call_delta(std::string_view text, std::vector<StreamEvent>* out);
  void call_done(const OutputEvent& event, std::vector<StreamEvent>* out);
  std::vector<StreamEvent> terminal(std::string_view type);

  ResponsesRequest request_;  // tools and settings echoed (input dropped)
  std::string model_id_;
  IdGenerator ids_;
  int64_t created_at_;
  std::string id_;
  std::string status_ = "in_progress";
  int64_t sequence_ = 0;
  bool started_ = false;
  bool ended_ = false;
  Open open_ = Open::kNone;
  std::string pending_space_;  // whitespace-only text not yet worth a message item
  std::vector<ResponseItem> output_;
  boost::json::value usage_;               // null until finish
  boost::json::value error_;               // null unless failed
  boost::json::value incomplete_details_;  // null unless incomplete
  // The Response object's fields that echo the request, serialised once (they are the same
  // in every event, and a Codex tool list is kilobytes): "key":value,... runs that go
  // before "output", between "output" and "usage", and after "usage".
  std::string settings_before_output_, settings_before_usage_, settings_after_usage_;
  std::string final_json_;  // the Response object once ended
};

// {"input_tokens", "input_tokens_details":{"cached_tokens"}, "output_tokens",
//  "output_tokens_details":{"reasoning_tokens"}, "total_tokens"}
boost::json::object usage_to_json(const Usage& usage);

}  // namespace wafer::api
