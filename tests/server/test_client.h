// A small blocking Beast client for the server tests: HTTP/1.1 requests over one keep-alive
// connection, server-sent-event parsing, and a WebSocket that reads one JSON frame at a time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

namespace wafer::server::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  boost::json::value json() const;             // the body parsed (null when not JSON)
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  explicit HttpClient(uint16_t port);
  HttpReply request(boost::beast::http::verb method, std::string_view target, std::string body = "",
                    const Headers& headers = {});
  HttpReply get(std::string_view target, const Headers& headers = {}) {
    return request(boost::beast::http::verb::get, target, "", headers);
  }
  HttpReply post(std::string_view target, std::string body, const Headers& headers = {}) {
    return request(boost::beast::http::verb::post, target, std::move(body), headers);
  }
  // Sends a POST and reads only the header and the first body bytes of a streamed answer.
  std::string post_and_read_some(std::string_view target, std::string body);
  // Sends raw bytes and returns whatever comes back until the server closes.
  std::string raw_exchange(std::string_view bytes);
  void close();

 private:
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
};

struct SseEvent {
  std::string event;  // the `event:` line, empty when absent
  std::string data;
  boost::json::value json() const;
};
std::vector<SseEvent> parse_sse(std::string_view body);

class WsClient {
 public:
  // Throws (test failure) when the upgrade is refused.
  WsClient(uint16_t port, const Headers& headers = {}, bool deflate = false);
  void send(const boost::json::value& message);
  void send_text(std::string_view text);
  boost::json::object read();  // the next frame, parsed
  // Frames up to and including the first terminal one (response.completed / .incomplete /
  // .failed, or error).
  std::vector<boost::json::object> read_until_terminal();
  // The same, also stopping at response.steer.failed.
  std::vector<boost::json::object> read_until_terminal_or_steer();
  void close();

 private:
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
};

// Tries a WebSocket upgrade and returns the HTTP status of the refusal (101 when accepted).
int ws_upgrade_status(uint16_t port, const Headers& headers);

std::string json_string(const boost::json::value& value, std::string_view key);  // "" when absent

}  // namespace wafer::server::testing
