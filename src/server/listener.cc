// Listener: the acceptor loop of Beast's examples; each connection gets its own strand.
#include "server/listener.h"

#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include "server/http_session.h"
#include "server/server_state.h"

namespace wafer::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Listener::Listener(net::io_context& ioc, ServerState& state)
    : ioc_(ioc), acceptor_(net::make_strand(ioc)), state_(state) {}

Result<std::shared_ptr<Listener>> Listener::bind(net::io_context& ioc, const tcp::endpoint& endpoint,
                                                 ServerState& state) {
  std::shared_ptr<Listener> listener(new Listener(ioc, state));
  boost::system::error_code ec;
  auto fail = [&](const char* what) {
    return make_error(ErrorCode::kIo, "cannot listen on {}:{}: {}: {}", endpoint.address().to_string(),
                      endpoint.port(), what, ec.message());
  };
  tcp::acceptor& a = listener->acceptor_;
  if (a.open(endpoint.protocol(), ec)) return fail("open");
  if (a.set_option(net::socket_base::reuse_address(true), ec)) return fail("reuse_address");
  if (a.bind(endpoint, ec)) return fail("bind");
  if (a.listen(net::socket_base::max_listen_connections, ec)) return fail("listen");
  listener->port_ = a.local_endpoint(ec).port();
  if (ec) return fail("local_endpoint");
  return listener;
}

void Listener::run() { do_accept(); }

void Listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
  });
}

void Listener::do_accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [self = shared_from_this()](boost::system::error_code ec,
                                                                             tcp::socket socket) {
    if (ec == net::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (!ec) {
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<HttpSession>(std::move(socket), self->state_)->run();
    } else {
      // Out of descriptors and the like: keep accepting; the peer sees a reset.
      self->state_.logger->warn("event=accept_failed error=\"{}\"", ec.message());
    }
    self->do_accept();
  });
}

}  // namespace wafer::server
