// WebsocketSession: one read always pending, one write in flight with a queue behind it,
// lanes pumped one response at a time. A ResponseRun does the generation; this only routes
// its events to frames and keeps the connection's history.
#include "server/websocket_session.h"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "server/response_run.h"
#include "server/server_state.h"
#include "server/stored_context.h"

namespace wafer::server {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;

namespace {

constexpr size_t kRememberedResponses = 32;
constexpr std::string_view kRoute = "/v1/responses (websocket)";

// Adds "stream_id" to an event object without re-serialising it.
std::string with_stream_id(std::string_view event_json, std::string_view stream_id) {
  if (stream_id.empty() || event_json.size() < 2 || event_json.front() != '{') return std::string(event_json);
  std::string out = "{\"stream_id\":" + json::serialize(json::value(stream_id));
  out += event_json.size() > 2 ? "," : "";
  out.append(event_json.substr(1));
  return out;
}

// The stream_id of a frame that failed to parse, so its error still reaches its lane.
std::string stream_id_of(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) return "";
  const json::value* id = value.as_object().if_contains("stream_id");
  return id && id->is_string() ? std::string(id->as_string()) : "";
}

}  // namespace

WebsocketSession::WebsocketSession(beast::tcp_stream&& stream, ServerState& state)
    : ws_(std::move(stream)), state_(state), connection_id_(state.next_connection_id.fetch_add(1)) {}

WebsocketSession::~WebsocketSession() {
  for (const auto& [lane_id, lane] : lanes_) state_.engine.release_slot(slot_name(lane_id));
  state_.metrics.connection_closed();
}

std::string WebsocketSession::slot_name(const std::string& lane_id) const {
  return fmt::format("ws{}/{}", connection_id_, lane_id);
}

void WebsocketSession::run(StringRequest request, beast::flat_buffer leftover) {
  websocket::stream_base::timeout timeout = websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeout.idle_timeout = std::chrono::seconds(state_.config.idle_timeout_s);
  ws_.set_option(timeout);
  websocket::permessage_deflate deflate;
  deflate.server_enable = true;
  deflate.msg_size_threshold = 512;  // token deltas are not worth compressing
  ws_.set_option(deflate);
  ws_.read_message_max(state_.config.body_limit_bytes);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "wafer"); }));
  read_buffer_ = std::move(leftover);
  auto req = std::make_shared<StringRequest>(std::move(request));
  ws_.async_accept(*req, [self = shared_from_this(), req](beast::error_code ec) { self->on_accept(ec); });
}

void WebsocketSession::on_accept(beast::error_code ec) {
  if (ec) return shut_down();
  state_.metrics.record_request("/v1/responses (upgrade)", 101);
  state_.logger->info("event=ws_open conn={}", connection_id_);
  do_read();
}

