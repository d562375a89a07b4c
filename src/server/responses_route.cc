// POST /v1/responses over HTTP: parse, resolve previous_response_id from the store, then run
// the generation with its events framed as SSE (stream:true) or gathered into one Response.
#include <memory>

#include "api/errors.h"
#include "api/responses.h"
#include "server/replies.h"
#include "server/response_run.h"
#include "server/routes.h"
#include "server/server_state.h"
#include "server/sse_writer.h"
#include "server/stored_context.h"

namespace wafer::server {

namespace {

void run_response(ServerState& state, std::shared_ptr<Exchange> exchange, api::ResponsesRequest request,
                  std::vector<api::ResponseItem> history) {
  const bool stream = request.stream;
  ResponseRun::Callbacks callbacks;
  if (stream) {
    auto started = std::make_shared<bool>(false);
    callbacks.on_event = [exchange, started](const api::StreamEvent& event) {
      if (!*started) {
        *started = true;
        exchange->start_stream("text/event-stream");
      }
      exchange->stream(sse_event(event.type, event.json));
    };
    callbacks.on_done = [exchange](ResponseOutcome&&) { exchange->end_stream(); };
  } else {
    callbacks.on_done = [exchange](ResponseOutcome&& outcome) {
      exchange->respond(json_reply(200, std::move(outcome.response_json)));
    };
  }
  // prompt_cache_key names the conversation: its KV is kept in a slot of its own, so clients
  // that resend whole histories (Codex over HTTP) keep their prefixes warm even when several
  // conversations interleave. Without one, the engine reuses the previous anonymous prefix.
  std::string slot = request.prompt_cache_key.empty() ? std::string() : "key/" + request.prompt_cache_key;
  auto run = std::make_shared<ResponseRun>(state, exchange->executor(), std::move(request), std::move(history),
                                           std::move(slot), std::move(callbacks));
  if (Status started = run->start(); !started.ok()) return exchange->respond(error_reply(started.error()));
  exchange->watch_disconnect([run] { run->cancel(); });
}

}  // namespace

void handle_create_response(ServerState& state, std::shared_ptr<Exchange> exchange, StringRequest&& request) {
  auto parsed = api::parse_responses_request(request.body());
  if (!parsed.ok()) return exchange->respond(error_reply(parsed.error()));
  api::ResponsesRequest req = std::move(*parsed);
  if (req.previous_response_id.empty()) return run_response(state, std::move(exchange), std::move(req), {});

  const std::string previous = req.previous_response_id;
  if (!state.store) return exchange->respond(error_reply(api::make_previous_response_not_found(previous)));
  // Look the history up on the store thread; carry on on the connection's strand.
  auto shared_req = std::make_shared<api::ResponsesRequest>(std::move(req));
  ServerState* st = &state;
  net::post(state.store_executor, [st, exchange, shared_req, previous] {
    auto found = st->store->get(previous);
    st->gate->post(exchange->executor(), [st, exchange, shared_req, previous, found] {
      if (!found.ok()) return exchange->respond(error_reply(found.error()));
      if (!found->has_value()) return exchange->respond(error_reply(api::make_previous_response_not_found(previous)));
      auto history = history_from_stored((*found)->context_json, (*found)->response_json);
      if (!history.ok()) return exchange->respond(error_reply(history.error()));
      run_response(*st, exchange, std::move(*shared_req), std::move(*history));
    });
  });
}

}  // namespace wafer::server
