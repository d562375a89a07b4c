// Accepts TCP connections and hands each to a new HttpSession (on its own strand).
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "base/result.h"

namespace wafer::server {

struct ServerState;

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Binds and listens; errors name the address.
  static Result<std::shared_ptr<Listener>> bind(boost::asio::io_context& ioc,
                                                const boost::asio::ip::tcp::endpoint& endpoint,
                                                ServerState& state);
  void run();   // starts accepting
  void stop();  // closes the acceptor (posted to its strand)
  uint16_t port() const { return port_; }

 private:
  Listener(boost::asio::io_context& ioc, ServerState& state);
  void do_accept();

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  ServerState& state_;
  uint16_t port_ = 0;
};

}  // namespace wafer::server
