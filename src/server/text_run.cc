// TextRun: the stream starts with the first chunk; an engine error before any chunk becomes
// an HTTP error, after one a final error chunk (the Chat API has no failed event).
#include "server/text_run.h"

#include "api/errors.h"
#include "server/engine_call.h"
#include "server/replies.h"
#include "server/server_state.h"
#include "server/sse_writer.h"

namespace wafer::server {

TextRun::TextRun(ServerState& state, std::shared_ptr<Exchange> exchange, std::unique_ptr<ChunkFormatter> formatter,
                 bool stream, std::string route)
    : state_(state), exchange_(std::move(exchange)), formatter_(std::move(formatter)), stream_(stream),
      route_(std::move(route)) {}

Status TextRun::start(GenerationRequest request) {
  auto self = shared_from_this();
  WAFER_ASSIGN_OR_RETURN(handle_, submit_generation(state_, std::move(request), route_, exchange_->executor(),
                                                    [self](Event&& event) { self->on_engine_event(std::move(event)); }));
  RequestHandle handle = handle_;
  exchange_->watch_disconnect([handle] { handle.cancel(); });
  if (stream_) exchange_->start_stream("text/event-stream");
  return {};
}

void TextRun::send(std::vector<std::string>&& chunks) {
  if (!stream_) return;
  for (const std::string& chunk : chunks) exchange_->stream(sse_data(chunk));
}

void TextRun::on_engine_event(Event&& event) {
  if (finished_) return;
  if (auto* token = std::get_if<TokenEvent>(&event)) {
    if (!token->text.empty()) send(formatter_->push(token->text));
    return;
  }
  finished_ = true;
  if (auto* done = std::get_if<DoneEvent>(&event)) {
    send(formatter_->finish(done->finish_reason, done->usage));
    if (!stream_) return exchange_->respond(json_reply(200, formatter_->completion_json()));
    exchange_->stream(sse_data("[DONE]"));
    return exchange_->end_stream();
  }
  const api::ApiError error = api::to_api_error(std::get<ErrorEvent>(event).error);
  if (!stream_) return exchange_->respond(error_reply(error));
  exchange_->stream(sse_data(api::error_body_json(error)));
  exchange_->end_stream();
}

}  // namespace wafer::server
