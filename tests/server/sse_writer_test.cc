// SSE framing and SseWriter over a real socket pair: header, chunks in order, last chunk.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "server/sse_writer.h"

namespace wafer::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

TEST(SseFraming, EventAndDataLines) {
  EXPECT_EQ(sse_event("response.created", R"({"type":"response.created"})"),
            "event: response.created\ndata: {\"type\":\"response.created\"}\n\n");
  EXPECT_EQ(sse_data("[DONE]"), "data: [DONE]\n\n");
}

TEST(SseWriter, WritesAChunkedBodyInOrder) {
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(ioc);
  client.connect(acceptor.local_endpoint());
  beast::tcp_stream server(acceptor.accept());

  SseWriter writer(server, 10);
  bool finished_ok = false;
  int finished_calls = 0;
  http::response<http::empty_body> header{http::status::ok, 11};
  header.set(http::field::content_type, "text/event-stream");
  writer.start(std::move(header), std::make_shared<int>(0), [&](bool ok) {
    finished_ok = ok;
    ++finished_calls;
  });
  EXPECT_TRUE(writer.active());
  writer.push(sse_data("one"));
  writer.push(sse_data("two"));  // queued behind the header write
  writer.push("");               // nothing to send
  writer.finish();
  writer.push(sse_data("after finish"));  // ignored
  ioc.run();
  EXPECT_EQ(finished_calls, 1);
  EXPECT_TRUE(finished_ok);
  EXPECT_FALSE(writer.active());

  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(client, buffer, res);
  EXPECT_EQ(res[http::field::content_type], "text/event-stream");
  EXPECT_EQ(res.body(), "data: one\n\ndata: two\n\n");
}

TEST(SseWriter, ReportsAFailedWrite) {
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(ioc);
  client.connect(acceptor.local_endpoint());
  beast::tcp_stream server(acceptor.accept());
  server.socket().shutdown(tcp::socket::shutdown_send);  // every write now fails
  SseWriter writer(server, 10);
  int calls = 0;
  bool ok = true;
  writer.start(http::response<http::empty_body>{http::status::ok, 11}, std::make_shared<int>(0), [&](bool result) {
    ok = result;
    ++calls;
  });
  writer.push(sse_data("x"));
  writer.finish();
  ioc.run();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(ok);
}

}  // namespace
}  // namespace wafer::server
