// The clients `wafer bench agent` drives a server with: a keep-alive HTTP connection that
// reads server-sent events as they arrive, and a WebSocket that sends `response.create`
// messages; both timestamp every output text delta and the terminal event against the
// moment the request was written.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

namespace wafer::apps {

struct Endpoint {
  std::string host = "127.0.0.1";
  std::string port = "8080";
};
// "http://host:port" (a trailing slash or path is ignored); false when it is not one.
bool parse_url(const std::string& url, Endpoint* out);

// One streamed response as the client saw it. Times in ms from writing the request.
struct StreamedResponse {
  double first_delta_ms = -1;   // the first response.output_text.delta
  double last_delta_ms = -1;
  int64_t deltas = 0;
  double total_ms = 0;          // the terminal event (response.completed / incomplete / failed)
  boost::json::object response; // that event's `response`
  std::string error;            // set when the request failed
};

class HttpConnection {
 public:
  explicit HttpConnection(const Endpoint& endpoint);
  // POSTs a JSON body with stream:true and reads its events as they come.
  StreamedResponse post_stream(const std::string& target, const std::string& body);
  std::string get(const std::string& target);  // the body ("" on failure)

 private:
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  Endpoint endpoint_;
};

class WsConnection {
 public:
  explicit WsConnection(const Endpoint& endpoint);  // upgrades GET /v1/responses
  ~WsConnection();
  // Sends one response.create message and reads frames up to its terminal event.
  StreamedResponse create(const boost::json::object& message);

 private:
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
};

// The server's Prometheus counters and gauges (unlabelled ones), by name.
std::map<std::string, double> scrape_metrics(HttpConnection& http);

}  // namespace wafer::apps
