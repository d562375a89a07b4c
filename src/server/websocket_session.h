// The Responses API over one WebSocket (protocol.md section 3): response.create messages run
// FIFO per stream_id lane (lanes run concurrently), every event echoes its lane's stream_id,
// generate:false warms the lane's KV slot, previous_response_id continues from responses
// remembered by this connection (or stored), response.steer is declined. Closing the socket
// cancels what runs and releases the connection's KV slots. Handlers run on its strand.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "api/errors.h"
#include "api/responses.h"
#include "server/exchange.h"

namespace wafer::server {

struct ServerState;
struct ResponseOutcome;
class ResponseRun;

class WebsocketSession : public std::enable_shared_from_this<WebsocketSession> {
 public:
  WebsocketSession(boost::beast::tcp_stream&& stream, ServerState& state);
  ~WebsocketSession();
  // Completes the upgrade the HTTP session read.
  void run(StringRequest request, boost::beast::flat_buffer leftover);

 private:
  struct Lane {
    std::deque<api::ResponsesRequest> queue;
    std::shared_ptr<ResponseRun> running;
    bool busy = false;  // resolving history or running
  };
  struct Remembered {
    std::vector<api::ResponseItem> input;
    std::vector<api::ResponseItem> output;
  };

  void on_accept(boost::beast::error_code ec);
  void do_read();
  void on_read(boost::beast::error_code ec);
  void handle_message(std::string_view text);
  void pump(const std::string& lane_id);
  void start_run(const std::string& lane_id, api::ResponsesRequest request, std::vector<api::ResponseItem> history);
  void on_run_done(const std::string& lane_id, ResponseOutcome&& outcome);
  void lane_error(const std::string& lane_id, const api::ApiError& error);
  void remember(ResponseOutcome&& outcome);
  std::string slot_name(const std::string& lane_id) const;
  void send(std::string frame);
  void write_next();
  void shut_down();

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  ServerState& state_;
  uint64_t connection_id_;
  boost::beast::flat_buffer read_buffer_;
  std::deque<std::string> write_queue_;
  std::string writing_frame_;  // owned by the write in flight
  bool writing_ = false;
  bool closed_ = false;
  int64_t responses_done_ = 0;  // for the close log line
  std::map<std::string, Lane> lanes_;  // by stream_id ("" is the default lane)
  std::unordered_map<std::string, std::shared_ptr<const Remembered>> remembered_;
  std::deque<std::string> remembered_order_;  // oldest first, for eviction
};

}  // namespace wafer::server
