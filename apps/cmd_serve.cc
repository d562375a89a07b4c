// `wafer serve`: load a model into an engine and serve the OpenAI-compatible API (Responses
// over HTTP/SSE and WebSocket, Chat Completions, Completions) until SIGINT or SIGTERM, then
// drain running requests and stop.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/core.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "apps/commands.h"
#include "server/server.h"
#include "server/store.h"
#include "wafer/engine.h"

namespace wafer::apps {
namespace {

struct ServeFlags {
  std::string model_path;
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 0;
  int network_threads = 2;
  std::string store_path;
  bool no_store = false;
  int64_t max_output_tokens = 0;
  std::string api_key;
  int64_t ctx_size = 0;
  int max_pending = 8;
  int spec_k = 8;
  bool no_prompt_lookup = false;
  int64_t kv_cache_mb = 1024;
  std::string draft_path;
};

int serve(ServeFlags f) {
  if (f.model_path.empty()) {
    if (const char* env = std::getenv("WAFER_MODEL"); env != nullptr) f.model_path = env;
  }
  if (f.model_path.empty()) return user_error("serve: no model: pass -m MODEL.gguf (or set WAFER_MODEL)");
  if (f.api_key.empty()) {
    if (const char* env = std::getenv("WAFER_API_KEY"); env != nullptr) f.api_key = env;
  }
  // Signals are taken by sigwait below, so every thread started from here on blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  EngineConfig engine_config;
  engine_config.model_path = f.model_path;
  engine_config.threads = f.threads;
  engine_config.ctx_size = f.ctx_size;
  engine_config.max_pending = f.max_pending;
  engine_config.speculative_k = f.spec_k;
  engine_config.prompt_lookup = !f.no_prompt_lookup;
  engine_config.prefix_cache_mb = f.kv_cache_mb;
  engine_config.draft_model_path = f.draft_path;
  engine_config.prefix_reuse = f.kv_cache_mb > 0;
  auto engine = Engine::create(engine_config);
  if (!engine) return user_error(engine.error().message);

  auto logger = spdlog::stderr_color_mt("wafer");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  server::ServerConfig config;
  config.host = f.host;
  config.port = static_cast<uint16_t>(f.port);
  config.network_threads = f.network_threads;
  config.store_path = f.no_store ? std::string() : (f.store_path.empty() ? server::default_store_path() : f.store_path);
  config.max_output_tokens = f.max_output_tokens;
  config.api_key = f.api_key;
  config.logger = logger;
  auto server = server::Server::start(**engine, config);
  if (!server) return user_error(server.error().message);
  fmt::print("wafer: listening on {} (model {}, context {} tokens{})\n", (*server)->url(),
             (*engine)->model_info().id, (*engine)->model_info().context_length,
             config.store_path.empty() ? ", no store" : ", store " + config.store_path);
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  logger->info("event=shutdown signal={} message=\"draining running requests\"", signal_number);
  (*server)->stop();
  (*engine)->shutdown();
  return 0;
}

}  // namespace

Command add_serve_command(CLI::App& app) {
  auto f = std::make_shared<ServeFlags>();
  app.add_option("-m,--model", f->model_path, "GGUF model file (default: $WAFER_MODEL)");
  app.add_option("--host", f->host, "address to listen on (default 127.0.0.1)");
  app.add_option("--port", f->port, "port to listen on (default 8080; 0 picks a free one)")->check(CLI::Range(0, 65535));
  app.add_option("-t,--threads", f->threads, "compute threads (default: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--network-threads", f->network_threads, "threads serving connections (default 2)")->check(CLI::Range(1, 64));
  app.add_option("--store", f->store_path,
                 "SQLite file for stored responses (default $XDG_DATA_HOME/wafer/responses.db or "
                 "~/.local/share/wafer/responses.db)");
  app.add_flag("--no-store", f->no_store, "keep no responses (store:true is ignored; previous_response_id works over WebSocket only)");
  app.add_option("--max-output-tokens", f->max_output_tokens, "cap on every response's output tokens (default: the context window)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--api-key", f->api_key, "require 'Authorization: Bearer KEY' (default: $WAFER_API_KEY; none if unset)");
  app.add_option("-c,--ctx-size", f->ctx_size, "context size per sequence (default: the model's)")->check(CLI::NonNegativeNumber);
  app.add_option("--max-pending", f->max_pending, "requests queued or running before 429 (default 8)")->check(CLI::Range(1, 1024));
  app.add_option("--spec-k", f->spec_k, "speculative decoding: drafted tokens verified per step (default 8; 0: off)")
      ->check(CLI::Range(0, 16));
  app.add_option("--kv-cache-mb", f->kv_cache_mb,
                 "shared prefix cache: MiB of finished requests' KV kept for later requests that start the same way "
                 "(default 1024; 0: off, and HTTP requests without prompt_cache_key recompute their whole prompt)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  app.add_option("--draft", f->draft_path,
                 "a smaller model with the same tokenizer drafting for speculative decoding where the prediction "
                 "and prompt lookup have nothing");
  app.add_flag("--no-prompt-lookup", f->no_prompt_lookup,
               "draft only from a request's prediction, not from n-grams of the context");
  return [f] { return serve(*f); };
}

}  // namespace wafer::apps