void WebsocketSession::do_read() {
  read_buffer_.clear();
  ws_.async_read(read_buffer_, [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
}

void WebsocketSession::on_read(beast::error_code ec) {
  if (ec) return shut_down();  // closed by the client, dropped, or timed out
  if (!ws_.got_text()) {
    api::ApiError error{400, "invalid_request_error", "invalid_frame", "", "binary frames are not accepted; send JSON text"};
    send(api::ws_error_frame_json(error, ""));
  } else {
    const auto data = read_buffer_.cdata();
    handle_message(std::string_view(static_cast<const char*>(data.data()), data.size()));
  }
  if (!closed_) do_read();
}

void WebsocketSession::handle_message(std::string_view text) {
  auto parsed = api::parse_ws_client_message(text);
  if (!parsed.ok()) {
    return lane_error(stream_id_of(text), api::to_api_error(parsed.error()));
  }
  if (parsed->kind == api::WsClientMessage::Kind::kSteer) {
    json::object steer{{"previous_response_id", parsed->steer_previous_response_id}, {"input", parsed->steer_input}};
    json::object frame{{"type", "response.steer.failed"},
                       {"steer", std::move(steer)},
                       {"error", json::object{{"code", "steering_not_supported"},
                                              {"message", "this server does not support steering; send "
                                                          "response.create with previous_response_id"}}}};
    return send(json::serialize(frame));
  }
  if (state_.draining.load()) {
    return lane_error(parsed->create.stream_id,
                      api::ApiError{503, "server_error", "shutting_down", "", "the server is shutting down"});
  }
  std::string lane_id = parsed->create.stream_id;
  lanes_[lane_id].queue.push_back(std::move(parsed->create));
  pump(lane_id);
}

void WebsocketSession::lane_error(const std::string& lane_id, const api::ApiError& error) {
  state_.metrics.record_request(kRoute, error.http_status);
  state_.logger->warn("event=ws_error conn={} stream_id={} status={} code={} message=\"{}\"", connection_id_,
                      lane_id.empty() ? "-" : lane_id, error.http_status, error.code, error.message);
  send(api::ws_error_frame_json(error, lane_id));
}

void WebsocketSession::pump(const std::string& lane_id) {
  Lane& lane = lanes_[lane_id];
  if (lane.busy || lane.queue.empty() || closed_) return;
  api::ResponsesRequest request = std::move(lane.queue.front());
  lane.queue.pop_front();
  lane.busy = true;
  const std::string previous = request.previous_response_id;
  if (previous.empty()) return start_run(lane_id, std::move(request), {});
  if (auto it = remembered_.find(previous); it != remembered_.end()) {
    std::vector<api::ResponseItem> history = it->second->input;
    history.insert(history.end(), it->second->output.begin(), it->second->output.end());
    return start_run(lane_id, std::move(request), std::move(history));
  }
  auto not_found = [this, lane_id, previous] {
    lanes_[lane_id].busy = false;
    lane_error(lane_id, api::to_api_error(api::make_previous_response_not_found(previous)));
    pump(lane_id);
  };
  if (!state_.store) return not_found();
  // Not on this connection: perhaps stored by an earlier one.
  auto shared_req = std::make_shared<api::ResponsesRequest>(std::move(request));
  ServerState* st = &state_;
  net::post(state_.store_executor, [st, self = shared_from_this(), lane_id, previous, shared_req, not_found] {
    auto found = st->store->get(previous);
    st->gate->post(self->ws_.get_executor(), [self, lane_id, shared_req, found, not_found] {
      if (!found.ok() || !found->has_value()) return not_found();
      auto history = history_from_stored((*found)->context_json, (*found)->response_json);
      if (!history.ok()) return not_found();
      self->start_run(lane_id, std::move(*shared_req), std::move(*history));
    });
  });
}

void WebsocketSession::start_run(const std::string& lane_id, api::ResponsesRequest request,
                                 std::vector<api::ResponseItem> history) {
  if (closed_) return;
  ResponseRun::Callbacks callbacks;
  auto self = shared_from_this();
  callbacks.on_event = [self, lane_id](const api::StreamEvent& event) { self->send(with_stream_id(event.json, lane_id)); };
  callbacks.on_done = [self, lane_id](ResponseOutcome&& outcome) { self->on_run_done(lane_id, std::move(outcome)); };
  auto run = std::make_shared<ResponseRun>(state_, ws_.get_executor(), std::move(request), std::move(history),
                                           slot_name(lane_id), std::move(callbacks));
  if (Status started = run->start(); !started.ok()) {
    lanes_[lane_id].busy = false;
    lane_error(lane_id, api::to_api_error(started.error()));
    return pump(lane_id);
  }
  state_.metrics.record_request(kRoute, 200);
  state_.busy.enter();
  lanes_[lane_id].running = std::move(run);
}

void WebsocketSession::on_run_done(const std::string& lane_id, ResponseOutcome&& outcome) {
  state_.busy.leave();
  ++responses_done_;
  Lane& lane = lanes_[lane_id];
  lane.running.reset();
  lane.busy = false;
  remember(std::move(outcome));
  pump(lane_id);
}

void WebsocketSession::remember(ResponseOutcome&& outcome) {
  auto entry = std::make_shared<Remembered>();
  entry->input = std::move(outcome.input);
  entry->output = std::move(outcome.output);
  remembered_[outcome.id] = std::move(entry);
  remembered_order_.push_back(outcome.id);
  while (remembered_order_.size() > kRememberedResponses) {
    remembered_.erase(remembered_order_.front());
    remembered_order_.pop_front();
  }
}

void WebsocketSession::send(std::string frame) {
  if (closed_) return;
  write_queue_.push_back(std::move(frame));
  if (!writing_) write_next();
}

void WebsocketSession::write_next() {
  if (write_queue_.empty() || closed_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  writing_frame_ = std::move(write_queue_.front());
  write_queue_.pop_front();
  ws_.text(true);
  ws_.async_write(net::buffer(writing_frame_), [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->shut_down();
    self->write_next();
  });
}

void WebsocketSession::shut_down() {
  if (closed_) return;
  closed_ = true;
  write_queue_.clear();
  int cancelled = 0;
  for (auto& [lane_id, lane] : lanes_) {
    lane.queue.clear();
    // The engine keeps a cancelled run alive until its last event; dropping this reference
    // now means no session <-> run cycle outlives the connection, even if that event is
    // never delivered (the server stopping).
    if (lane.running) {
      lane.running->cancel();
      lane.running.reset();
      ++cancelled;
    }
  }
  state_.logger->info("event=ws_closed conn={} responses={} cancelled={}", connection_id_, responses_done_, cancelled);
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
}

}  // namespace wafer::server
