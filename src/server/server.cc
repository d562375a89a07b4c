// Server: wires the state, store thread, listener and network threads together; stop()
// drains running requests before the io_context goes away.
#include "server/server.h"

#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/thread_pool.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "server/listener.h"
#include "server/server_state.h"

namespace wafer::server {

struct Server::Impl {
  // Declared in destruction order's reverse: the io_context (and every session in it) goes
  // before the state the sessions point to.
  std::unique_ptr<ServerState> state;
  net::thread_pool store_pool{1};
  net::io_context ioc;
  std::shared_ptr<Listener> listener;
  std::vector<std::thread> threads;
  std::mutex stop_mutex;
  bool stopped = false;
};

Server::Server(std::unique_ptr<Impl> impl, uint16_t port) : impl_(std::move(impl)), port_(port) {}

Server::~Server() { stop(); }

std::string Server::url() const { return fmt::format("http://{}:{}", impl_->state->config.host, port_); }

Result<std::unique_ptr<Server>> Server::start(Engine& engine, ServerConfig config) {
  auto impl = std::make_unique<Impl>();
  if (!config.logger)
    config.logger = std::make_shared<spdlog::logger>("wafer", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  auto state = std::make_unique<ServerState>(engine, config);
  state->logger = config.logger;
  state->model_id = config.model_id.empty() ? engine.model_info().id : config.model_id;
  WAFER_ASSIGN_OR_RETURN(state->chat_format, detect_chat_format(engine.tokenizer()));
  if (!config.store_path.empty()) {
    WAFER_ASSIGN_OR_RETURN(state->store, ResponseStore::open(config.store_path));
  }
  state->store_executor = impl->store_pool.get_executor();
  impl->state = std::move(state);

  boost::system::error_code ec;
  const net::ip::address address = net::ip::make_address(config.host, ec);
  if (ec) return make_error(ErrorCode::kInvalidArgument, "--host {}: not an IP address ({})", config.host, ec.message());
  WAFER_ASSIGN_OR_RETURN(impl->listener,
                         Listener::bind(impl->ioc, net::ip::tcp::endpoint(address, config.port), *impl->state));
  const uint16_t port = impl->listener->port();
  impl->listener->run();
  const int threads = std::max(1, config.network_threads);
  for (int i = 0; i < threads; ++i) impl->threads.emplace_back([ioc = &impl->ioc] { ioc->run(); });
  return std::unique_ptr<Server>(new Server(std::move(impl), port));
}

void Server::stop() {
  std::lock_guard lock(impl_->stop_mutex);
  if (impl_->stopped) return;
  impl_->stopped = true;
  ServerState& state = *impl_->state;
  state.draining.store(true);
  impl_->listener->stop();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(state.config.drain_timeout_s);
  if (!state.busy.wait_idle_until(deadline)) {
    state.logger->warn("event=drain_timeout message=\"requests still running after {} s; cancelling them\"",
                       state.config.drain_timeout_s);
  }
  // Whatever still runs (an abandoned WebSocket lane, a drain timeout) is cancelled; the
  // engine reports cancellation at its next step.
  state.in_flight.cancel_all();
  if (!state.in_flight.wait_empty_until(std::chrono::steady_clock::now() + std::chrono::seconds(10)))
    state.logger->error("event=engine_not_done message=\"cancelled requests did not finish\"");
  impl_->ioc.stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
  // Engine events for requests still in flight are dropped from now on.
  state.gate->close();
  impl_->store_pool.join();
}

}  // namespace wafer::server
