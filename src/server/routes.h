// The HTTP routes: which handler answers which method and path. Handlers answer through the
// Exchange, at once (health, models, metrics) or later (generations, store look-ups).
#pragma once

#include <memory>

#include "server/exchange.h"

namespace wafer::server {

struct ServerState;

void route_request(ServerState& state, std::shared_ptr<Exchange> exchange, StringRequest&& request);

// POST /v1/responses (responses_route.cc).
void handle_create_response(ServerState& state, std::shared_ptr<Exchange> exchange, StringRequest&& request);
// POST /v1/chat/completions and POST /v1/completions (text_route.cc).
void handle_chat_completions(ServerState& state, std::shared_ptr<Exchange> exchange, StringRequest&& request);
void handle_completions(ServerState& state, std::shared_ptr<Exchange> exchange, StringRequest&& request);

}  // namespace wafer::server
