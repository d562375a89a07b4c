// Submitting a generation to the engine from a network session: the engine's events (which
// arrive on the engine thread) are posted to the session's executor, token gaps and TTFT go
// to the metrics, and one log line is written when the request finishes.
#pragma once

#include <functional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "base/result.h"
#include "wafer/engine.h"

namespace wafer::server {

struct ServerState;

// Called on `executor`, once per event, in order; exactly one DoneEvent or ErrorEvent last.
using SessionEventFn = std::function<void(Event&&)>;

// `route` labels the log line ("/v1/responses"). Errors are the engine's refusals (busy,
// prompt too long, bad sampling): nothing will be delivered then.
Result<RequestHandle> submit_generation(ServerState& state, GenerationRequest request, std::string route,
                                        boost::asio::any_io_executor executor, SessionEventFn on_event);

}  // namespace wafer::server
