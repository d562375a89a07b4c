// SseWriter: header first, then one chunk per write; the last chunk closes the body.
#include "server/sse_writer.h"

#include <chrono>

#include <boost/asio/write.hpp>

namespace wafer::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

std::string sse_event(std::string_view type, std::string_view json) {
  std::string out;
  out.reserve(type.size() + json.size() + 16);
  out.append("event: ").append(type).append("\ndata: ").append(json).append("\n\n");
  return out;
}

std::string sse_data(std::string_view json) {
  std::string out;
  out.reserve(json.size() + 8);
  out.append("data: ").append(json).append("\n\n");
  return out;
}

void SseWriter::start(http::response<http::empty_body> header, std::shared_ptr<void> owner,
                      Finished finished) {
  header_.emplace(std::move(header));
  header_->chunked(true);
  serializer_.emplace(*header_);
  owner_ = std::move(owner);
  finished_ = std::move(finished);
  in_flight_ = true;
  stream_.expires_after(std::chrono::seconds(write_timeout_s_));
  http::async_write_header(stream_, *serializer_,
                           [this, keep = owner_](beast::error_code ec, size_t) { on_written(ec); });
}

void SseWriter::push(std::string data) {
  if (!active() || finishing_ || data.empty()) return;
  queued_ += data;
  if (!in_flight_) write_next();
}

void SseWriter::finish() {
  if (!active() || finishing_) return;
  finishing_ = true;
  if (!in_flight_) write_next();
}

void SseWriter::write_next() {
  in_flight_ = true;
  stream_.expires_after(std::chrono::seconds(write_timeout_s_));
  auto handler = [this, keep = owner_](beast::error_code ec, size_t) { on_written(ec); };
  if (!queued_.empty()) {
    writing_ = std::move(queued_);
    queued_.clear();
    net::async_write(stream_, http::make_chunk(net::buffer(writing_)), std::move(handler));
  } else {
    last_chunk_ = true;
    net::async_write(stream_, http::make_chunk_last(), std::move(handler));
  }
}

void SseWriter::on_written(beast::error_code ec) {
  in_flight_ = false;
  if (ec) return done(false);
  if (last_chunk_) return done(true);
  if (!queued_.empty() || finishing_) write_next();
}

void SseWriter::done(bool ok) {
  if (!owner_) return;
  Finished finished = std::move(finished_);
  std::shared_ptr<void> keep = std::move(owner_);
  serializer_.reset();
  header_.reset();
  queued_.clear();
  writing_.clear();
  finishing_ = false;
  last_chunk_ = false;
  if (finished) finished(ok);
}

}  // namespace wafer::server
