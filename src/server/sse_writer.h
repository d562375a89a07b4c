// The body of a streamed HTTP answer (server-sent events), written as HTTP/1.1 chunks: each
// piece goes out as soon as it is queued; pieces queued while a write is in flight go out
// together in the next chunk. Not thread-safe: use on the connection's strand.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace wafer::server {

// `event: <type>\ndata: <json>\n\n` (Responses API).
std::string sse_event(std::string_view type, std::string_view json);
// `data: <json>\n\n` (Chat and legacy Completions; `[DONE]` ends those).
std::string sse_data(std::string_view json);

class SseWriter {
 public:
  // Called once, when the last chunk is written (ok) or a write failed (client gone).
  using Finished = std::function<void(bool ok)>;

  SseWriter(boost::beast::tcp_stream& stream, int write_timeout_s)
      : stream_(stream), write_timeout_s_(write_timeout_s) {}

  // Sends the header; `owner` is kept alive by every pending write.
  void start(boost::beast::http::response<boost::beast::http::empty_body> header,
             std::shared_ptr<void> owner, Finished finished);
  void push(std::string data);
  void finish();  // the terminating chunk after everything queued
  bool active() const { return owner_ != nullptr; }

 private:
  void write_next();
  void on_written(boost::beast::error_code ec);
  void done(bool ok);

  boost::beast::tcp_stream& stream_;
  int write_timeout_s_;
  std::optional<boost::beast::http::response<boost::beast::http::empty_body>> header_;
  std::optional<boost::beast::http::response_serializer<boost::beast::http::empty_body>> serializer_;
  std::shared_ptr<void> owner_;
  Finished finished_;
  std::string queued_;    // waiting for the next write
  std::string writing_;   // owned by the write in flight
  bool in_flight_ = false;
  bool finishing_ = false;     // finish() was called
  bool last_chunk_ = false;    // the write in flight is the terminating chunk
};

}  // namespace wafer::server
