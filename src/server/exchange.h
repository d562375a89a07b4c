// One HTTP request being answered, as route handlers see it (implemented by HttpSession).
// Call it only on executor() (the connection's strand). A request gets exactly one answer:
// respond(), or start_stream() + stream()... + end_stream().
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http.hpp>

namespace wafer::server {

namespace http = boost::beast::http;
using StringResponse = http::response<http::string_body>;
using StringRequest = http::request<http::string_body>;

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  virtual ~Exchange() = default;
  virtual boost::asio::any_io_executor executor() = 0;
  // The route label for metrics ("/v1/responses"), set by the router before answering.
  virtual void set_route(std::string_view route) = 0;
  // A complete answer. Version and keep-alive are filled in by the session.
  virtual void respond(StringResponse&& response) = 0;
  // 200, chunked, `content_type`; each stream() piece is sent at once.
  virtual void start_stream(std::string_view content_type) = 0;
  virtual void stream(std::string data) = 0;
  virtual void end_stream() = 0;
  // `on_gone` runs on the executor if the client goes away before the answer is complete.
  virtual void watch_disconnect(std::function<void()> on_gone) = 0;
};

}  // namespace wafer::server
