// HttpSession: Beast's async read -> handle -> write loop, plus streamed answers (SseWriter)
// and a read-readiness watch that notices a client leaving while its answer is generated.
#include "server/http_session.h"

#include <chrono>

#include <boost/asio/dispatch.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <spdlog/spdlog.h>

#include "server/replies.h"
#include "server/routes.h"
#include "server/server_state.h"
#include "server/websocket_session.h"

namespace wafer::server {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr size_t kHeaderLimitBytes = 64 * 1024;
constexpr int kWriteTimeoutS = 60;

// Compares without an early exit, so timing does not reveal how much of a key matched.
bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

}  // namespace

HttpSession::HttpSession(tcp::socket&& socket, ServerState& state)
    : stream_(std::move(socket)), state_(state), sse_(stream_, kWriteTimeoutS) {
  state_.metrics.connection_opened();
}

HttpSession::~HttpSession() {
  if (busy_) state_.busy.leave();
  if (!upgraded_) state_.metrics.connection_closed();
}

void HttpSession::run() {
  net::dispatch(stream_.get_executor(), [self = self()] { self->do_read(); });
}

void HttpSession::do_read() {
  parser_.emplace();
  parser_->body_limit(state_.config.body_limit_bytes);
  parser_->header_limit(kHeaderLimitBytes);
  stream_.expires_after(std::chrono::seconds(state_.config.idle_timeout_s));
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = self()](beast::error_code ec, size_t) { self->on_header(ec); });
}

// A client that sent "Expect: 100-continue" (curl does for bodies over 1 KiB) waits for a
// go-ahead before the body; answer it, then read the body.
void HttpSession::on_header(beast::error_code ec) {
  if (ec) return on_read(ec);
  auto read_body = [self = self()] {
    http::async_read(self->stream_, self->buffer_, *self->parser_,
                     [self](beast::error_code ec, size_t) { self->on_read(ec); });
  };
  const auto expect = parser_->get().find(http::field::expect);
  if (expect == parser_->get().end() || !beast::iequals(expect->value(), "100-continue") || parser_->is_done())
    return read_body();
  auto go_ahead = std::make_shared<http::response<http::empty_body>>(http::status::continue_, parser_->get().version());
  http::async_write(stream_, *go_ahead, [self = self(), go_ahead, read_body](beast::error_code ec, size_t) {
    if (ec) return self->close();
    read_body();
  });
}

void HttpSession::on_read(beast::error_code ec) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted ||
      ec == net::error::connection_reset || ec == net::error::eof)
    return close();
  route_ = "other";
  method_.clear();
  path_.clear();
  started_ = std::chrono::steady_clock::now();
  if (ec == http::error::body_limit) {
    keep_alive_ = false;  // the rest of the body is still on the wire
    busy_ = true;
    state_.busy.enter();
    return respond(error_reply(400, "invalid_request_error", "request_too_large",
                               fmt::format("request body exceeds the limit of {} bytes",
                                           state_.config.body_limit_bytes)));
  }
  if (ec) {
    if (buffer_.size() == 0 && parser_->get().method() == http::verb::unknown && !parser_->got_some()) return close();
    keep_alive_ = false;
    busy_ = true;
    state_.busy.enter();
    return respond(error_reply(400, "invalid_request_error", "bad_request",
                               fmt::format("malformed HTTP request: {}", ec.message())));
  }
  handle(parser_->release());
}

bool HttpSession::authorized(const StringRequest& request) const {
  const std::string& key = state_.config.api_key;
  if (key.empty()) return true;
  auto it = request.find(http::field::authorization);
  if (it == request.end()) return false;
  std::string_view value(it->value().data(), it->value().size());
  constexpr std::string_view kBearer = "Bearer ";
  if (value.size() < kBearer.size() || !beast::iequals(value.substr(0, kBearer.size()), kBearer)) return false;
  return constant_time_equal(value.substr(kBearer.size()), key);
}

