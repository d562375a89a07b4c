// One HTTP/1.1 connection: reads requests (header and body limits, idle timeout), checks the
// API key, hands each request to the router and writes its answer, complete or streamed;
// keep-alive between requests; a WebSocket upgrade on /v1/responses moves the socket to a
// WebsocketSession. Every handler runs on the connection's strand.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "server/exchange.h"
#include "server/sse_writer.h"

namespace wafer::server {

struct ServerState;

class HttpSession final : public Exchange {
 public:
  HttpSession(boost::asio::ip::tcp::socket&& socket, ServerState& state);
  ~HttpSession() override;
  void run();

  // Exchange
  boost::asio::any_io_executor executor() override { return stream_.get_executor(); }
  void set_route(std::string_view route) override { route_ = std::string(route); }
  void respond(StringResponse&& response) override;
  void start_stream(std::string_view content_type) override;
  void stream(std::string data) override;
  void end_stream() override;
  void watch_disconnect(std::function<void()> on_gone) override;

 private:
  std::shared_ptr<HttpSession> self() { return std::static_pointer_cast<HttpSession>(shared_from_this()); }
  void do_read();
  void on_header(boost::beast::error_code ec);
  void on_read(boost::beast::error_code ec);
  void handle(StringRequest&& request);
  bool authorized(const StringRequest& request) const;
  void on_answered(bool ok);
  void arm_disconnect_watch();
  void close();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  ServerState& state_;
  SseWriter sse_;
  std::string route_;
  // The request being answered, for its log line: method and path, status, arrival.
  std::string method_, path_;
  int status_ = 0;
  std::chrono::steady_clock::time_point started_{};
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool busy_ = false;                 // a request is being answered
  uint64_t request_serial_ = 0;       // tells a stale disconnect wake-up from a live one
  std::function<void()> on_gone_;
  bool upgraded_ = false;
};

}  // namespace wafer::server
