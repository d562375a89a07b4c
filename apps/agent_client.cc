// Blocking Beast clients for the agent benchmark. HTTP bodies are read through a small
// buffer so each server-sent event is timestamped when its bytes arrive, not when the
// response ends.
#include "apps/agent_client.h"

#include <chrono>
#include <sstream>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <fmt/core.h>

namespace wafer::apps {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

bool is_terminal(std::string_view type) {
  return type == "response.completed" || type == "response.incomplete" || type == "response.failed" ||
         type == "error";
}

// Folds one event (parsed JSON) into `out`; true when it ends the response.
bool take_event(const json::object& event, double at_ms, StreamedResponse* out) {
  const json::value* type = event.if_contains("type");
  const std::string_view t = type != nullptr && type->is_string() ? std::string_view(type->get_string()) : "";
  if (t == "response.output_text.delta") {
    if (out->deltas++ == 0) out->first_delta_ms = at_ms;
    out->last_delta_ms = at_ms;
    return false;
  }
  if (!is_terminal(t)) return false;
  out->total_ms = at_ms;
  if (t == "error") {
    out->error = json::serialize(event);
  } else if (const json::value* r = event.if_contains("response"); r != nullptr && r->is_object()) {
    out->response = r->get_object();
    if (t == "response.failed") out->error = json::serialize(*r);
  }
  return true;
}

}  // namespace

bool parse_url(const std::string& url, Endpoint* out) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  else if (rest.find("://") != std::string::npos) return false;
  rest = rest.substr(0, rest.find('/'));
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) {
    out->host = rest;
    out->port = "80";
  } else {
    out->host = rest.substr(0, colon);
    out->port = rest.substr(colon + 1);
  }
  return !out->host.empty() && !out->port.empty() && out->port.find_first_not_of("0123456789") == std::string::npos;
}

HttpConnection::HttpConnection(const Endpoint& endpoint) : stream_(ioc_), endpoint_(endpoint) {
  tcp::resolver resolver(ioc_);
  stream_.connect(resolver.resolve(endpoint.host, endpoint.port));
  stream_.socket().set_option(tcp::no_delay(true));
}

StreamedResponse HttpConnection::post_stream(const std::string& target, const std::string& body) {
  StreamedResponse out;
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, endpoint_.host);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "text/event-stream");
  req.body() = body;
  req.prepare_payload();
  const Clock::time_point t0 = Clock::now();
  beast::error_code ec;
  http::write(stream_, req, ec);
  if (ec) {
    out.error = "writing the request: " + ec.message();
    return out;
  }
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  http::read_header(stream_, buffer_, parser, ec);
  if (ec) {
    out.error = "reading the response header: " + ec.message();
    return out;
  }
  const int status = static_cast<int>(parser.get().result_int());
  std::string pending;
  char chunk[16384];
  bool done = false;
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    http::read_some(stream_, buffer_, parser, ec);  // returns with what has arrived
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      out.error = "reading the response body: " + ec.message();
      return out;
    }
    pending.append(chunk, sizeof chunk - parser.get().body().size);
    if (status != 200) continue;
    const double at = ms_since(t0);
    for (size_t end; !done && (end = pending.find("\n\n")) != std::string::npos;) {
      const std::string block = pending.substr(0, end);
      pending.erase(0, end + 2);
      std::istringstream lines(block);
      std::string line, data;
      while (std::getline(lines, line))
        if (line.rfind("data: ", 0) == 0) data += line.substr(6);
      if (data.empty() || data == "[DONE]") continue;
      boost::system::error_code jec;
      json::value v = json::parse(data, jec);
      if (!jec && v.is_object()) done = take_event(v.get_object(), at, &out);
    }
  }
  if (status != 200) out.error = fmt::format("HTTP {}: {}", status, pending);
  else if (!done) out.error = "the stream ended without a terminal event";
  return out;
}

std::string HttpConnection::get(const std::string& target) {
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, endpoint_.host);
  beast::error_code ec;
  http::write(stream_, req, ec);
  if (ec) return {};
  http::response<http::string_body> res;
  http::read(stream_, buffer_, res, ec);
  return ec ? std::string() : res.body();
}

WsConnection::WsConnection(const Endpoint& endpoint) : ws_(ioc_) {
  tcp::resolver resolver(ioc_);
  beast::get_lowest_layer(ws_).connect(resolver.resolve(endpoint.host, endpoint.port));
  beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true));
  ws_.handshake(endpoint.host + ":" + endpoint.port, "/v1/responses");
  ws_.text(true);
}

WsConnection::~WsConnection() {
  beast::error_code ec;
  ws_.close(beast::websocket::close_code::normal, ec);
}

StreamedResponse WsConnection::create(const json::object& message) {
  StreamedResponse out;
  const std::string text = json::serialize(message);
  const Clock::time_point t0 = Clock::now();
  beast::error_code ec;
  ws_.write(boost::asio::buffer(text), ec);
  if (ec) {
    out.error = "writing the message: " + ec.message();
    return out;
  }
  for (;;) {
    beast::flat_buffer frame;
    ws_.read(frame, ec);
    if (ec) {
      out.error = "reading a frame: " + ec.message();
      return out;
    }
    const double at = ms_since(t0);
    boost::system::error_code jec;
    json::value v = json::parse(beast::buffers_to_string(frame.data()), jec);
    if (!jec && v.is_object() && take_event(v.get_object(), at, &out)) return out;
  }
}

std::map<std::string, double> scrape_metrics(HttpConnection& http) {
  std::map<std::string, double> out;
  std::istringstream lines(http.get("/metrics"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#' || line.find('{') != std::string::npos) continue;
    const size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    try {
      out[line.substr(0, space)] = std::stod(line.substr(space + 1));
    } catch (const std::exception&) {
    }
  }
  return out;
}

}  // namespace wafer::apps
