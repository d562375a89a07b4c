// Blocking test client: every call runs to completion on its own io_context.
#include "test_client.h"

#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

namespace wafer::server::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;

namespace {

tcp::endpoint loopback(uint16_t port) { return tcp::endpoint(net::ip::make_address("127.0.0.1"), port); }

json::value parse_or_null(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(nullptr) : v;
}

}  // namespace

json::value HttpReply::json() const { return parse_or_null(body); }
json::value SseEvent::json() const { return parse_or_null(data); }

std::string json_string(const json::value& value, std::string_view key) {
  if (!value.is_object()) return "";
  const json::value* v = value.as_object().if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

HttpClient::HttpClient(uint16_t port) : stream_(ioc_) { stream_.connect(loopback(port)); }

HttpReply HttpClient::request(http::verb method, std::string_view target, std::string body, const Headers& headers) {
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = std::move(body);
  req.prepare_payload();
  http::write(stream_, req);
  http::response_parser<http::string_body> parser;
  parser.body_limit(1u << 30);
  http::read(stream_, buffer_, parser);
  const auto& res = parser.get();
  HttpReply reply;
  reply.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[name] = std::string(field.value());
  }
  reply.body = res.body();
  return reply;
}

std::string HttpClient::post_and_read_some(std::string_view target, std::string body) {
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  http::write(stream_, req);
  parser_.emplace();
  http::read_header(stream_, buffer_, *parser_);
  // The raw (chunked) body bytes up to the end of the first event.
  std::string out = beast::buffers_to_string(buffer_.cdata());
  buffer_.consume(buffer_.size());
  char chunk[512];
  while (out.find("\n\n") == std::string::npos) {
    const size_t n = stream_.socket().read_some(net::buffer(chunk));
    out.append(chunk, n);
  }
  return out;
}

std::string HttpClient::raw_exchange(std::string_view bytes) {
  net::write(stream_.socket(), net::buffer(bytes));
  std::string out;
  char chunk[4096];
  for (;;) {
    boost::system::error_code ec;
    const size_t n = stream_.socket().read_some(net::buffer(chunk), ec);
    out.append(chunk, n);
    if (ec) break;
  }
  return out;
}

void HttpClient::close() {
  boost::system::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

std::vector<SseEvent> parse_sse(std::string_view body) {
  std::vector<SseEvent> events;
  SseEvent current;
  bool any = false;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view line = body.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) {
      if (any) events.push_back(current);
      current = SseEvent();
      any = false;
    } else if (line.starts_with("event: ")) {
      current.event = std::string(line.substr(7));
      any = true;
    } else if (line.starts_with("data: ")) {
      current.data += std::string(line.substr(6));
      any = true;
    }
  }
  if (any) events.push_back(current);
  return events;
}

WsClient::WsClient(uint16_t port, const Headers& headers, bool deflate) : ws_(ioc_) {
  beast::get_lowest_layer(ws_).connect(loopback(port));
  if (deflate) {
    websocket::permessage_deflate pmd;
    pmd.client_enable = true;
    ws_.set_option(pmd);
  }
  ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [name, value] : headers) req.set(name, value);
  }));
  ws_.handshake("127.0.0.1", "/v1/responses");
}

void WsClient::send(const json::value& message) { send_text(json::serialize(message)); }

void WsClient::send_text(std::string_view text) {
  ws_.text(true);
  ws_.write(net::buffer(text));
}

json::object WsClient::read() {
  beast::flat_buffer buffer;
  ws_.read(buffer);
  const json::value v = parse_or_null(beast::buffers_to_string(buffer.cdata()));
  if (!v.is_object()) throw std::runtime_error("a WebSocket frame is not a JSON object");
  return v.as_object();
}

std::vector<json::object> WsClient::read_until_terminal() {
  std::vector<json::object> frames;
  for (;;) {
    frames.push_back(read());
    const std::string type = json_string(frames.back(), "type");
    if (type == "response.completed" || type == "response.incomplete" || type == "response.failed" ||
        type == "error")
      return frames;
  }
}

std::vector<json::object> WsClient::read_until_terminal_or_steer() {
  std::vector<json::object> frames;
  for (;;) {
    frames.push_back(read());
    const std::string type = json_string(frames.back(), "type");
    if (type == "response.completed" || type == "response.incomplete" || type == "response.failed" ||
        type == "error" || type == "response.steer.failed")
      return frames;
  }
}

void WsClient::close() { ws_.close(websocket::close_code::normal); }

int ws_upgrade_status(uint16_t port, const Headers& headers) {
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws(ioc);
  beast::get_lowest_layer(ws).connect(loopback(port));
  ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [name, value] : headers) req.set(name, value);
  }));
  websocket::response_type res;
  boost::system::error_code ec;
  ws.handshake(res, "127.0.0.1", "/v1/responses", ec);
  return static_cast<int>(res.result_int());
}

}  // namespace wafer::server::testing
