// submit_generation: the engine-thread sink only timestamps and posts; metrics, logging and
// the caller's handler all run on the network executor.
#include "server/engine_call.h"

#include <chrono>
#include <memory>

#include <spdlog/spdlog.h>

#include "server/server_state.h"

namespace wafer::server {
namespace {

using Clock = std::chrono::steady_clock;

void log_finished(ServerState& state, const std::string& request_id, const std::string& route,
                  const DoneEvent& done) {
  const Usage& u = done.usage;
  const Timings& t = done.timings;
  const double tps = (u.completion_tokens > 1 && t.decode_ms > 0)
                         ? static_cast<double>(u.completion_tokens - 1) * 1000.0 / t.decode_ms
                         : 0.0;
  state.logger->info(
      "event=request_finished request_id={} route={} finish={} prompt_tokens={} cached_tokens={} "
      "completion_tokens={} queue_ms={:.1f} prefill_ms={:.1f} ttft_ms={:.1f} decode_ms={:.1f} tok_s={:.1f}",
      request_id, route, done.finish_reason, u.prompt_tokens, u.cached_tokens, u.completion_tokens, t.queue_ms,
      t.prefill_ms, t.ttft_ms, t.decode_ms, tps);
}

}  // namespace

Result<RequestHandle> submit_generation(ServerState& state, GenerationRequest request, std::string route,
                                        boost::asio::any_io_executor executor, SessionEventFn on_event) {
  struct Shared {
    std::string request_id;
    std::string route;
    SessionEventFn on_event;         // network thread only; dropped there after the last event
    uint64_t in_flight_key = 0;
    Clock::time_point last_token{};  // engine thread only
    bool seen_token = false;         // engine thread only
  };
  auto shared = std::make_shared<Shared>(Shared{request.request_id, std::move(route), std::move(on_event)});
  ServerState* st = &state;
  std::shared_ptr<PostGate> gate = state.gate;
  EventSink sink = [st, gate, executor, shared](Event&& event) {
    if (std::holds_alternative<TokenEvent>(event)) {
      const Clock::time_point now = Clock::now();
      if (shared->seen_token)
        st->metrics.record_inter_token(std::chrono::duration<double, std::milli>(now - shared->last_token).count());
      shared->seen_token = true;
      shared->last_token = now;
    }
    const bool last = !std::holds_alternative<TokenEvent>(event);
    auto boxed = std::make_shared<Event>(std::move(event));
    gate->post(executor, [st, shared, boxed] {
      const auto* done = std::get_if<DoneEvent>(boxed.get());
      if (done != nullptr) {  // counted before the client can see the end and ask for /metrics
        if (done->usage.completion_tokens > 0) st->metrics.record_ttft(done->timings.ttft_ms);
        st->metrics.record_generation(done->usage, done->timings);
      } else if (const auto* error = std::get_if<ErrorEvent>(boxed.get())) {
        st->logger->warn("event=request_failed request_id={} route={} error=\"{}\"", shared->request_id,
                         shared->route, error->error.message);
      }
      // The log line is written after the terminal events go out: it is not the client's wait.
      const DoneEvent logged = done != nullptr ? DoneEvent{done->finish_reason, done->usage, done->timings, {}} : DoneEvent{};
      const bool terminal = !std::holds_alternative<TokenEvent>(*boxed);
      if (shared->on_event) {
        SessionEventFn on_event = std::move(shared->on_event);
        shared->on_event = nullptr;
        on_event(std::move(*boxed));
        // Keep the handler (and the session it holds) off the engine thread, which may
        // release its copy of the sink last.
        if (!terminal) shared->on_event = std::move(on_event);
      }
      if (done != nullptr) log_finished(*st, shared->request_id, shared->route, logged);
    });
    if (last) st->in_flight.remove(shared->in_flight_key);
  };
  shared->in_flight_key = state.in_flight.reserve();
  auto submitted = state.engine.submit(std::move(request), std::move(sink));
  if (submitted.ok()) state.in_flight.attach(shared->in_flight_key, *submitted);
  else state.in_flight.remove(shared->in_flight_key);
  return submitted;
}

}  // namespace wafer::server
