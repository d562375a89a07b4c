// One Responses API generation, whatever carries it (HTTP JSON, SSE, WebSocket): builds the
// prompt from the request and its history, submits it, turns engine tokens into output
// events (tool calls parsed) and those into the Responses event sequence, stores the result
// when asked, and reports the outcome. SSE and WebSocket only frame the events it emits.
// Lives on one executor (a connection's strand); keep it in a shared_ptr.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "api/responses.h"
#include "api/responses_stream.h"
#include "api/tool_call_parser.h"
#include "base/result.h"
#include "wafer/engine.h"

namespace wafer::server {

struct ServerState;

struct ResponseOutcome {
  std::string id;
  std::string status;                    // completed, incomplete, failed
  std::string response_json;             // the final Response object
  std::vector<api::ResponseItem> input;  // the whole context: history, then this request's input
  std::vector<api::ResponseItem> output;
};

class ResponseRun : public std::enable_shared_from_this<ResponseRun> {
 public:
  struct Callbacks {
    std::function<void(const api::StreamEvent&)> on_event;  // each event in order; may be null
    std::function<void(ResponseOutcome&&)> on_done;          // once, after the terminal event
  };

  // history: the previous response's input then output items (empty without one).
  // cache_slot: the engine KV slot to reuse (a WebSocket connection's), or empty.
  ResponseRun(ServerState& state, boost::asio::any_io_executor executor, api::ResponsesRequest request,
              std::vector<api::ResponseItem> history, std::string cache_slot, Callbacks callbacks);

  // Builds the prompt and submits it. An error means nothing was emitted and nothing will
  // be: the caller answers it (HTTP status, WebSocket error frame).
  Status start();
  void cancel();  // the client went away; the engine stops at its next step
  const std::string& id() const { return writer_.id(); }

 private:
  void on_engine_event(Event&& event);
  void emit(std::vector<api::StreamEvent>&& events);
  void push_output(std::vector<api::OutputEvent>&& events);
  void finish_with(std::vector<api::StreamEvent>&& terminal);
  void deliver(std::vector<api::StreamEvent>&& terminal, ResponseOutcome&& outcome);
  int64_t max_tokens() const;

  ServerState& state_;
  boost::asio::any_io_executor executor_;
  api::ResponsesRequest request_;
  std::vector<api::ResponseItem> history_;
  std::string cache_slot_;
  Callbacks callbacks_;
  int64_t created_at_;  // unix seconds; before writer_, which reads it
  api::ResponseStreamWriter writer_;
  std::optional<api::ToolCallParser> parser_;
  std::optional<RequestHandle> handle_;
  bool finished_ = false;
};

}  // namespace wafer::server
