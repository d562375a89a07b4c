// The HTTP/WebSocket server: an io_context run by a few network threads, a listener, the
// response store and metrics, all over one Engine that the caller owns and keeps alive
// longer than the Server. Routes: /health, /metrics, /v1/models, /v1/codex/models,
// /v1/responses (HTTP, SSE, WebSocket), /v1/responses/{id}[/input_items],
// /v1/chat/completions, /v1/completions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "wafer/engine.h"

namespace spdlog {
class logger;
}

namespace wafer::server {

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;                     // 0: an ephemeral port (see Server::port())
  int network_threads = 2;
  std::string store_path;                   // SQLite file; empty: responses are not stored
  int64_t max_output_tokens = 0;            // cap on every response; 0: the context window
  std::string api_key;                      // empty: no Authorization check
  size_t body_limit_bytes = 32u << 20;      // larger request bodies get 413
  int idle_timeout_s = 300;                 // keep-alive / WebSocket idle limit
  int drain_timeout_s = 30;                 // stop(): how long running requests may finish
  std::string model_id;                     // empty: the engine's model id
  std::shared_ptr<spdlog::logger> logger;   // null: a stderr logger of its own
};

struct ServerState;
class Listener;

class Server {
 public:
  // Opens the store, binds host:port and starts the network threads. Errors: the address
  // is in use or invalid, the store cannot be opened, the model has no chat format.
  static Result<std::unique_ptr<Server>> start(Engine& engine, ServerConfig config);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const;  // http://host:port

  // Stops accepting, lets running requests finish (up to drain_timeout_s, then cancels
  // them), closes every connection and joins the network threads. Idempotent; any thread
  // but a network thread.
  void stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl, uint16_t port);
  std::unique_ptr<Impl> impl_;
  uint16_t port_;
};

}  // namespace wafer::server