void HttpSession::handle(StringRequest&& request) {
  version_ = request.version();
  keep_alive_ = request.keep_alive() && !state_.draining.load();
  busy_ = true;
  ++request_serial_;
  state_.busy.enter();
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view path = path_of(target);
  method_ = std::string(request.method_string());
  path_ = std::string(path.substr(0, 200));
  started_ = std::chrono::steady_clock::now();
  if (path != "/health" && !authorized(request)) {
    route_ = "unauthorized";
    keep_alive_ = false;
    return respond(error_reply(401, "invalid_request_error", "invalid_api_key",
                               "missing or wrong API key: send 'Authorization: Bearer <key>'"));
  }
  if (beast::websocket::is_upgrade(request)) {
    if (path != "/v1/responses" && path != "/responses") {
      route_ = "upgrade";
      keep_alive_ = false;
      return respond(error_reply(404, "invalid_request_error", "not_found",
                                 fmt::format("no WebSocket endpoint at {}", path)));
    }
    if (state_.draining.load()) {
      route_ = "/v1/responses";
      keep_alive_ = false;
      return respond(error_reply(503, "server_error", "shutting_down", "the server is shutting down"));
    }
    busy_ = false;
    state_.busy.leave();
    upgraded_ = true;
    stream_.expires_never();
    std::make_shared<WebsocketSession>(std::move(stream_), state_)->run(std::move(request), std::move(buffer_));
    return;
  }
  // A generation may take a while before its first write; writes arm their own timeouts.
  stream_.expires_never();
  route_request(state_, shared_from_this(), std::move(request));
}

void HttpSession::respond(StringResponse&& response) {
  if (!busy_ || sse_.active()) return;
  on_gone_ = nullptr;
  status_ = static_cast<int>(response.result_int());
  state_.metrics.record_request(route_, status_);
  response.version(version_);
  response.keep_alive(keep_alive_);
  response.prepare_payload();
  auto shared = std::make_shared<StringResponse>(std::move(response));
  stream_.expires_after(std::chrono::seconds(kWriteTimeoutS));
  http::async_write(stream_, *shared, [self = self(), shared](beast::error_code ec, size_t) {
    self->on_answered(!ec);
  });
}

void HttpSession::start_stream(std::string_view content_type) {
  if (!busy_ || sse_.active()) return;
  status_ = 200;
  state_.metrics.record_request(route_, 200);
  http::response<http::empty_body> header{http::status::ok, version_};
  header.set(http::field::server, "wafer");
  header.set(http::field::content_type, content_type);
  header.set(http::field::cache_control, "no-cache");
  header.keep_alive(keep_alive_);
  sse_.start(std::move(header), shared_from_this(), [self = self()](bool ok) { self->on_answered(ok); });
}

void HttpSession::stream(std::string data) { sse_.push(std::move(data)); }

void HttpSession::end_stream() { sse_.finish(); }

void HttpSession::on_answered(bool ok) {
  if (!ok) {
    // The client is gone mid-answer: let the generation know, then drop the connection.
    if (auto gone = std::move(on_gone_)) gone();
  }
  on_gone_ = nullptr;
  if (busy_) {
    busy_ = false;
    state_.busy.leave();
    // One line per answered request (generations also log their own request_finished line
    // with tokens and timings).
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
    state_.logger->info("event=http_request method={} path={} route={} status={} ms={:.1f} client_gone={}",
                        method_.empty() ? "-" : method_, path_.empty() ? "-" : path_, route_, status_, ms, !ok);
  }
  if (!ok || !keep_alive_ || state_.draining.load()) return close();
  do_read();
}

void HttpSession::watch_disconnect(std::function<void()> on_gone) {
  on_gone_ = std::move(on_gone);
  arm_disconnect_watch();
}

void HttpSession::arm_disconnect_watch() {
  const uint64_t serial = request_serial_;
  stream_.socket().async_wait(tcp::socket::wait_read, [self = self(), serial](beast::error_code ec) {
    if (serial != self->request_serial_ || !self->busy_ || !self->on_gone_) return;
    char byte = 0;
    beast::error_code peek_ec;
    size_t n = 0;
    if (!ec) n = self->stream_.socket().receive(net::buffer(&byte, 1), tcp::socket::message_peek, peek_ec);
    if (ec || peek_ec || n == 0) {
      if (auto gone = std::move(self->on_gone_)) gone();
      return;
    }
    // Bytes of a pipelined request: the client is still there; stop watching.
  });
}

void HttpSession::close() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.close();
}

}  // namespace wafer::server
